// `npm start`: the embedded default. Without an address (TEMPORAL_ADDRESS or a temporal.toml profile):
// a local Temporal dev server (SQLite under .data/, Web UI on 8233) plus the worker; with one: only
// the worker, against that server.
import path from 'node:path';
import { installTelemetry } from '../workers/telemetry';
import { createWorker } from '../workers/worker';
import { chatopsConfigured, type RunningChatops, startChatopsFromEnv } from './chatops/from-env';
import { codecFromEnv } from './codec/keys';
import { codecServerEnv, type RunningCodecServer, startCodecServer } from './codec/server';
import { PROJECT_ROOT, temporalConfig } from './config';
import { type DevServer, startDevServer } from './devserver';
import { openInventory } from './inventory/open';
import { connectClient, type TemporalClient } from './temporal-client';

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

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
  let codecServer: RunningCodecServer | undefined;
  let address = config.address;
  if (!address) {
    const dataDir = path.resolve(process.env.WABA_DATA_DIR ?? path.join(PROJECT_ROOT, '.data'));
    if (codec) {
      // In-process codec server first, so the Web UI can show decrypted payloads.
      const uiPort = envPort('TEMPORAL_DEV_UI_PORT', 8233);
      const settings = codecServerEnv();
      // Unset WABA_CODEC_CORS_ORIGIN: the embedded Web UI, by either name the browser may use.
      if (!process.env.WABA_CODEC_CORS_ORIGIN)
        settings.corsOrigin = [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`];
      codecServer = await startCodecServer({ codec, ...settings });
      console.log(`codec server at ${codecServer.url} (payloads encrypted with key "${codec.keyId}")`);
    }
    server = await startDevServer({
      ip: process.env.TEMPORAL_DEV_IP ?? '127.0.0.1',
      port: envPort('TEMPORAL_DEV_PORT', 7233),
      uiPort: envPort('TEMPORAL_DEV_UI_PORT', 8233),
      dbFile: path.join(dataDir, 'temporal.sqlite'),
      namespace: config.namespace,
      logFile: path.join(dataDir, 'devserver.log'),
      pidFile: path.join(dataDir, 'devserver.pid'),
      ...(codecServer ? { codecEndpoint: codecServer.url } : {}),
    }).catch(async (err) => {
      await codecServer?.close();
      throw err;
    });
    address = server.address;
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
        temporal = await connectClient({ env: process.env, config, address, addressSource });
        chatops = await startChatopsFromEnv(process.env, { temporal });
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
