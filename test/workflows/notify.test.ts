// Chat notifications from the runbooks on the suite's real dev server: with the cluster and the
// webhook faked in-process (which event, when), and with the real notify activity posting to a local
// receiver (the gate message arrives; a receiver that is down never fails the run).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createActivities, defaultDeps } from '../../activities';
import { parseCommand } from '../../src/chatops/commands';
import type { NotifyEvent } from '../../src/model/notify';
import { windowState } from '../../src/model/window';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import { approve, reject, sendCode as signedCode, signedInput } from '../support/decide';
import {
  collectLogsInput,
  type FakeCluster,
  fakeCluster,
  haSetupInput,
  mediaChownInput,
  runFailure,
  scenario,
  TIMEOUTS,
  until,
  upgradeInput,
  within,
} from '../support/fake-cluster';
import { PLAN_HASH } from '../support/signed-decisions';
import { historyText, withWorker } from '../support/temporal';
import { deadWebhookUrl, RECEIVER_TOKEN, startReceiver } from '../support/webhook-receiver';

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<GatedRunStatus>;

// Decisions as the CLI and ChatOps send them (signed with the approver's test key): the Updates of
// workflows/api.ts.
const approveGate = (client: Client, h: WorkflowHandle, gate: string, by = 'alice') =>
  approve(client, h.workflowId, gate, by);
const rejectGate = (client: Client, h: WorkflowHandle, gate: string, reason: string, by = 'alice') =>
  reject(client, h.workflowId, gate, by, reason);
const sendCode = (client: Client, h: WorkflowHandle, code = '123456', by = 'alice') =>
  signedCode(client, h.workflowId, code, by);

const gateOpen = (h: WorkflowHandle, gate: string) =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates?.some((g) => g.gate === gate),
  );
const awaitingCode = (h: WorkflowHandle) =>
  until(
    'the code wait',
    () => statusOf(h),
    (s) => s.awaitingCode === true,
  );

const eventsOf = (fake: FakeCluster) => fake.notifications.filter((n) => n.delivered).map((n) => n.event);
const notifiedOf = (fake: FakeCluster, kind: NotifyEvent['kind']) =>
  until(
    `a ${kind} notification`,
    async () => eventsOf(fake),
    (events) => events.some((e) => e.kind === kind),
  );

/** Drive a fresh haSetup through its gate and its code wait to success. */
async function haSetupThrough(client: Client, h: WorkflowHandle): Promise<unknown> {
  await gateOpen(h, 'register');
  await approveGate(client, h, 'register');
  await awaitingCode(h);
  await sendCode(client, h);
  return within(40_000, `run ${h.workflowId}`, h.result());
}

describe('notifications with a faked webhook', () => {
  it('haSetup notifies when its gate opens (before anyone decides), when it waits for the code, and its success', async () => {
    const fake = fakeCluster();
    await scenario(fake, async ({ client, start }) => {
      const h = await start('haSetup', 'notify', haSetupInput());
      const run = { cluster: 'lab', runbook: 'haSetup', workflowId: h.workflowId };
      await gateOpen(h, 'register');
      // Sent while the gate is open: the notification does not wait for a decision.
      await notifiedOf(fake, 'gateOpened');
      expect(eventsOf(fake)).toEqual([
        {
          kind: 'gateOpened',
          run,
          gate: 'register',
          summary: 'register +39 3331234567 (sms) on cluster lab',
          requestedBy: 'carol',
          approvers: ['alice', 'bob'],
          minApprovals: 1,
          // The policy of lab in the inventory: approvers, approvals needed and the default timeout.
          timeout: '1h',
          // What the approvers sign: the plan hash the gate shows.
          plan: (await statusOf(h)).pendingGates[0]?.plan,
        },
      ]);
      expect(eventsOf(fake)[0]).toMatchObject({ plan: PLAN_HASH });
      await approveGate(client, h, 'register');
      await awaitingCode(h);
      await notifiedOf(fake, 'waitingForCode');
      expect(eventsOf(fake)[1]).toEqual({ kind: 'waitingForCode', run, timeout: TIMEOUTS.code });
      await sendCode(client, h);
      await within(40_000, 'the run', h.result());
      expect(fake.notified()).toEqual(['gateOpened', 'waitingForCode', 'runSucceeded']);
      expect(eventsOf(fake)[2]).toEqual({
        kind: 'runSucceeded',
        run,
        summary: 'v2.23.4 on 5 hosts, registered +39 3331234567 (code from alice); health ha-connected',
      });
    });
  });

  it('a rejected gate ends the run with a failure notification that says who rejected and why', async () => {
    const fake = fakeCluster();
    await scenario(fake, async ({ client, start }) => {
      const h = await start('haSetup', 'notify-reject', haSetupInput());
      await gateOpen(h, 'register');
      await rejectGate(client, h, 'register', 'wrong number');
      await runFailure(h);
      expect(fake.notified()).toEqual(['gateOpened', 'runFailed']);
      const failed = eventsOf(fake)[1];
      expect(failed?.kind === 'runFailed' && failed.reason).toBe(
        'gate "register" rejected by alice: wrong number',
      );
    });
  });

  it('upgrade outside its window notifies the opening time it waits for', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    await scenario(fake, async ({ start }) => {
      // A window two days from now: the run waits (the scenario terminates it afterwards).
      const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][
        (new Date().getUTCDay() + 2) % 7
      ] as 'mon';
      const window = { days: [day], start: '03:00', end: '05:00', timeZone: 'UTC' };
      const opensAt = new Date(windowState(Date.now(), window).opensAt).toISOString();
      const h = await start('upgrade', 'notify-window', upgradeInput({ window }));
      await until(
        'the window wait',
        () => statusOf(h),
        (s) => s.stage === `waiting for window opening at ${opensAt}`,
      );
      await notifiedOf(fake, 'waitingForWindow');
      expect(eventsOf(fake)).toEqual([
        {
          kind: 'waitingForWindow',
          run: { cluster: 'lab', runbook: 'upgrade', workflowId: h.workflowId },
          opensAt,
        },
      ]);
      expect(fake.calls).toEqual([]);
    });
  });

  it('runbooks without gates notify their end too: collectLogs succeeds, a failing mediaChown fails', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', media: { failWith: 1 } });
    await scenario(fake, async ({ start }) => {
      const logs = await start('collectLogs', 'notify-end', collectLogsInput());
      await within(30_000, 'collectLogs', logs.result());
      const chown = await start('mediaChown', 'notify-end', mediaChownInput());
      await runFailure(chown);
      expect(eventsOf(fake).map((e) => [e.run.runbook, e.kind])).toEqual([
        ['collectLogs', 'runSucceeded'],
        ['mediaChown', 'runFailed'],
      ]);
      const [ok, failed] = eventsOf(fake);
      expect(ok?.kind === 'runSucceeded' && ok.summary).toMatch(
        /^5 log files under lab\/logs-.+, 0 error lines$/,
      );
      expect(failed?.kind === 'runFailed' && failed.reason).toContain('chown on web1 exited 1');
    });
  });

  it('a webhook that always fails: every notification is tried 3 times, the gate does not wait, the run succeeds', async () => {
    const fake = fakeCluster({ notify: 'fails' });
    await scenario(fake, async ({ client, start }) => {
      const h = await start('haSetup', 'notify-fails', haSetupInput());
      await gateOpen(h, 'register');
      // The gate is open while its notification is still being retried.
      expect(fake.notifications.filter((n) => n.event.kind === 'gateOpened').length).toBeLessThan(3);
      const result = (await haSetupThrough(client, h)) as { registration: { status: number } };
      expect(result.registration.status).toBe(202);
      const attempts = (kind: string) =>
        fake.notifications.filter((n) => n.event.kind === kind).map((n) => n.attempt);
      expect(attempts('gateOpened')).toEqual([1, 2, 3]);
      expect(attempts('waitingForCode')).toEqual([1, 2, 3]);
      expect(attempts('runSucceeded')).toEqual([1, 2, 3]);
      expect(fake.notified()).toEqual([]);
      // The cluster's own work ran once each: nothing about the webhook leaked into the runbook.
      expect(fake.callsOf('wabaRegister')).toHaveLength(1);
    });
  });
});

describe('notifications through the real notify activity and a local receiver', () => {
  /** A worker with the fake cluster's activities and the real notify posting to `url`. */
  const activitiesFor = (fake: FakeCluster, url: string) => ({
    ...fake.activities,
    notify: createActivities(defaultDeps(fake.inventory, { notify: { url, timeoutMs: 5_000 } })).notify,
  });

  it('the receiver gets the gate message with buttons the ChatOps endpoint accepts; the URL is not in the history', async () => {
    const receiver = await startReceiver();
    const fake = fakeCluster();
    try {
      await withWorker(activitiesFor(fake, receiver.url), async ({ client, taskQueue }) => {
        const workflowId = `test/haSetup/notify-real-${Date.now()}`;
        const h = await client.workflow.start('haSetup', {
          taskQueue,
          workflowId,
          // Signed by its requester, as `waba-runbooks start` does.
          args: [await signedInput('haSetup', workflowId, haSetupInput())],
          workflowExecutionTimeout: '2m',
        });
        try {
          await gateOpen(h, 'register');
          const [gateMessage] = (
            await until(
              'the gate message at the receiver',
              async () => receiver.received,
              (r) => r.length >= 1,
            )
          ).map(
            (r) => r.body as { text: string; blocks: { type: string; elements?: { value: string }[] }[] },
          );
          expect(gateMessage?.text).toBe(
            'Approval needed: haSetup on lab, gate register: register +39 3331234567 (sms) on cluster lab',
          );
          const values = gateMessage?.blocks.find((b) => b.type === 'actions')?.elements?.map((e) => e.value);
          expect(values?.map((v) => parseCommand(v))).toEqual([
            { name: 'approve', run: h.workflowId, gate: 'register' },
            { name: 'reject', run: h.workflowId, gate: 'register', reason: 'rejected with the chat button' },
          ]);
          await haSetupThrough(client, h);
          const texts = receiver.received.map((r) => (r.body as { text: string }).text);
          expect(texts).toHaveLength(3);
          expect(texts[1]).toMatch(/^Verification code needed: haSetup on lab/);
          expect(texts[2]).toMatch(/^Succeeded: haSetup on lab: v2\.23\.4 on 5 hosts/);
          const history = historyText(await h.fetchHistory());
          expect(history).toMatch(/delivered\\":true/);
          expect(history).not.toContain(RECEIVER_TOKEN);
        } finally {
          await h.terminate('test over').catch(() => undefined);
        }
      });
    } finally {
      await receiver.close();
    }
  });

  it('with the receiver down the run still completes; the failures name no URL', async () => {
    const url = await deadWebhookUrl();
    const fake = fakeCluster();
    await withWorker(activitiesFor(fake, url), async ({ client, taskQueue }) => {
      const workflowId = `test/haSetup/notify-down-${Date.now()}`;
      const h = await client.workflow.start('haSetup', {
        taskQueue,
        workflowId,
        args: [await signedInput('haSetup', workflowId, haSetupInput())],
        workflowExecutionTimeout: '2m',
      });
      try {
        const result = (await haSetupThrough(client, h)) as { registration: { status: number } };
        expect(result.registration.status).toBe(202);
        const history = historyText(await h.fetchHistory());
        expect(history).toContain('notify: the webhook is not reachable (ECONNREFUSED)');
        expect(history).not.toContain(RECEIVER_TOKEN);
        expect(history).not.toContain(url);
      } finally {
        await h.terminate('test over').catch(() => undefined);
      }
    });
  });
});
