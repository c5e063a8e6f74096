// The bench's own Temporal: an embedded dev server on free ports with its own SQLite file in a temp
// dir (never the developer's `npm start` server), a client, and the runbooks worker built per run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { type ActivityDeps, createActivities, defaultDeps } from '../activities';
import { PROJECT_ROOT } from '../src/config';
import { type DevServer, startDevServer } from '../src/devserver';
import { freePort } from '../src/free-port';
import { InventoryStore } from '../src/inventory/store';
import { connectClient } from '../src/temporal-client';
import { createWorker, WORKFLOW_INTERCEPTOR_MODULES } from '../workers/worker';
import { onCleanup } from './cleanup';
import { BENCH_INVENTORY } from './lab-session';
import { RUNBOOKS_QUEUE } from './temporal-names';

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  /** Prebuilt bundles (bundling once keeps webpack out of every measurement). */
  runbooksBundle: string;
  benchBundle: string;
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

async function bundle(workflowsPath: string, file: string, interceptors: string[] = []): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: interceptors,
    logger: quiet,
  });
  writeFileSync(file, code);
  return file;
}

export async function startTemporal(tmp: string): Promise<BenchTemporal> {
  const server = await startDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: path.join(tmp, 'temporal.sqlite'),
    logFile: path.join(tmp, 'devserver.log'),
    pidFile: path.join(tmp, 'devserver.pid'),
  });
  onCleanup(`the Temporal dev server (pid ${server.pid})`, () => server.stop());
  // The shared client factory, with an environment of the bench's own: its dev server takes no TLS or
  // API key, and its workers run without the payload codec (dataConverter: null), so the client must
  // not pick up the operator's TEMPORAL_* settings or WABA_CODEC_KEYS either.
  const temporal = await connectClient({
    env: {},
    address: server.address,
    addressSource: "the bench's dev server",
  });
  onCleanup('the client connection', () => temporal.close());
  const [runbooksBundle, benchBundle] = await Promise.all([
    bundle(
      path.join(PROJECT_ROOT, 'workflows', 'index.ts'),
      path.join(tmp, 'runbooks-bundle.js'),
      WORKFLOW_INTERCEPTOR_MODULES,
    ),
    bundle(path.join(__dirname, 'workflows.ts'), path.join(tmp, 'bench-bundle.js')),
  ]);
  return { server, client: temporal.client, runbooksBundle, benchBundle };
}

export interface RunbooksWorker {
  deps: ActivityDeps;
  stop(): Promise<void>;
}

/**
 * A fresh in-process runbooks worker, as a newly started `npm run worker` would be: cold SSH pool and
 * token cache, so every run pays (and counts) its own SSH handshakes. Notifications off.
 */
export async function startRunbooksWorker(t: BenchTemporal, artifactsDir: string): Promise<RunbooksWorker> {
  const deps = defaultDeps(new InventoryStore(BENCH_INVENTORY), { artifactsDir, notify: undefined });
  const { worker, connection } = await createWorker({
    config: { address: t.server.address, namespace: 'default', taskQueue: RUNBOOKS_QUEUE },
    address: t.server.address,
    activities: createActivities(deps),
    workflowBundle: { codePath: t.runbooksBundle },
    dataConverter: null,
  });
  const running = worker.run();
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await deps.ssh.close();
    await Promise.all([...deps.dispatchers.values()].map((d) => d.close()));
  };
  const forget = onCleanup('a runbooks worker', stop);
  return {
    deps,
    async stop() {
      forget();
      await stop();
    },
  };
}
