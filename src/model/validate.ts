import type { z } from 'zod';

/** Control characters (C0, DEL, C1) and the bidirectional overrides that can disguise text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** True when `text` holds a control character or a bidirectional override. */
export const hasUnsafeCharacters = (text: string): boolean => new RegExp(UNSAFE.source).test(text);

/** One line of text: no control character (newline included) and no bidi override. */
export const oneLine = <S extends z.ZodString>(s: S) =>
  s.refine((t) => !hasUnsafeCharacters(t), 'one line of text without control characters');

/** Text safe for an error, a log line or a terminal: no control characters, at most `max` characters. */
export function clean(text: string, max = 300): string {
  const plain = text.replace(UNSAFE, '');
  return plain.length > max ? `${plain.slice(0, max)}…` : plain;
}

/** A value as an error quotes it: JSON-quoted, cleaned and cut, e.g. `"../../etc/pa…"`. */
export function quote(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `"${clean(text, max).replace(/["\\]/g, '\\$&')}"`;
}

/** Render a path like `cluster.hosts[2].roles[0]`; a key that is not a plain word is quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z0-9_$@.-]{1,64}$/.test(String(part))) out += `[${quote(String(part))}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(input)' : out;
}

/** At most this many problems are listed; the rest are counted. */
const MAX_PROBLEMS = 20;

/**
 * One line per problem: `<path>: <message>`, every bad field named, each unknown key on a line of
 * its own with its full path (and, from `hints`, where a well-known misplaced field belongs). Every
 * line is cleaned: an error never echoes control characters or an unbounded value.
 */
export function describeIssues(error: z.ZodError, hints: Readonly<Record<string, string>> = {}): string[] {
  const lines = error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => {
        const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
        return `${formatPath([...issue.path, key])}: unknown field${hint ? `: ${hint}` : ''}`;
      });
    return [`${formatPath(issue.path)}: ${issue.message}`];
  });
  const shown = lines.slice(0, MAX_PROBLEMS).map((l) => clean(l, 400));
  if (lines.length > MAX_PROBLEMS) shown.push(`… and ${lines.length - MAX_PROBLEMS} more problems`);
  return shown;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Validate untrusted input (Web UI JSON, CLI file, chat command) against a schema. */
export function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  hints?: Readonly<Record<string, string>>,
): Checked<z.output<S>> {
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: describeIssues(result.error, hints) };
}
