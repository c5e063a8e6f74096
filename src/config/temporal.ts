// Temporal settings: the connection (resolved like the `temporal` CLI: config file, profile, then
// TEMPORAL_* variables; temporal-settings.ts), the task queue, and `npm start`'s embedded dev
// server.

import { type Env, port, setting } from './env';
import { loadTemporalSettings, type TemporalSettingsOptions, type TemporalTls } from './temporal-settings';

export const DEFAULT_TASK_QUEUE = 'waba-runbooks';
/** Where a worker or client connects when neither an argument, TEMPORAL_ADDRESS nor a profile says. */
export const DEFAULT_ADDRESS = 'localhost:7233';

/** How to reach Temporal (docs/configuration.md). */
export interface TemporalConfig {
  /** host:port; undefined means "run the embedded dev server" (`npm start`) or localhost:7233. */
  address: string | undefined;
  /** Where `address` came from, in an operator's words (see temporalConfig). */
  addressSource?: string;
  namespace: string;
  taskQueue: string;
  /** false: TLS explicitly off, even with an API key. */
  tls?: TemporalTls | false;
  apiKey?: string;
  /** gRPC headers sent on every call. */
  grpcMeta?: Record<string, string>;
}

/**
 * The connection settings of the worker, ChatOps and the CLI, resolved like the `temporal` CLI:
 * config file, profile, then environment (temporal-settings.ts). `addressSource` says where the
 * address came from: `TEMPORAL_ADDRESS`, `profile "prod" in /root/.config/temporalio/temporal.toml`
 * or `the default` (address undefined).
 */
export function temporalConfig(
  env: Env = process.env,
  opts: TemporalSettingsOptions = {},
): TemporalConfig & { addressSource: string } {
  const settings = loadTemporalSettings(env, opts);
  return {
    address: settings.address,
    addressSource: settings.addressSource,
    namespace: settings.namespace ?? 'default',
    taskQueue: setting(env, 'WABA_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    tls: settings.tls,
    apiKey: settings.apiKey,
    ...(settings.grpcMeta ? { grpcMeta: settings.grpcMeta } : {}),
  };
}

/** Options shared by the worker's NativeConnection and the client's Connection. */
export function connectionOptions(cfg: TemporalConfig, address: string) {
  return {
    address,
    tls: cfg.tls,
    apiKey: cfg.apiKey,
    ...(cfg.grpcMeta ? { metadata: cfg.grpcMeta } : {}),
  };
}

/** `npm start`'s embedded dev server: TEMPORAL_DEV_IP, TEMPORAL_DEV_PORT, TEMPORAL_DEV_UI_PORT. */
export function devServerConfig(env: Env = process.env): { ip: string; port: number; uiPort: number } {
  return {
    ip: setting(env, 'TEMPORAL_DEV_IP') ?? '127.0.0.1',
    port: port(env, 'TEMPORAL_DEV_PORT', 7233),
    uiPort: port(env, 'TEMPORAL_DEV_UI_PORT', 8233),
  };
}
