// The CLI's connection to Temporal: the shared client factory (src/temporal-client.ts: settings as the
// `temporal` CLI resolves them, the payload codec when one is configured), overridden by
// --profile/--address/--namespace. A failure names the address and where it came from (exit 1).
import type { Client } from '@temporalio/client';
import type { Env } from '../config/env';
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

export async function connect(flags: ConnectionFlags, env?: Env): Promise<Connected> {
  // Loaded only when a command needs the server: `--help` and completion stay fast.
  const { connectClient, TemporalConnectionError } = await import('../temporal-client');
  try {
    return await connectClient({
      env,
      ...(flags.profile ? { profile: flags.profile } : {}),
      ...(flags.address ? { address: flags.address, addressSource: '--address' } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
    });
  } catch (err) {
    if (err instanceof TemporalConnectionError) throw new CommandFailed(err.message);
    throw err;
  }
}
