// `npm run chatops`: the ChatOps endpoint (README "ChatOps"), configured from the environment.
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, temporalConfig } from '../config';
import { loadIdentities } from './commands';
import { createChatopsServer } from './server';

async function main(): Promise<void> {
  const env = process.env;
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

  const cfg = temporalConfig(env);
  const connection = await Connection.connect(connectionOptions(cfg, cfg.address ?? 'localhost:7233'));
  const client = new Client({ connection, namespace: cfg.namespace });
  const server = createChatopsServer({ client, slackSigningSecret, webhookSecret, identities });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const endpoints = [
    ...(slackSigningSecret ? ['POST /slack/commands', 'POST /slack/interactions'] : []),
    ...(webhookSecret ? ['POST /webhook'] : []),
    'GET /healthz',
  ];
  console.log(
    `chatops: listening on http://${host}:${port} (${endpoints.join(', ')}); ` +
      `${identities.size} mapped identit${identities.size === 1 ? 'y' : 'ies'}; namespace ${cfg.namespace}`,
  );
  if (identities.size === 0)
    console.log('chatops: no identities mapped (WABA_CHATOPS_IDENTITIES): everyone can only read');

  const stop = () => {
    server.close();
    server.closeAllConnections();
    connection.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`chatops: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
