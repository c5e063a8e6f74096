import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PROJECT_ROOT } from '../../src/config';
import { freePort } from '../../src/free-port';
import type { HealthCheckResult } from '../../src/model/results';
import seed from '../fixtures/seed-health.json';
import { makeTestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { testClusterEntry, testInventoryDoc } from '../support/inventory';

const PASSWORD = 'Start-Test-Pa55word';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** `npm start`'s process (node src/start.ts), with its output collected. */
function startMain(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], { cwd: PROJECT_ROOT, env });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

describe('npm start (embedded dev server + worker)', () => {
  const started: ChildProcess[] = [];
  const certs = makeTestCerts();
  const webapp = new FakeWebapp(certs, PASSWORD);
  afterAll(async () => {
    for (const c of started) if (c.pid && c.exitCode === null) c.kill('SIGKILL');
    await webapp.close();
  });

  it('serves the Web UI, survives a SIGKILL mid-run, and stops cleanly on SIGINT', async () => {
    await webapp.start();
    webapp.health = seed['A9-ha-registered'].health;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'waba-start-'));
    const [port, uiPort, metricsPort, chatopsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_DEV_PORT: String(port),
      TEMPORAL_DEV_UI_PORT: String(uiPort),
      WABA_DATA_DIR: dataDir,
      WABA_TASK_QUEUE: 'waba-runbooks-start-test',
      WABA_ADMIN_PASSWORD: PASSWORD,
      WABA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      // A signing secret configured: npm start serves the ChatOps endpoint too.
      WABA_CHATOPS_WEBHOOK_SECRET: 'chatops-secret-for-the-start-test',
      WABA_CHATOPS_PORT: String(chatopsPort),
    };
    // No address from anywhere (not even a temporal.toml of the machine's user): the embedded server.
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) delete env[name];
    env.XDG_CONFIG_HOME = dataDir;
    delete env.WABA_INVENTORY;
    const pidFile = path.join(dataDir, 'devserver.pid');
    // The inventory in the data directory: the one cluster this worker may touch.
    const entry = testClusterEntry({ hosts: [{ name: 'web1', address: '127.0.0.1', roles: ['webapp'] }] });
    entry.api = {
      baseUrl: webapp.url,
      passwordRef: 'env:WABA_ADMIN_PASSWORD',
      tls: { caFile: certs.caFile },
    };
    for (const k of ['db', 'compose', 'ssh', 'registration', 'backup', 'approvals']) delete entry[k];
    writeFileSync(path.join(dataDir, 'inventory.yaml'), stringify(testInventoryDoc({ lab: entry })));

    // 1. First start: dev server + worker; the Web UI answers.
    const first = startMain(env);
    started.push(first.child);
    await until('the first worker', () => first.output().includes('worker polling'), 90_000);
    expect(first.output()).toContain(
      `inventory ${path.join(dataDir, 'inventory.yaml')} (data directory): 1 cluster(s): lab`,
    );
    expect(first.output()).toContain(`Temporal Web UI: http://127.0.0.1:${uiPort}`);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${chatopsPort}/healthz`)).status).toBe(200);
    // ChatOps on the worker's server, through the shared client factory; its replay log in the data dir.
    expect(first.output()).toContain(
      `payload codec off; replay log ${path.join(dataDir, 'chatops-replay.log')}`,
    );
    expect(first.output()).toContain(`Prometheus metrics: http://127.0.0.1:${metricsPort}/metrics`);
    const serverPid1 = Number(readFileSync(pidFile, 'utf8'));

    // 2. A healthCheck run, caught while its activity waits on the Webapp.
    webapp.healthDelayMs = 120_000;
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    const workflowId = `lab/healthCheck/start-${Date.now()}`;
    const input = { cluster: 'lab' };
    await client.workflow.start('healthCheck', {
      taskQueue: env.WABA_TASK_QUEUE as string,
      workflowId,
      args: [input],
    });
    await until('the health call', () => webapp.healthCalls > 0, 30_000);
    await connection.close();
    // The run's stage is logged as one JSON line with its ids, cluster and step (the SDK flushes
    // forwarded logs every 100 ms: wait for it before the kill).
    const loggedRun = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .some(
          (l) => l.workflowId === workflowId && typeof l.runId === 'string' && l.cluster === 'lab' && l.step,
        );
    await until('the run logged as JSON', () => loggedRun(first.output()), 15_000);

    // 3. SIGKILL: the worker dies mid-activity; the kernel stops its dev server too (no orphan).
    first.child.kill('SIGKILL');
    await until('the dev server to stop after its parent', () => !alive(serverPid1), 15_000);

    // 4. Start again on the same SQLite file: the run is still there and finishes.
    webapp.healthDelayMs = 0;
    const second = startMain(env);
    started.push(second.child);
    await until('the second worker', () => second.output().includes('worker polling'), 90_000);
    const connection2 = await Connection.connect({ address: `127.0.0.1:${port}` });
    const result = (await new Client({ connection: connection2 }).workflow
      .getHandle(workflowId)
      .result()) as HealthCheckResult;
    await connection2.close();
    expect(result.verdict).toBe('ha-connected');
    expect(webapp.healthCalls).toBeGreaterThanOrEqual(2);

    // The restarted worker counted the run's success (the one after the server's restart comes later).
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^waba_runs_succeeded_total\{[^}]*runbook="healthCheck"[^}]*\} 1$/m);
    // Every line either worker logged is JSON (the first worker logged the run's stage above).
    for (const line of `${first.output()}\n${second.output()}`.split('\n').filter((l) => l.startsWith('{')))
      expect(() => JSON.parse(line)).not.toThrow();
    expect(`${first.output()}${second.output()}`).not.toContain(PASSWORD);

    // 5. The dev server alone dies: the watchdog starts it again on the same port and file, says why,
    // and the same worker runs the next run.
    const killedPid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(killedPid, 'SIGKILL');
    await until(
      'the dev server restarted',
      () => second.output().includes('restarting the embedded Temporal dev server: its process exited'),
      30_000,
    );
    await until('a new dev server pid', () => Number(readFileSync(pidFile, 'utf8')) !== killedPid, 60_000);
    const connection3 = await Connection.connect({ address: `127.0.0.1:${port}` });
    const again = (await new Client({ connection: connection3 }).workflow.execute('healthCheck', {
      taskQueue: env.WABA_TASK_QUEUE as string,
      workflowId: `${workflowId}-after-restart`,
      args: [input],
      workflowExecutionTimeout: '60s',
    })) as HealthCheckResult;
    await connection3.close();
    expect(again.verdict).toBe('ha-connected');

    // 6. Ctrl-C (SIGINT): worker drains, dev server stops, exit 0, nothing left behind.
    const serverPid2 = Number(readFileSync(pidFile, 'utf8'));
    const exited = new Promise<number | null>((resolve) => second.child.on('exit', resolve));
    second.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(alive(serverPid2)).toBe(false);
  }, 240_000);
});
