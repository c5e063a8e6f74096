// Every metric the Grafana dashboard and the Prometheus alerts (deploy/) use is on a running
// worker's /metrics: the worker's production Runtime and interceptors in their own process
// (test/support/telemetry-worker.ts: the cluster faked, the dev server real), after a run that
// succeeded, one that failed, one cancelled, each at an approval gate that waited.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/free-port';
import { statusQuery } from '../../workflows/api';
import { approve, reject, signedInput } from '../support/decide';
import { alertRules, dashboardExpressions, metricNames, PROMETHEUS_MADE } from '../support/deploy-files';
import { runFailure, upgradeInput, within } from '../support/fake-cluster';
import { testClient } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const taskQueue = `deploy-metrics-${randomUUID()}`;
let worker: WorkerProcess;
let metricsUrl: string;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  temporal = await testClient();
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = await startWorkerProcess(
    {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      WABA_TASK_QUEUE: taskQueue,
      WABA_METRICS_ADDRESS: `127.0.0.1:${port}`,
    },
    90_000,
    'test/support/telemetry-worker.ts',
  );
}, 120_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await temporal?.close();
});

const scrape = async () => (await fetch(metricsUrl)).text();

/** The metric names of a scrape (sample lines, not comments). */
const exported = (text: string) =>
  new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][\w:]*/.exec(l)?.[0]),
  );

/** The samples of `name` whose labels include `labels`, as numbers. */
function samples(text: string, name: string, labels: Record<string, string>): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.split(' ').pop()));
}

async function startUpgrade(name: string) {
  const workflowId = `lab/upgrade/deploy-${name}-${randomUUID()}`;
  const handle = await temporal.client.workflow.start('upgrade', {
    taskQueue,
    workflowId,
    args: [await signedInput('upgrade', workflowId, upgradeInput())],
  });
  for (let i = 0; i < 100; i++) {
    const s = await handle.query(statusQuery).catch(() => undefined);
    if (s?.pendingGates?.length) return handle;
    await sleep(200);
  }
  throw new Error(`the gate of ${workflowId} did not open in 20 s`);
}

describe('the metrics of deploy/ on a running worker', () => {
  it('exports every metric the dashboard and the alerts use, and the open-gate gauge', async () => {
    const gate = { runbook: 'upgrade', cluster: 'lab', gate: 'upgrade' };
    const approved = await startUpgrade('approved');
    const opened = samples(await scrape(), 'waba_gate_opened_timestamp_seconds', gate);
    expect(opened).toHaveLength(1);
    // The unix time it opened (workflow time: the activation's), within a minute of now.
    expect(Math.abs((opened[0] ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    await approve(temporal.client, approved.workflowId, 'upgrade', 'alice');
    await within(60_000, 'the approved upgrade', approved.result());

    const rejected = await startUpgrade('rejected');
    await reject(temporal.client, rejected.workflowId, 'upgrade', 'bob', 'not tonight');
    expect((await runFailure(rejected)).failure.type).toBe('ApprovalRejected');

    // A run cancelled at its gate closes the gate too.
    const cancelled = await startUpgrade('cancelled');
    expect(samples(await scrape(), 'waba_gate_opened_timestamp_seconds', gate)[0]).toBeGreaterThan(0);
    await cancelled.cancel();
    const ended = await within(60_000, 'the cancelled upgrade', cancelled.result()).catch((e: unknown) => e);
    expect((ended as { cause?: Error }).cause?.name).toBe('CancelledFailure');

    // Workflow metrics reach the exporter asynchronously: poll briefly.
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await scrape();
      if (samples(text, 'waba_runs_failed_total', { runbook: 'upgrade', cancelled: 'true' }).length) break;
      await sleep(200);
    }
    expect(samples(text, 'waba_runs_succeeded_total', { runbook: 'upgrade', cluster: 'lab' })).toEqual([1]);
    expect(samples(text, 'waba_runs_failed_total', { runbook: 'upgrade', cancelled: 'false' })).toEqual([1]);
    expect(samples(text, 'waba_runs_failed_total', { runbook: 'upgrade', cancelled: 'true' })).toEqual([1]);
    // Every gate closed: the gauge is back to 0.
    expect(samples(text, 'waba_gate_opened_timestamp_seconds', gate)).toEqual([0]);

    const names = exported(text);
    const used = new Map<string, string>();
    for (const r of alertRules()) for (const n of metricNames(r.expr)) used.set(n, `alert ${r.alert}`);
    for (const e of dashboardExpressions()) for (const n of metricNames(e.expr)) used.set(n, e.where);
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used]
      .filter(([name]) => !names.has(name) && !PROMETHEUS_MADE.has(name))
      .map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  }, 150_000);
});
