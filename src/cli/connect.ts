// The CLI's connection to Temporal: the settings as the `temporal` CLI resolves them (profile,
// config file, environment; src/config.ts), overridden by --address/--namespace, with the payload
// codec when one is configured. A failure names the address and where it came from.
import type { Client } from '@temporalio/client';
import { CommandFailed } from './exit';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  profile?: string;
}

export interface Connected {
  client: Client;
  namespace: string;
  taskQueue: string;
  address: string;
  close(): Promise<void>;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

export async function connect(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connected> {
  const [{ Client, Connection }, config] = await Promise.all([
    import('@temporalio/client'),
    import('../config'),
  ]);
  const settings = config.temporalConfig(env, flags.profile ? { profile: flags.profile } : {});
  const [address, source] = flags.address
    ? [flags.address, '--address']
    : settings.address
      ? [settings.address, settings.addressSource]
      : [DEFAULT_ADDRESS, 'the default'];
  const namespace = flags.namespace ?? settings.namespace;
  let connection: Awaited<ReturnType<typeof Connection.connect>>;
  try {
    connection = await Connection.connect({
      ...config.connectionOptions(settings, address),
      connectTimeout: '5s',
    });
  } catch (err) {
    throw new CommandFailed(await config.explainConnectionError(err, address, source));
  }
  const dataConverter = config.dataConverterFromEnv(env);
  return {
    client: new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) }),
    namespace,
    taskQueue: settings.taskQueue,
    address,
    close: () => connection.close(),
  };
}
