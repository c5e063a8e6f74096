// The worker image (workers/Dockerfile), built by scripts/build-worker-image on a local base image
// and run on the suite's dev server: non-root, its HEALTHCHECK turns healthy, /healthz and /metrics
// answer, and a healthCheck run goes through it (against a local HTTPS Webapp stand-in; the lab's
// cluster is for test/lab). Needs root, Linux and Debian's docker.io: skipped loudly elsewhere, a
// failure under CI=true.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function unavailable(): string | undefined {
  const missing =
    process.platform !== 'linux'
      ? 'not Linux'
      : process.getuid?.() !== 0
        ? 'not root'
        : ['docker', 'dockerd'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (!missing) return undefined;
  const reason =
    missing === 'not Linux' || missing === 'not root' ? missing : `no ${missing} (apt-get install docker.io)`;
  if (process.env.CI === 'true')
    throw new Error(`CI=true but the worker image cannot be built here: ${reason}`);
  console.warn(`\n${'!'.repeat(78)}\n!! WORKER IMAGE TEST SKIPPED: ${reason}\n${'!'.repeat(78)}\n`);
  return reason;
}

const skip = unavailable();
const script = (name: string) => path.join(PROJECT_ROOT, 'scripts', name);
const tag = `waba-runbooks-worker:test-${randomUUID().slice(0, 8)}`;
const container = `waba-worker-test-${randomUUID().slice(0, 8)}`;
const taskQueue = `image-${randomUUID()}`;
const certs = makeTestCerts();
const webapp = new FakeWebapp(certs, WEBAPP_PASSWORD);
const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-image-'));
let dockerHost = '';
let daemonWasRunning = true;
let temporal: Awaited<ReturnType<typeof testClient>> | undefined;

function docker(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    env: { ...process.env, ...env, DOCKER_HOST: dockerHost },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

beforeAll(async () => {
  if (skip) return;
  daemonWasRunning = spawnSync(script('worker-image-docker'), ['status']).status === 0;
  dockerHost = execFileSync(script('worker-image-docker'), ['start'], { encoding: 'utf8' }).trim();
  const started = Date.now();
  const build = spawnSync(script('build-worker-image'), [tag], { encoding: 'utf8', timeout: 600_000 });
  if (build.status !== 0)
    throw new Error(
      `image build failed (${build.status}):\n${`${build.stdout}${build.stderr}`.slice(-3000)}`,
    );
  console.log(`worker image ${tag} built in ${Math.round((Date.now() - started) / 1000)} s`);
  await webapp.start();
  webapp.health = seed['A9-ha-registered'].health;
  temporal = await testClient();
}, 660_000);

afterAll(async () => {
  if (!skip) {
    // The container (and its anonymous data volume) and the test's tag; the base image stays cached.
    spawnSync('docker', ['rm', '-f', '-v', container], { env: { ...process.env, DOCKER_HOST: dockerHost } });
    spawnSync('docker', ['rmi', tag], { env: { ...process.env, DOCKER_HOST: dockerHost } });
    if (!daemonWasRunning) spawnSync(script('worker-image-docker'), ['stop']);
  }
  await webapp.close();
  await temporal?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(skip)('worker image', () => {
  it('runs as uid 1000, turns healthy, serves /healthz and /metrics, and runs healthCheck', async () => {
    // The inventory and the CA it names, mounted read-only where the image expects them; readable
    // by the image's user.
    const inventory = path.join(dir, 'inventory');
    const secrets = path.join(dir, 'secrets');
    mkdirSync(inventory);
    mkdirSync(secrets);
    chmodSync(dir, 0o755);
    copyFileSync(certs.caFile, path.join(secrets, 'webapp-ca.pem'));
    writeFileSync(
      path.join(inventory, 'inventory.yaml'),
      webappInventoryYaml(webapp.url, '/run/waba-secrets/webapp-ca.pem'),
    );
    for (const f of [path.join(secrets, 'webapp-ca.pem'), path.join(inventory, 'inventory.yaml')])
      chmodSync(f, 0o644);
    const [metricsPort, healthPort] = [await freePort(), await freePort()];

    docker(
      [
        'run',
        '-d',
        '--name',
        container,
        '--network',
        'host',
        '-e',
        `TEMPORAL_ADDRESS=${inject('temporalAddress')}`,
        '-e',
        `WABA_TASK_QUEUE=${taskQueue}`,
        '-e',
        `WABA_METRICS_ADDRESS=127.0.0.1:${metricsPort}`,
        '-e',
        `WABA_HEALTH_ADDRESS=127.0.0.1:${healthPort}`,
        '-e',
        'WABA_ADMIN_PASSWORD',
        '-v',
        `${inventory}:/etc/waba-runbooks/inventory:ro`,
        '-v',
        `${secrets}:/run/waba-secrets:ro`,
        tag,
        // By name: the password is not on the command line.
      ],
      { WABA_ADMIN_PASSWORD: WEBAPP_PASSWORD },
    );
    const logs = () => {
      const r = spawnSync('docker', ['logs', container], {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: dockerHost },
      });
      return `${r.stdout}${r.stderr}`;
    };

    // Its HEALTHCHECK (interval 15 s) reports healthy once the worker polls.
    let health = '';
    const deadline = Date.now() + 120_000;
    while (health !== 'healthy') {
      const state = docker(['inspect', '-f', '{{.State.Status}} {{.State.Health.Status}}', container]).trim();
      health = state.split(' ')[1] ?? '';
      if (!state.startsWith('running')) throw new Error(`the container stopped (${state}):\n${logs()}`);
      if (Date.now() > deadline) throw new Error(`not healthy in 120 s (${state}):\n${logs()}`);
      if (health !== 'healthy') await sleep(1_000);
    }
    expect(logs()).toContain('workflows from the prebuilt bundle /app/dist/workflow-bundle.js');

    // Not root: the image's user, and the worker process runs as uid 1000.
    expect(docker(['inspect', '-f', '{{.Config.User}}', tag]).trim()).toBe('node');
    expect(docker(['exec', container, 'id', '-u']).trim()).toBe('1000');
    const top = docker(['top', container, '-o', 'pid,uid,args']).trim().split('\n').slice(1);
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
    expect(logs()).not.toContain(WEBAPP_PASSWORD);
  }, 240_000);
});
