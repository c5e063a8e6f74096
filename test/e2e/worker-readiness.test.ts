// The worker process (workers/main.ts) with a prebuilt workflow bundle (npm run bundle) and its
// readiness endpoint: 200 while it polls, a healthCheck run completes, 503 while it drains after
// SIGTERM, nothing once it has stopped. The Webapp is a local HTTPS stand-in; the dev server is real.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { freePort } from '../../src/free-port';
import type { HealthCheckResult } from '../../src/model/results';
import seed from '../fixtures/seed-health.json';
import { makeTestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { testClient } from '../support/temporal';
import { WEBAPP_PASSWORD, webappInventoryYaml } from '../support/webapp-inventory';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const taskQueue = `readiness-${randomUUID()}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-readiness-'));
const certs = makeTestCerts();
const webapp = new FakeWebapp(certs, WEBAPP_PASSWORD);
let worker: WorkerProcess | undefined;
let temporal: Awaited<ReturnType<typeof testClient>>;
let healthz: string;

beforeAll(async () => {
  await webapp.start();
  webapp.health = seed['A9-ha-registered'].health;
  temporal = await testClient();
}, 60_000);

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await webapp.close();
  await temporal?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5_000) });

describe('worker readiness and prebuilt bundle', () => {
  it('bundles with npm run bundle; the worker loads it, answers /healthz, runs healthCheck, drains as 503', async () => {
    const bundle = path.join(dir, 'workflow-bundle.js');
    execFileSync(process.execPath, ['--import', 'tsx', 'workers/bundle-workflows.ts', bundle], {
      cwd: PROJECT_ROOT,
      stdio: 'pipe',
      timeout: 120_000,
    });
    const inventory = path.join(dir, 'inventory.yaml');
    writeFileSync(inventory, webappInventoryYaml(webapp.url, certs.caFile));
    const port = await freePort();
    healthz = `http://127.0.0.1:${port}/healthz`;
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      WABA_TASK_QUEUE: taskQueue,
      WABA_INVENTORY: inventory,
      WABA_ADMIN_PASSWORD: WEBAPP_PASSWORD,
      WABA_WORKFLOW_BUNDLE: bundle,
      WABA_HEALTH_ADDRESS: `127.0.0.1:${port}`,
      WABA_DATA_DIR: dir,
    });
    expect(worker.output()).toContain(`workflows from the prebuilt bundle ${bundle}`);
    expect(worker.output()).toContain(`readiness: http://127.0.0.1:${port}/healthz`);

    // Ready once the worker runs (it logs "worker polling" just before it starts to).
    let ready: Response | undefined;
    for (let i = 0; i < 50 && ready?.status !== 200; i++) {
      ready = await get(healthz);
      if (ready.status !== 200) await sleep(100);
    }
    expect(ready?.status).toBe(200);
    expect(await ready?.json()).toEqual({ ready: true, state: 'RUNNING' });
    expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    expect((await fetch(healthz, { method: 'POST' })).status).toBe(404);

    // A workflow from the prebuilt bundle runs to its end.
    const { client } = temporal;
    const done = await client.workflow.execute('healthCheck', {
      taskQueue,
      workflowId: `lab/healthCheck/readiness-${randomUUID()}`,
      args: [{ cluster: 'lab' }],
      workflowExecutionTimeout: '60s',
    });
    expect((done as HealthCheckResult).verdict).toBe('ha-connected');

    // SIGTERM while an activity waits on the Webapp: the worker drains (up to its 10 s grace), not ready.
    webapp.healthDelayMs = 60_000;
    const calls = webapp.healthCalls;
    await client.workflow.start('healthCheck', {
      taskQueue,
      workflowId: `lab/healthCheck/readiness-drain-${randomUUID()}`,
      args: [{ cluster: 'lab' }],
    });
    for (let i = 0; i < 150 && webapp.healthCalls === calls; i++) await sleep(100);
    expect(webapp.healthCalls).toBeGreaterThan(calls);
    worker.child.kill('SIGTERM');
    let draining: Response | undefined;
    for (let i = 0; i < 50 && draining?.status !== 503; i++) {
      draining = await get(healthz);
      if (draining.status !== 503) await sleep(100);
    }
    expect(draining?.status).toBe(503);
    expect(((await draining?.json()) as { ready: boolean }).ready).toBe(false);

    // Stopped: the process exits and the endpoint is gone with it.
    const exited = await new Promise<number | null>((resolve) => {
      if (worker?.child.exitCode !== null) resolve(worker?.child.exitCode ?? null);
      worker?.child.on('exit', resolve);
      setTimeout(() => resolve(null), 30_000).unref();
    });
    expect(exited).toBe(0);
    await expect(get(healthz)).rejects.toThrow();
  }, 180_000);
});
