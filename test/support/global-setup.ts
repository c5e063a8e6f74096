import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from '../../src/config';
import { type DevServer, startDevServer } from '../../src/devserver';
import { type Watchdog, watchDevServer } from '../../src/devserver-watchdog';
import { freePort } from '../../src/free-port';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../workers/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/**
 * Starts ONE real Temporal dev server (the official CLI, random free ports, a SQLite file) for the
 * suite, watched: a server that stops answering is restarted on the same ports and file, loudly
 * (each restart is also written to .data/test/devserver-restarts.log, which CI prints).
 */
export default async function setup(project: TestProject) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-test-'));
  const dataDir = path.join(PROJECT_ROOT, '.data', 'test');
  mkdirSync(dataDir, { recursive: true });
  const restartLog = path.join(dataDir, 'devserver-restarts.log');
  const logFile = path.join(dataDir, `devserver-${project.name}.log`);
  rmSync(logFile, { force: true });
  let server: DevServer | undefined;
  try {
    server = await startDevServer({
      port: await freePort(),
      uiPort: false,
      dbFile: path.join(tmp, 'temporal.sqlite'),
      logFile,
    });
  } catch (err) {
    throw new Error(
      `cannot start the Temporal dev server for the tests: ${String(err)}\n` +
        'install the CLI with scripts/install-temporal-cli or set TEMPORAL_CLI_PATH',
    );
  }
  console.log(`tests use the Temporal dev server ${server.source} at ${server.address}`);
  // Bundle the workflows once; every test worker loads the same bundle.
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(PROJECT_ROOT, 'workflows', 'index.ts'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  }).catch(async (err) => {
    await server?.stop();
    throw err;
  });
  const bundlePath = path.join(dataDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  // Probed every second: a wedged store fails every test that runs meanwhile, so it is caught in ~3 s.
  const watchdog: Watchdog = watchDevServer(server, {
    namespace: 'default',
    intervalMs: 1_000,
    failuresBeforeRestart: 3,
    onRestart(reason) {
      const line = `${new Date().toISOString()} ${project.name}: restarting the tests' dev server: ${reason}`;
      console.warn(`\n!!! ${line}\n`);
      appendFileSync(restartLog, `${line}\n`);
    },
    onRestartFailed(error) {
      console.warn(`\n!!! the tests' dev server did not come back: ${String(error)}\n`);
    },
  });

  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await watchdog.stop();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
}
