// The worker's telemetry through its production Runtime and interceptors, in a separate process:
// Prometheus per-runbook counters and gate wait times, and JSON log lines naming the run, cluster
// and step. The cluster is faked (test/support/telemetry-worker.ts); the dev server is real.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/free-port';
import { GATE_WAIT_BUCKETS } from '../../workers/telemetry';
import { statusQuery } from '../../workflows/api';
import { approve, reject, signedInput } from '../support/decide';
import { runFailure, upgradeInput, within } from '../support/fake-cluster';
import { testClient } from '../support/temporal';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const taskQueue = `telemetry-${randomUUID()}`;
let worker: WorkerProcess;
let metricsUrl: string;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  temporal = await testClient();
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const address = inject('temporalAddress');
  worker = await startWorkerProcess(
    { TEMPORAL_ADDRESS: address, WABA_TASK_QUEUE: taskQueue, WABA_METRICS_ADDRESS: `127.0.0.1:${port}` },
    90_000,
    'test/support/telemetry-worker.ts',
  );
}, 120_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await temporal?.close();
});

/** The value of one Prometheus sample whose labels include all of `labels`; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const present = Object.entries(labels).every(([k, v]) => m[2]?.includes(`${k}="${v}"`));
    if (present) return Number(m[3]);
  }
  return 0;
}

async function gateOpen(id: string): Promise<void> {
  const handle = temporal.client.workflow.getHandle(id);
  for (let i = 0; i < 100; i++) {
    const s = await handle.query(statusQuery).catch(() => undefined);
    if (s?.pendingGates?.length) return;
    await sleep(200);
  }
  throw new Error(`gate of ${id} did not open in 20 s`);
}

describe('worker telemetry (Prometheus and JSON logs)', () => {
  it('counts runs by outcome, times gates, and logs JSON with run id, cluster and step', async () => {
    const { client } = temporal;
    // Signed by its requester (carol), as `waba-runbooks start` does: one approval opens the gate.
    const start = async (name: string) => {
      const workflowId = `lab/upgrade/telemetry-${name}-${randomUUID()}`;
      return client.workflow.start('upgrade', {
        taskQueue,
        workflowId,
        args: [await signedInput('upgrade', workflowId, upgradeInput())],
      });
    };

    const approved = await start('approved');
    await gateOpen(approved.workflowId);
    await sleep(1200); // a measurable wait at the gate
    await approve(client, approved.workflowId, 'upgrade', 'alice');
    await within(60_000, 'the approved upgrade', approved.result());

    const rejected = await start('rejected');
    await gateOpen(rejected.workflowId);
    await reject(client, rejected.workflowId, 'upgrade', 'bob', 'not tonight');
    expect((await runFailure(rejected)).failure.type).toBe('ApprovalRejected');

    // Workflow metrics reach the exporter asynchronously: poll briefly.
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await (await fetch(metricsUrl)).text();
      if (sample(text, 'waba_runs_failed_total', { runbook: 'upgrade' }) >= 1) break;
      await sleep(200);
    }
    const upgrade = { runbook: 'upgrade', cluster: 'lab' };
    expect(sample(text, 'waba_runs_started_total', upgrade)).toBe(2);
    expect(sample(text, 'waba_runs_succeeded_total', upgrade)).toBe(1);
    expect(sample(text, 'waba_runs_failed_total', { ...upgrade, cancelled: 'false' })).toBe(1);
    const gate = { runbook: 'upgrade', gate: 'upgrade' };
    expect(sample(text, 'waba_gate_wait_seconds_count', { ...gate, outcome: 'approved' })).toBe(1);
    expect(sample(text, 'waba_gate_wait_seconds_count', { ...gate, outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'waba_gate_wait_seconds_sum', { ...gate, outcome: 'approved' })).toBeGreaterThan(1);
    // Buckets from a second to a week (not the SDK's default, which stops at 10000 s): the wait of a
    // second or two is counted from the 5 s or 15 s bucket up, not in the 1 s one.
    const les = text
      .split('\n')
      .filter((l) => l.startsWith('waba_gate_wait_seconds_bucket{') && l.includes('outcome="approved"'))
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(les).toEqual([...GATE_WAIT_BUCKETS.map(String), '+Inf']);
    const bucket = (le: string) =>
      sample(text, 'waba_gate_wait_seconds_bucket', { ...gate, outcome: 'approved', le });
    expect(bucket('1')).toBe(0);
    expect(bucket('60')).toBe(1);
    expect(bucket('604800')).toBe(1);
    expect(bucket('+Inf')).toBe(1);
    // The SDK's own runtime telemetry is there too.
    expect(text).toMatch(/^temporal_workflow_completed_total\{/m);

    // Every line the Runtime logged is one JSON object; the runs' lines carry ids, cluster and step.
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const ofRun = records.filter((r) => r.workflowId === approved.workflowId);
    expect(ofRun.length).toBeGreaterThan(0);
    expect(ofRun.every((r) => typeof r.runId === 'string' && r.cluster === 'lab')).toBe(true);
    expect(ofRun.map((r) => r.step)).toEqual(expect.arrayContaining(['settings backup']));
    expect(records.every((r) => typeof r.time === 'string' && typeof r.level === 'string')).toBe(true);
  }, 150_000);
});
