// healthCheck on the lab through the worker image: HA set up by a worker process (haSetup), then
// the image, as uid 1000, with the lab cluster's API entry and the two files it needs (the admin
// password, the Webapp's certificate) mounted read-only, reads the cluster's health. The image is
// built by scripts/build-worker-image (cached by the core project's test/e2e/worker-image.test.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { WEBAPP_CERT_FILE } from '../../lab/image';
import { ADMIN_PASSWORD_FILE, readLabInventory } from '../../lab/inventory';
import { up } from '../../lab/lab';
import { freePort } from '../../src/free-port';
import type { HealthCheckResult } from '../../src/model/results';
import { testClient } from '../support/temporal';
import { imageUnavailable, readableDir, WorkerImage } from '../support/worker-container';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { labWorker, setUpHa, TestInventory } from './e2e-support';

const unavailable = (await labUnavailable()) ?? imageUnavailable();
const TASK_QUEUE = `waba-lab-image-${process.pid}`;

describe.skipIf(unavailable)('the worker image on the lab', () => {
  let worker: WorkerProcess | undefined;
  let image: WorkerImage | undefined;
  let client: Client;
  let close: (() => Promise<void>) | undefined;
  const dirs: string[] = [];
  const inventory = new TestInventory('image');

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
    image = await WorkerImage.build();
  }, 900_000);
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    image?.remove();
    await close?.();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs healthCheck on the lab as uid 1000 and answers its HEALTHCHECK', async () => {
    await setUpHa(client, TASK_QUEUE, 'lab');
    await worker?.kill('SIGTERM');
    const img = image as WorkerImage;

    // The lab cluster's entry for a read-only run: its API, the secrets as files uid 1000 can read.
    const entry = structuredClone(readLabInventory().clusters.lab) as Record<string, unknown>;
    for (const k of ['db', 'compose', 'ssh', 'registration', 'backup', 'approvals']) delete entry[k];
    entry.api = {
      ...(entry.api as object),
      passwordRef: 'file:/run/waba-secrets/admin-password',
      tls: { caFile: '/run/waba-secrets/webapp.pem' },
    };
    const secrets = readableDir({
      'admin-password': readFileSync(ADMIN_PASSWORD_FILE),
      'webapp.pem': readFileSync(WEBAPP_CERT_FILE),
    });
    const inventoryDir = readableDir({ 'inventory.yaml': stringify({ clusters: { lab: entry } }) });
    dirs.push(secrets, inventoryDir);
    const imageQueue = `${TASK_QUEUE}-image-${randomUUID().slice(0, 8)}`;
    const container = img.run({
      env: {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        WABA_TASK_QUEUE: imageQueue,
        WABA_METRICS_ADDRESS: 'off',
        // The host's network: a free port (the HEALTHCHECK reads the same setting in the container).
        WABA_HEALTH_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
      mounts: { [inventoryDir]: '/etc/waba-runbooks/inventory', [secrets]: '/run/waba-secrets' },
    });
    await img.waitHealthy(container, 120_000);
    expect(img.docker(['exec', container, 'id', '-u']).trim()).toBe('1000');

    const result = (await client.workflow.execute('healthCheck', {
      taskQueue: imageQueue,
      workflowId: `lab/healthCheck/image-${randomUUID()}`,
      args: [{ cluster: 'lab' }],
      workflowExecutionTimeout: '2m',
    })) as HealthCheckResult;
    expect(result.verdict).toBe('ha-connected');
    expect(result.cluster).toBe('lab');
  }, 600_000);
});
