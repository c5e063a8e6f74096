// The one way this project's processes make a Temporal client (CLI, ChatOps, `npm start`, bench):
// the connection settings as the `temporal` CLI resolves them (src/config/), a failed connection
// explained in one sentence (address and where it came from), and the payload codec whenever
// WABA_CODEC_KEYS / WABA_CODEC_KEYS_FILE is set, so every client reads and writes what the worker does.
import { Client, Connection } from '@temporalio/client';
import { codecFromEnv } from './codec/keys';
import type { Env } from './config/env';
import { connectionOptions, DEFAULT_ADDRESS, type TemporalConfig, temporalConfig } from './config/temporal';
import { explainConnectionError } from './connection-error';

export interface ConnectClientOptions {
  /** The environment to read settings and codec keys from (default: process.env). */
  env?: Env;
  /** A profile of the temporal CLI's config file (the CLI's `--profile`); else TEMPORAL_PROFILE. */
  profile?: string;
  /** Overrides the configured address (the CLI's `--address`, `npm start`'s dev server). */
  address?: string;
  /** Where `address` came from, for messages (default: `the caller`). */
  addressSource?: string;
  /** Overrides the configured namespace (the CLI's `--namespace`). */
  namespace?: string;
  /** Settings already resolved by the caller (`npm start`); else read from `env` and `profile`. */
  config?: TemporalConfig;
  /** Default 5 s. */
  connectTimeout?: string | number;
}

export interface TemporalClient {
  client: Client;
  connection: Connection;
  namespace: string;
  taskQueue: string;
  address: string;
  /** `TEMPORAL_ADDRESS`, `profile "prod" in FILE`, `--address`, `the default`, ... */
  addressSource: string;
  /** The codec's encrypting key id, or undefined when the codec is off. */
  codecKeyId: string | undefined;
  close(): Promise<void>;
}

/** The server could not be reached; the message says where, from which setting, and why. */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
}

/**
 * Connect to Temporal with this project's settings and codec. Settings errors (a missing profile,
 * an unreadable certificate, bad codec keys) are thrown as they are, before any connection; a
 * connection that fails is a TemporalConnectionError.
 */
export async function connectClient(opts: ConnectClientOptions = {}): Promise<TemporalClient> {
  const env = opts.env;
  const settings = opts.config ?? temporalConfig(env, opts.profile ? { profile: opts.profile } : {});
  // Codec keys first: a bad key stops here, before a connection is made.
  const codec = codecFromEnv(env);
  const [address, addressSource] = opts.address
    ? [opts.address, opts.addressSource ?? 'the caller']
    : settings.address
      ? [settings.address, settings.addressSource ?? 'the configuration']
      : [DEFAULT_ADDRESS, 'the default'];
  const namespace = opts.namespace ?? settings.namespace;
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...connectionOptions(settings, address),
      connectTimeout: opts.connectTimeout ?? '5s',
    });
  } catch (err) {
    throw new TemporalConnectionError(await explainConnectionError(err, address, addressSource), {
      cause: err,
    });
  }
  return {
    client: new Client({
      connection,
      namespace,
      ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    }),
    connection,
    namespace,
    taskQueue: settings.taskQueue,
    address,
    addressSource,
    codecKeyId: codec?.keyId,
    close: () => connection.close(),
  };
}
