// The worker image (workers/Dockerfile), built by scripts/build-worker-image on a local base image
// and run on the suite's dev server: non-root, its HEALTHCHECK turns healthy, /healthz and /metrics
// answer, and a healthCheck run goes through it (against a local HTTPS Webapp stand-in; on the lab's
// cluster: test/lab/worker-image.e2e.test.ts). Needs root, Linux and Debian's docker.io: skipped
// loudly elsewhere, a failure under CI=true.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/free-port';
import type { HealthCheckResult } from '../../src/model/results';
import seed from '../fixtures/seed-health.json';
import { makeTestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { testClient } from '../support/temporal';
import { WEBAPP_PASSWORD, webappInventoryYaml } from '../support/webapp-inventory';
import { imageUnavailable, readableDir, WorkerImage } from '../support/worker-container';

const skip = imageUnavailable();
const taskQueue = `image-${randomUUID()}`;
const certs = makeTestCerts();
const webapp = new FakeWebapp(certs, WEBAPP_PASSWORD);
const dirs: string[] = [];
let image: WorkerImage | undefined;
let temporal: Awaited<ReturnType<typeof testClient>> | undefined;

beforeAll(async () => {
  if (skip) return;
  image = await WorkerImage.build();
  await webapp.start();
  webapp.health = seed['A9-ha-registered'].health;
  temporal = await testClient();
}, 660_000);

afterAll(async () => {
  image?.remove();
  await webapp.close();
  await temporal?.close();
  for (const d of [...dirs, certs.dir]) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe.skipIf(skip)('worker image', () => {
  it('runs as uid 1000, turns healthy, serves /healthz and /metrics, and runs healthCheck', async () => {
    const img = image as WorkerImage;
    // The inventory and the CA it names, mounted read-only where the image expects them.
    const secrets = readableDir({ 'webapp-ca.pem': readFileSync(certs.caFile) });
    const inventory = readableDir({
      'inventory.yaml': webappInventoryYaml(webapp.url, '/run/waba-secrets/webapp-ca.pem'),
    });
    dirs.push(secrets, inventory);
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const container = img.run({
      env: {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        WABA_TASK_QUEUE: taskQueue,
        WABA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        WABA_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
      },
      secretEnv: { WABA_ADMIN_PASSWORD: WEBAPP_PASSWORD },
      mounts: { [inventory]: '/etc/waba-runbooks/inventory', [secrets]: '/run/waba-secrets' },
    });

    // Its HEALTHCHECK (every 15 s) reports healthy once the worker polls.
    await img.waitHealthy(container, 120_000);
    expect(img.logs(container)).toContain('workflows from the prebuilt bundle /app/dist/workflow-bundle.js');

    // Not root: the image's user, and the worker process runs as uid 1000.
    expect(img.docker(['inspect', '-f', '{{.Config.User}}', img.tag]).trim()).toBe('node');
    expect(img.docker(['exec', container, 'id', '-u']).trim()).toBe('1000');
    const top = img.docker(['top', container, '-o', 'pid,uid,args']).trim().split('\n').slice(1);
    expect(top.some((l) => /^\s*\d+\s+1000\s+node dist\/workers\/main\.js/.test(l))).toBe(true);
    expect(top.every((l) => !/^\s*\d+\s+0\s/.test(l))).toBe(true);

    const healthz = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ ready: true, state: 'RUNNING' });

    // A healthCheck run through the container's worker.
    const result = (await temporal?.client.workflow.execute('healthCheck', {
      taskQueue,
      workflowId: `lab/healthCheck/image-${randomUUID()}`,
      args: [{ cluster: 'lab' }],
      workflowExecutionTimeout: '60s',
    })) as HealthCheckResult;
    expect(result.verdict).toBe('ha-connected');
    expect(webapp.healthCalls).toBeGreaterThan(0);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^waba_runs_succeeded_total\{[^}]*runbook="healthCheck"[^}]*\} 1$/m);
    expect(img.logs(container)).not.toContain(WEBAPP_PASSWORD);
  }, 240_000);
});
