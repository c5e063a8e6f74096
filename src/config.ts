import { loadTemporalSettings, type TemporalSettingsOptions, type TemporalTls } from './temporal-settings';

export { dataConverterFromEnv } from './codec/keys';
export { describeConnectionError, explainConnectionError } from './connection-error';
// Still exported here for the modules that import it from config (src/project-root.ts works from dist/ too).
export { PROJECT_ROOT } from './project-root';

export const DEFAULT_TASK_QUEUE = 'waba-runbooks';

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
 * config file, profile, then environment (src/temporal-settings.ts). `addressSource` says where the
 * address came from: `TEMPORAL_ADDRESS`, `profile "prod" in /root/.config/temporalio/temporal.toml`
 * or `the default` (address undefined).
 */
export function temporalConfig(
  env: NodeJS.ProcessEnv = process.env,
  opts: TemporalSettingsOptions = {},
): TemporalConfig & { addressSource: string } {
  const settings = loadTemporalSettings(env, opts);
  return {
    address: settings.address,
    addressSource: settings.addressSource,
    namespace: settings.namespace ?? 'default',
    taskQueue: env.WABA_TASK_QUEUE || DEFAULT_TASK_QUEUE,
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
