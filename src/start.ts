// `npm start`: the embedded default. Without an address (TEMPORAL_ADDRESS or a temporal.toml profile):
// a local Temporal dev server (SQLite under .data/, Web UI on 8233) plus the worker; with one: only
// the worker, against that server.
import path from 'node:path';
import { installTelemetry } from '../workers/telemetry';
import { createWorker } from '../workers/worker';
import { type RunningChatops, startChatopsFromEnv } from './chatops/from-env';
import { codecFromEnv } from './codec/keys';
import { type RunningCodecServer, startCodecServer } from './codec/server';
import { chatopsConfigured } from './config/chatops';
import { codecServerConfig } from './config/codec';
import { dataDir } from './config/paths';
import { devServerConfig, temporalConfig } from './config/temporal';
import { type DevServer, startDevServer } from './devserver';
import { type Watchdog, watchDevServer } from './devserver-watchdog';
import { openInventory } from './inventory/open';
import { connectClient, type TemporalClient } from './temporal-client';

async function main(): Promise<void> {
  const config = temporalConfig();
  // Before anything starts: an invalid inventory stops `npm start` here, every problem named.
  const inventory = openInventory();
  console.log(inventory.describe);
  for (const w of inventory.warnings) console.warn(`inventory warning: ${w}`);
  const telemetry = installTelemetry();
  // The payload codec (WABA_CODEC_KEYS / WABA_CODEC_KEYS_FILE); undefined: off, nothing changes.
  const codec = codecFromEnv();
  let server: DevServer | undefined;
  let watchdog: Watchdog | undefined;
  let codecServer: RunningCodecServer | undefined;
  let address = config.address;
  if (!address) {
    const data = dataDir();
    const dev = devServerConfig();
    if (codec) {
      // In-process codec server first, so the Web UI can show decrypted payloads.
      const settings = codecServerConfig();
      codecServer = await startCodecServer({
        codec,
        ...settings,
        // Unset WABA_CODEC_CORS_ORIGIN: the embedded Web UI, by either name the browser may use.
        corsOrigin: settings.corsOrigin ?? [
          `http://localhost:${dev.uiPort}`,
          `http://127.0.0.1:${dev.uiPort}`,
        ],
      });
      console.log(`codec server at ${codecServer.url} (payloads encrypted with key "${codec.keyId}")`);
    }
    server = await startDevServer({
      ...dev,
      dbFile: path.join(data, 'temporal.sqlite'),
      namespace: config.namespace,
      logFile: path.join(data, 'devserver.log'),
      pidFile: path.join(data, 'devserver.pid'),
      ...(codecServer ? { codecEndpoint: codecServer.url } : {}),
    }).catch(async (err) => {
      await codecServer?.close();
      throw err;
    });
    address = server.address;
    // Restarted on the same ports and file when it stops answering; runs and the worker carry on.
    watchdog = watchDevServer(server, {
      namespace: config.namespace,
      onRestart: (reason) => console.warn(`restarting the embedded Temporal dev server: ${reason}`),
      onRestartFailed: (err) =>
        console.warn(`the embedded Temporal dev server did not restart: ${String(err)}`),
    });
    console.log(`Temporal dev server ${server.source} at ${address}`);
    console.log(`Temporal Web UI: ${server.uiUrl}`);
  } else {
    console.log(`Temporal server at ${address} (from ${config.addressSource}): no embedded dev server`);
  }
  try {
    const addressSource = server ? 'the embedded dev server' : config.addressSource;
    const { worker, connection } = await createWorker({
      config,
      address,
      addressSource,
      inventory: inventory.store,
      dataConverter: codec ? { payloadCodecs: [codec] } : null,
    });
    let chatops: RunningChatops | undefined;
    let temporal: TemporalClient | undefined;
    try {
      // The ChatOps endpoint too, when a signing secret says it is wanted: its client from the shared
      // factory (same settings and payload codec as the worker), to the server the worker uses.
      if (chatopsConfigured()) {
        temporal = await connectClient({ config, address, addressSource });
        chatops = await startChatopsFromEnv(undefined, { temporal });
        console.log(chatops.describe);
      }
      if (telemetry.metrics) console.log(`Prometheus metrics: http://${telemetry.metrics}/metrics`);
      console.log(`worker polling task queue "${config.taskQueue}"; Ctrl-C stops everything`);
      await worker.run();
    } finally {
      await chatops?.close();
      await temporal?.close();
      await connection.close();
    }
  } finally {
    await watchdog?.stop();
    await server?.stop();
    await codecServer?.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
