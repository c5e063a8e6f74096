import type { z } from 'zod';

/** Render a path like `cluster.hosts[2].roles[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(input)' : out;
}

/** One line per problem: `<path>: <message>`, every bad field named. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Validate untrusted input (Web UI JSON, CLI file, chat command) against a schema. */
export function check<S extends z.ZodType>(schema: S, input: unknown): Checked<z.output<S>> {
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: describeIssues(result.error) };
}
