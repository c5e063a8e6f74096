// The worker's own settings: its logs (WABA_LOG_LEVEL, WABA_LOG_FORMAT) and its Prometheus endpoint
// (WABA_METRICS_ADDRESS). Its task queue is a Temporal setting (temporal.ts), its directories are in
// paths.ts.
import type { LogLevel } from '@temporalio/common';
import { type Env, isPort, setting } from './env';

export type LogFormat = 'json' | 'text';

const LOG_LEVELS: readonly string[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** WABA_LOG_LEVEL (any case), default INFO. */
export function logLevel(env: Env = process.env): LogLevel {
  const raw = setting(env, 'WABA_LOG_LEVEL');
  const level = raw?.toUpperCase() ?? 'INFO';
  if (!LOG_LEVELS.includes(level))
    throw new Error(`WABA_LOG_LEVEL=${raw}: expected TRACE, DEBUG, INFO, WARN or ERROR`);
  return level as LogLevel;
}

/** WABA_LOG_FORMAT (`json` or `text`); unset: text on a terminal, JSON otherwise. */
export function logFormat(env: Env, isTTY: boolean): LogFormat {
  const wanted = setting(env, 'WABA_LOG_FORMAT');
  if (!wanted) return isTTY ? 'text' : 'json';
  if (wanted !== 'json' && wanted !== 'text')
    throw new Error(
      `WABA_LOG_FORMAT=${wanted}: expected json or text (unset: text on a terminal, else json)`,
    );
  return wanted;
}

const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** `host:port` for the Prometheus endpoint, or undefined when `WABA_METRICS_ADDRESS=off`. */
export function metricsAddress(env: Env = process.env): string | undefined {
  const raw = setting(env, 'WABA_METRICS_ADDRESS') ?? DEFAULT_METRICS_ADDRESS;
  if (raw === 'off') return undefined;
  const match = /^(.+):(\d+)$/.exec(raw);
  if (!match?.[2] || !isPort(match[2], { allowAny: true }))
    throw new Error(`WABA_METRICS_ADDRESS=${raw}: expected host:port (e.g. 0.0.0.0:9464) or off`);
  return raw;
}
