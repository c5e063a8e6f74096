// Worker logs, one line per record on stdout: readable text on a terminal, JSON for everything
// else (files, pipes, journald, log collectors). Both carry the run's ids, cluster and step when the
// SDK or our interceptors know them, and never a secret value.
import type { LogMetadata } from '@temporalio/common';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { type Env, processEnv } from './config/env';
import { logFormat, logLevel } from './config/worker';
import { redactSecrets } from './secrets';

/** Fields whose values are secrets by name, whatever they contain. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|private.?key|api.?key|cookie/i;

function redactFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // References (env:NAME, file:/path) are safe and useful; anything else under a secret name is not.
    const isRef = typeof v === 'string' && /^(env|file):/.test(v);
    out[k] = SECRET_KEY.test(k) && !isRef ? '[redacted]' : redactFields(v, depth + 1);
  }
  return out;
}

/** The entry's metadata, errors reduced to their name and message (no stack, no attached objects). */
function metaFields(meta: LogMetadata | undefined, errorAs: 'object' | 'text'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta ?? {}))
    out[k] =
      v instanceof Error
        ? errorAs === 'text'
          ? `${v.name}: ${v.message}`
          : { name: v.name, message: v.message }
        : v;
  return redactFields(out) as Record<string, unknown>;
}

const isoTime = (entry: LogEntry) => new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
const bigintAsString = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** One JSON line for a log entry; `time` is ISO 8601, the SDK's metadata keys are kept as they are. */
export function formatLogEntry(entry: LogEntry): string {
  const record = {
    time: isoTime(entry),
    level: entry.level,
    msg: redactSecrets(entry.message),
    ...metaFields(entry.meta, 'object'),
  };
  return redactSecrets(JSON.stringify(record, bigintAsString));
}

/** `2026-11-30T23:05:01Z INFO  run started  runbook=upgrade cluster=lab workflowId=lab/upgrade` */
export function formatLogText(entry: LogEntry): string {
  const time = isoTime(entry).replace(/\.\d{3}Z$/, 'Z');
  // One line per record: a multi-line message (the bundler's report) keeps its first line here.
  const [first = '', ...more] = redactSecrets(entry.message).trimEnd().split('\n');
  const msg = more.length
    ? `${first} (+${more.length} more line${more.length === 1 ? '' : 's'}: WABA_LOG_FORMAT=json shows all)`
    : first;
  const fields = Object.entries(metaFields(entry.meta, 'text'))
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  const line = `${time} ${entry.level.padEnd(5)} ${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  return redactSecrets(line);
}

/** Strings bare unless they have spaces, quotes or `=`; anything else as compact JSON. */
function textValue(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value, bigintAsString) ?? String(value);
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

/** The Runtime's logger: one line per record on stdout, in the format logFormat chooses. */
export function createLogger(
  env: Env = processEnv(),
  isTTY: boolean = Boolean(process.stdout.isTTY),
): DefaultLogger {
  const level = logLevel(env);
  const format = logFormat(env, isTTY) === 'text' ? formatLogText : formatLogEntry;
  return new DefaultLogger(level, (entry) => {
    process.stdout.write(`${format(entry)}\n`);
  });
}
