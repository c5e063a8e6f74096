// Structured JSON logs for the worker: one object per line, with the run's ids, cluster and step
// when the SDK or our interceptors know them, and never a secret value.
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { redactSecrets } from './secrets';

/** Fields whose values are secrets by name, whatever they contain. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|private.?key|api.?key|cookie/i;

function redactFields(value: unknown, depth = 0): unknown {
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

function errorFields(meta: LogMetadata | undefined): LogMetadata | undefined {
  if (!meta) return meta;
  const out: LogMetadata = { ...meta };
  for (const [k, v] of Object.entries(meta))
    if (v instanceof Error) out[k] = { name: v.name, message: v.message };
  return out;
}

/** One JSON line for a log entry; `time` is ISO 8601, the SDK's metadata keys are kept as they are. */
export function formatLogEntry(entry: LogEntry): string {
  const record = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    msg: entry.message,
    ...(redactFields(errorFields(entry.meta)) as Record<string, unknown>),
  };
  const line = JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return redactSecrets(line);
}

/** The Runtime's logger: JSON lines on stdout (`WABA_LOG_FORMAT=text` for the SDK's own format). */
export function createLogger(env: NodeJS.ProcessEnv = process.env): DefaultLogger {
  const level = (env.WABA_LOG_LEVEL?.toUpperCase() || 'INFO') as LogLevel;
  if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level))
    throw new Error(`WABA_LOG_LEVEL=${env.WABA_LOG_LEVEL}: expected TRACE, DEBUG, INFO, WARN or ERROR`);
  if (env.WABA_LOG_FORMAT === 'text') return new DefaultLogger(level);
  if (env.WABA_LOG_FORMAT && env.WABA_LOG_FORMAT !== 'json')
    throw new Error(`WABA_LOG_FORMAT=${env.WABA_LOG_FORMAT}: expected json or text`);
  return new DefaultLogger(level, (entry) => {
    process.stdout.write(`${formatLogEntry(entry)}\n`);
  });
}
