import { readFileSync } from 'node:fs';
import path from 'node:path';

export { dataConverterFromEnv } from './codec/keys';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_TASK_QUEUE = 'waba-runbooks';

/** How to reach Temporal, from the environment (README "Configuration"). */
export interface TemporalConfig {
  /** host:port; undefined means "run the embedded dev server". */
  address: string | undefined;
  namespace: string;
  taskQueue: string;
  tls?: {
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverRootCACertificate?: Buffer;
    serverNameOverride?: string;
  };
  apiKey?: string;
}

function readEnvFile(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${name}=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code})`);
  }
}

export function temporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const crt = readEnvFile(env, 'TEMPORAL_TLS_CERT');
  const key = readEnvFile(env, 'TEMPORAL_TLS_KEY');
  if (Boolean(crt) !== Boolean(key)) {
    throw new Error(
      'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mTLS client certificate and key)',
    );
  }
  const ca = readEnvFile(env, 'TEMPORAL_TLS_CA');
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const wantsTls = Boolean(crt || ca || apiKey || env.TEMPORAL_TLS === 'true');
  return {
    address: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.WABA_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    tls: wantsTls
      ? {
          clientCertPair: crt && key ? { crt, key } : undefined,
          serverRootCACertificate: ca,
          serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        }
      : undefined,
    apiKey,
  };
}

/** Options shared by the worker's NativeConnection and the client's Connection. */
export function connectionOptions(cfg: TemporalConfig, address: string) {
  return { address, tls: cfg.tls, apiKey: cfg.apiKey };
}
