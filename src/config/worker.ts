// The worker's own settings: its logs (WABA_LOG_LEVEL, WABA_LOG_FORMAT), its Prometheus and readiness
// endpoints (WABA_METRICS_ADDRESS, WABA_HEALTH_ADDRESS) and its prebuilt workflow bundle
// (WABA_WORKFLOW_BUNDLE). Its task queue is a Temporal setting (temporal.ts), its directories are in
// paths.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
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

/** `host:port` from `name` (default `fallback`), or undefined when it is `off`. */
function listenAddress(env: Env, name: string, fallback: string): string | undefined {
  const raw = setting(env, name) ?? fallback;
  if (raw === 'off') return undefined;
  const match = /^(.+):(\d+)$/.exec(raw);
  if (!match?.[2] || !isPort(match[2], { allowAny: true }))
    throw new Error(`${name}=${raw}: expected host:port (e.g. 0.0.0.0:${fallback.split(':')[1]}) or off`);
  return raw;
}

/** `host:port` for the Prometheus endpoint, or undefined when `WABA_METRICS_ADDRESS=off`. */
export function metricsAddress(env: Env = process.env): string | undefined {
  return listenAddress(env, 'WABA_METRICS_ADDRESS', '127.0.0.1:9464');
}

/** `host:port` for the readiness endpoint (`GET /healthz`), or undefined when `WABA_HEALTH_ADDRESS=off`. */
export function healthAddress(env: Env = process.env): string | undefined {
  return listenAddress(env, 'WABA_HEALTH_ADDRESS', '127.0.0.1:9465');
}

/**
 * WABA_WORKFLOW_BUNDLE: a workflow bundle built ahead (`npm run bundle`), so the worker does not
 * bundle at every start; undefined when unset. A missing file is an error naming the setting.
 */
export function workflowBundleFile(env: Env = process.env): string | undefined {
  const raw = setting(env, 'WABA_WORKFLOW_BUNDLE');
  if (raw === undefined) return undefined;
  const file = path.resolve(raw);
  if (!existsSync(file))
    throw new Error(`WABA_WORKFLOW_BUNDLE=${raw}: no such file (build it with npm run bundle, or unset it)`);
  return file;
}
