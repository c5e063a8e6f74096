// The recipe of docs/adding-a-runbook.md, proved on its example (test/support/example-runbook.ts):
// a runbook written with defineRunbook validates before any activity, shows its progress and plan,
// waits at its gate, and on failure says so in `status` and in the chat. Activities are faked.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { Activities } from '../../activities';
import { inventoryActivities } from '../../activities/inventory';
import { signStart } from '../../src/client/decide';
import type { NotifyEvent } from '../../src/model/notify';
import type { RunStatus } from '../../workflows/api';
import { approve } from '../support/decide';
import type { ExampleRestartResult } from '../support/example-runbook';
import { testInventoryStore } from '../support/inventory';
import { testKey } from '../support/keys';
import { useOwnBundle } from '../support/temporal';

const own = useOwnBundle(path.join(__dirname, '../support/example-runbook.ts'));

/** The faked activities of one test: what they were asked, in order, and the chat's notifications. */
function fakes(opts: { upFails?: boolean } = {}) {
  const calls: string[] = [];
  const notified: NotifyEvent[] = [];
  // The real resolution over the test inventory; its approval policy is the one gated runbooks get.
  const resolve = inventoryActivities({ inventory: testInventoryStore() }).resolveCluster;
  const activities: Partial<Activities> = {
    resolveCluster: async ({ cluster }) => {
      calls.push('resolveCluster');
      return resolve({ cluster, runbook: 'uninstall' });
    },
    acquireClusterLock: async ({ request }) => {
      calls.push('acquireClusterLock');
      return { granted: true, holder: { ...request, since: new Date().toISOString() } };
    },
    releaseClusterLock: async () => {
      calls.push('releaseClusterLock');
      return 'ending';
    },
    composeUp: async (a) => {
      calls.push(`composeUp ${a.host} ${a.service}`);
      if (opts.upFails) throw ApplicationFailure.nonRetryable('wacore did not start', 'RemoteCommandFailed');
      return { host: a.host, service: a.service, version: a.version };
    },
    notify: async (event) => {
      notified.push(event);
      return { delivered: false as const, reason: 'not configured' as const };
    },
  };
  return { calls, notified, activities };
}

/** Run `fn` while a worker with the example runbook and `activities` polls a fresh task queue. */
async function withExampleWorker<T>(
  activities: Partial<Activities>,
  fn: (start: (input: Record<string, unknown>) => Promise<WorkflowHandle>) => Promise<T>,
): Promise<T> {
  const taskQueue = `example-${randomUUID()}`;
  const worker = await Worker.create({
    connection: own.nativeConnection,
    taskQueue,
    activities,
    workflowBundle: { code: own.bundle },
  });
  const start = async (input: Record<string, unknown>) => {
    const workflowId = `lab/exampleRestart/${randomUUID()}`;
    // Signed by its requester, as `waba-runbooks start` signs it: one approval is then enough.
    const signed = await signStart(input, 'exampleRestart', workflowId, testKey('carol').signer);
    return own.client.workflow.start('exampleRestart', {
      taskQueue,
      workflowId,
      args: [signed],
      workflowExecutionTimeout: '60s',
    });
  };
  return worker.runUntil(fn(start));
}

/** Poll `read` until `ok` holds, for at most 15 s. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

const input = { cluster: 'lab', host: 'core1', service: 'wacore', requestedBy: 'carol' };
type Status = RunStatus & { pendingGates: { gate: string }[] };

describe('a runbook written with defineRunbook (the example of docs/adding-a-runbook.md)', () => {
  it('refuses a bad input before any activity runs, and notifies nobody', async () => {
    const f = fakes();
    await withExampleWorker(f.activities, async (start) => {
      const handle = await start({ ...input, service: 'nginx', extra: 1 });
      const failure = await failureOf(handle);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toMatch(/^invalid exampleRestart input: .*service/);
      expect(failure.message).toContain('extra');
      expect(f.calls).toEqual([]);
      expect(f.notified).toEqual([]);
    });
  });

  it('shows its stage and plan, waits at its gate, and runs the step once approved', async () => {
    const f = fakes();
    await withExampleWorker(f.activities, async (start) => {
      const handle = await start(input);
      const atGate = await until(
        'the gate',
        () => handle.query<Status>('status'),
        (s) => s.pendingGates.some((g) => g.gate === 'restart'),
      );
      expect(atGate).toMatchObject({
        runbook: 'exampleRestart',
        cluster: 'lab',
        stage: 'waiting for approval: restart',
      });
      expect(atGate.stagesDone).toEqual(['validate', 'resolve cluster']);
      const plan = await handle.query<{ stage: string }[]>('plan');
      expect(plan.map((p) => p.stage)).toEqual(['resolve cluster', 'approval', 'restart wacore']);
      // Nothing changed before the approval.
      expect(f.calls).toEqual(['resolveCluster', 'acquireClusterLock']);

      await approve(own.client, handle.workflowId, 'restart', 'alice');
      const result = (await handle.result()) as ExampleRestartResult;
      expect(result).toMatchObject({ cluster: 'lab', host: 'core1', service: 'wacore' });
      expect(result.decisions).toHaveLength(1);
      expect(f.calls).toEqual([
        'resolveCluster',
        'acquireClusterLock',
        'composeUp core1 wacore',
        'releaseClusterLock',
      ]);
      expect(f.notified.map((n) => n.kind)).toEqual(['gateOpened', 'runSucceeded']);
      const done = await handle.query<Status>('status');
      expect(done.stage).toBe('done');
      expect(done.hosts).toEqual({ core1: 'wacore re-created' });
    });
  });

  it('on failure: the error in status, the chat told why, the lock released', async () => {
    const f = fakes({ upFails: true });
    await withExampleWorker(f.activities, async (start) => {
      const handle = await start(input);
      await until(
        'the gate',
        () => handle.query<Status>('status'),
        (s) => s.pendingGates.length > 0,
      );
      await approve(own.client, handle.workflowId, 'restart', 'alice');
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const status = await handle.query<Status>('status');
      expect(status.stage).toBe('restart wacore');
      expect(status.lastError).toContain('wacore did not start');
      const failed = f.notified.find((n) => n.kind === 'runFailed');
      expect(failed).toMatchObject({ kind: 'runFailed', run: { runbook: 'exampleRestart', cluster: 'lab' } });
      expect(failed && 'reason' in failed ? failed.reason : '').toContain('wacore did not start');
      expect(f.calls.at(-1)).toBe('releaseClusterLock');
    });
  });
});
