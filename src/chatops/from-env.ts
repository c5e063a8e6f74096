// The ChatOps endpoint configured from the environment (README "ChatOps"): used by `npm run chatops`
// and, when a secret is set, by `npm start`.
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, explainConnectionError, temporalConfig } from '../config';
import { keyFileSigner } from '../signing/signer';
import { loadIdentities, type Relay } from './commands';
import { createChatopsServer } from './server';

export interface RunningChatops {
  url: string;
  describe: string;
  close(): Promise<void>;
}

/** True when a signing secret is configured: without one no request could be verified. */
export function chatopsConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.SLACK_SIGNING_SECRET || env.WABA_CHATOPS_WEBHOOK_SECRET);
}

/** `address` (and where it came from) overrides the configured one: `npm start` passes its dev server's. */
export async function startChatopsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  address?: string,
  addressSource?: string,
): Promise<RunningChatops> {
  const slackSigningSecret = env.SLACK_SIGNING_SECRET || undefined;
  const webhookSecret = env.WABA_CHATOPS_WEBHOOK_SECRET || undefined;
  if (!slackSigningSecret && !webhookSecret) {
    throw new Error(
      'set SLACK_SIGNING_SECRET and/or WABA_CHATOPS_WEBHOOK_SECRET: without a secret no request can be verified',
    );
  }
  const port = Number(env.WABA_CHATOPS_PORT || 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`WABA_CHATOPS_PORT=${env.WABA_CHATOPS_PORT}: expected a port number`);
  const host = env.WABA_CHATOPS_HOST || '127.0.0.1';
  const identities = loadIdentities(env);
  // The relay's own key: decisions from chat are signed "<identity> via <chat>:<user>" with it.
  const relay: Relay | undefined = env.WABA_CHATOPS_RELAY_KEY
    ? {
        name: env.WABA_CHATOPS_RELAY_NAME || 'chatops',
        signer: keyFileSigner(env.WABA_CHATOPS_RELAY_KEY, env.WABA_CHATOPS_RELAY_KEY_PASSPHRASE || undefined),
      }
    : undefined;

  const cfg = temporalConfig(env);
  const target = address ?? cfg.address ?? 'localhost:7233';
  const source = address ? (addressSource ?? 'the caller') : cfg.addressSource;
  const connection = await Connection.connect(connectionOptions(cfg, target)).catch(async (err: unknown) => {
    throw new Error(await explainConnectionError(err, target, source), { cause: err });
  });
  const client = new Client({ connection, namespace: cfg.namespace });
  const server = createChatopsServer({
    client,
    slackSigningSecret,
    webhookSecret,
    identities,
    ...(relay ? { relay } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    await connection.close();
    throw new Error(`chatops: cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const endpoints = [
    ...(slackSigningSecret ? ['POST /slack/commands', 'POST /slack/interactions'] : []),
    ...(webhookSecret ? ['POST /webhook'] : []),
    'GET /healthz',
  ];
  const bound = server.address();
  const url = `http://${host}:${typeof bound === 'object' && bound ? bound.port : port}`;
  const mapped = `${identities.size} mapped identit${identities.size === 1 ? 'y' : 'ies'}`;
  return {
    url,
    describe:
      `chatops: listening on ${url} (${endpoints.join(', ')}); ${mapped}; ${relay ? `relay ${relay.name} (key ${relay.signer.fingerprint})` : 'no relay key (WABA_CHATOPS_RELAY_KEY): read-only'}; namespace ${cfg.namespace}` +
      (identities.size === 0
        ? ' (no identities mapped, WABA_CHATOPS_IDENTITIES: everyone can only read)'
        : ''),
    async close() {
      server.close();
      server.closeAllConnections();
      await connection.close();
    },
  };
}
