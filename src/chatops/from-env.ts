// The ChatOps endpoint configured from the environment (docs/chatops.md): used by `npm run chatops`
// and, when a secret is set, by `npm start`. Its Temporal client comes from the shared factory
// (src/temporal-client.ts), with the payload codec when one is configured; its replay cache is kept
// in the data directory, so a restart does not let a captured request through again.
import path from 'node:path';
import { chatopsConfig, chatopsConfigured } from '../config/chatops';
import type { Env } from '../config/env';
import { dataDir } from '../config/paths';
import { keyFileSigner } from '../signing/signer';
import { connectClient, type TemporalClient } from '../temporal-client';
import { loadIdentities, type Relay } from './commands';
import { REPLAY_LOG_FILE, ReplayLog } from './replay-log';
import { createChatopsServer } from './server';
import { ReplayCache } from './verify';

export interface RunningChatops {
  url: string;
  describe: string;
  close(): Promise<void>;
}

/** The replay log: `$WABA_DATA_DIR/chatops-replay.log` (default `.data/` of the project). */
export function replayLogPath(env?: Env): string {
  return path.join(dataDir(env), REPLAY_LOG_FILE);
}

export interface ChatopsStartOptions {
  /**
   * A client from connectClient (`npm start` passes the one it made for its dev server); the caller
   * closes it. Without one, ChatOps connects with the settings in `env`, and closes that on close().
   */
  temporal?: TemporalClient;
  log?: (line: string) => void;
}

/** `env`: the environment to read (tests); default the process's. */
export async function startChatopsFromEnv(
  env?: Env,
  opts: ChatopsStartOptions = {},
): Promise<RunningChatops> {
  if (!chatopsConfigured(env)) {
    throw new Error(
      'set SLACK_SIGNING_SECRET and/or WABA_CHATOPS_WEBHOOK_SECRET: without a secret no request can be verified',
    );
  }
  const { slackSigningSecret, webhookSecret, host, port, relay: relayKey } = chatopsConfig(env);
  const identities = loadIdentities(env);
  // The relay's own key: decisions from chat are signed "<identity> via <chat>:<user>" with it.
  const relay: Relay | undefined = relayKey
    ? { name: relayKey.name, signer: keyFileSigner(relayKey.keyFile, relayKey.passphrase) }
    : undefined;

  const log = opts.log ?? ((line: string) => console.error(line));
  // Before connecting: an unreadable replay log stops start-up (refusing replays is the point).
  const replayLog = new ReplayLog(replayLogPath(env), { onError: log });
  const replay = new ReplayCache({ store: replayLog });
  const temporal = opts.temporal ?? (await connectClient({ env }).catch(fail(replayLog)));
  const ownClient = !opts.temporal;
  const server = createChatopsServer({
    client: temporal.client,
    slackSigningSecret,
    webhookSecret,
    identities,
    ...(relay ? { relay } : {}),
    replay,
    log,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    if (ownClient) await temporal.close();
    replayLog.close();
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
      `chatops: listening on ${url} (${endpoints.join(', ')}); ${mapped}; ${relay ? `relay ${relay.name} (key ${relay.signer.fingerprint})` : 'no relay key (WABA_CHATOPS_RELAY_KEY): read-only'}; namespace ${temporal.namespace}; ${temporal.codecKeyId ? `payload codec on (key "${temporal.codecKeyId}")` : 'payload codec off'}; replay log ${replayLog.file}` +
      (identities.size === 0
        ? ' (no identities mapped, WABA_CHATOPS_IDENTITIES: everyone can only read)'
        : ''),
    async close() {
      server.close();
      server.closeAllConnections();
      replayLog.close();
      if (ownClient) await temporal.close();
    },
  };
}

const fail = (replayLog: ReplayLog) => (err: unknown) => {
  replayLog.close();
  throw err;
};
