import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from '../../src/config';
import { type DevServer, startDevServer } from '../../src/devserver';
import { freePort } from '../../src/free-port';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../workers/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/** Starts ONE real Temporal dev server (the official CLI, random free ports, in memory) for the suite. */
export default async function setup(project: TestProject) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-test-'));
  let server: DevServer | undefined;
  try {
    server = await startDevServer({
      port: await freePort(),
      uiPort: false,
      dbFile: null,
      logFile: path.join(tmp, 'devserver.log'),
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
  });
  const bundleDir = path.join(PROJECT_ROOT, '.data', 'test');
  mkdirSync(bundleDir, { recursive: true });
  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
}
