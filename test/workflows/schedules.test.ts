// Temporal Schedules for runbooks (src/client/schedules/) on the suite's real dev server: the
// calendar syntax, create/describe/list/pause/unpause/delete, refusal of bad input, and a triggered
// upgrade that runs on a real worker with the fake cluster and still stops at its approval gate.
// Every schedule and run created here is removed at the end; every wait is bounded.
import { randomUUID } from 'node:crypto';
import { type Client, ScheduleNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStart } from '../../src/client/decide';
import { InputError } from '../../src/client/runbooks';
import {
  checkTimeZone,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  parseCalendar,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../../src/client/schedules';
import type { PreviewResult } from '../../src/model/results';
import {
  type GatedRunStatus,
  statusQuery,
  TemporalScheduledById,
  WabaCluster,
  WabaRunbook,
} from '../../workflows/api';
import type { Scenario } from '../support/fake-cluster';
import { fakeCluster, runFailure, scenario, until, upgradeInput, within } from '../support/fake-cluster';
import { testKey } from '../support/keys';
import { keyOf, preApproval } from '../support/signed-decisions';
import { testClient } from '../support/temporal';

/** A cluster name of its own per test, so schedule and workflow ids never collide. */
const clusterName = () => `sched-${randomUUID().slice(0, 8)}`;
/** An upgrade of cluster `name` to 2.29.3 (the fake's inventory, where a worker runs it, says 2.29.1). */
const upgradeOn = (name: string) => upgradeInput({}, name);

let client: Client;
let close: () => Promise<void>;
const created = new Set<string>();

/**
 * Terminate whatever a schedule started that is still open, then delete the schedule. Describing a
 * schedule is a query its scheduler workflow answers on the server, which can lag under the suite's
 * load (CI saw 30 s): best effort within 10 s; the runs a test triggered are tracked and terminated
 * by its scenario anyway. The delete itself must go through.
 */
async function removeSchedule(c: Client, scheduleId: string): Promise<void> {
  const d = await c
    .withDeadline(Date.now() + 10_000, () => describeSchedule(c, scheduleId))
    .catch(() => undefined);
  for (const run of d?.runningRuns ?? []) {
    await c.workflow
      .getHandle(run.workflowId)
      .terminate('schedules test over')
      .catch(() => undefined);
  }
  await deleteSchedule(c, scheduleId).catch((err: unknown) => {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  });
  created.delete(scheduleId);
}

beforeAll(async () => {
  ({ client, close } = await testClient());
});

afterAll(async () => {
  for (const id of [...created]) await removeSchedule(client, id);
  await close();
});

/** The failure `promise` was refused with (it must be an InputError). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    (v) => new Error(`expected a refusal, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof InputError)) throw err;
  return err.message;
}

/**
 * Create a schedule of `input` (an upgrade) on the scenario's worker, trigger it once, await the
 * run it started (it must fail) and remove the schedule.
 */
async function scheduledRunFailure(s: Scenario, label: string, input: unknown) {
  const cluster = (input as { cluster: string }).cluster;
  // Every step bounded and named: a stuck dev server says which step, within the test's timeout.
  const scheduleId = `test/${cluster}/upgrade-${label}`;
  created.add(scheduleId);
  await within(
    30_000,
    `creating schedule ${scheduleId}`,
    createSchedule(s.client, {
      runbook: 'upgrade',
      input,
      calendar: 'sun 03:00',
      timeZone: 'UTC',
      note: `alice: ${label}`,
      taskQueue: s.taskQueue,
      scheduleId,
    }),
  );
  try {
    // The trigger reads visibility and describes the schedule until it acts: under the full suite's
    // load that took over 20 s once (CI, 2026-12-03), so it gets 40 s, and 45 s in all.
    const triggered = await within(45_000, 'the trigger', triggerSchedule(s.client, scheduleId, 40_000));
    if (!triggered.started) throw new Error(`the trigger started nothing: ${triggered.reason}`);
    const handle = s.client.workflow.getHandle(triggered.workflowId);
    s.track(handle);
    return await runFailure(handle, 20_000);
  } finally {
    await within(30_000, `removing schedule ${scheduleId}`, removeSchedule(s.client, scheduleId));
  }
}

/** A dry run of an upgrade of `name`, and alice's approval of its plan given in advance. */
async function dryRunPreApproved(s: Scenario, name: string) {
  const dry = await s.start('upgrade', 'preview', { ...upgradeOn(name), preview: true });
  const preview = (await within(30_000, 'the dry run', dry.result())) as PreviewResult;
  const pre = await preApproval({
    cluster: name,
    runbook: 'upgrade',
    gate: 'upgrade',
    plan: preview.planHash,
    by: 'alice',
    reason: 'CHG-4711 approved by the CAB',
  });
  return { preview, pre };
}

/** The activity types a run scheduled, in order (from its history). */
async function activityNames(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** The part of `at` that a calendar in `timeZone` matches: `Sun 03:00`. */
const localTime = (at: string, timeZone: string) => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('weekday')} ${part('hour')}:${part('minute')}`;
};

describe('parseCalendar', () => {
  it('reads days and a 24-hour time', () => {
    expect(parseCalendar('sun 03:00')).toEqual({ dayOfWeek: ['SUNDAY'], hour: 3, minute: 0 });
    expect(parseCalendar('mon-fri 22:30')).toEqual({
      dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY' }],
      hour: 22,
      minute: 30,
    });
    expect(parseCalendar('sat,sun 4:05')).toEqual({ dayOfWeek: ['SATURDAY', 'SUNDAY'], hour: 4, minute: 5 });
    expect(parseCalendar('* 02:15')).toEqual({ dayOfWeek: '*', hour: 2, minute: 15 });
    expect(parseCalendar('  SUN   00:00 ')).toEqual({ dayOfWeek: ['SUNDAY'], hour: 0, minute: 0 });
    expect(parseCalendar('mon-wed,fri 23:59')).toEqual({
      dayOfWeek: [{ start: 'MONDAY', end: 'WEDNESDAY' }, 'FRIDAY'],
      hour: 23,
      minute: 59,
    });
    // A range across the weekend is split where the week wraps.
    expect(parseCalendar('fri-mon 01:00').dayOfWeek).toEqual([
      { start: 'FRIDAY', end: 'SATURDAY' },
      { start: 'SUNDAY', end: 'MONDAY' },
    ]);
    expect(parseCalendar('sat-tue 01:00').dayOfWeek).toEqual([
      'SATURDAY',
      { start: 'SUNDAY', end: 'TUESDAY' },
    ]);
  });

  it('refuses anything else, naming the bad part', () => {
    const bad = (spec: string) => {
      try {
        parseCalendar(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        return (err as Error).message;
      }
      throw new Error(`"${spec}" was accepted`);
    };
    expect(bad('sun')).toMatch(/^calendar "sun": expected "<days> <hh:mm>"/);
    expect(bad('sun 03:00 Europe/Rome')).toMatch(/expected "<days> <hh:mm>"/);
    expect(bad('sunday 03:00')).toMatch(
      /^calendar "sunday 03:00": unknown day "sunday"; expected a day \(sun,/,
    );
    expect(bad('mon-xyz 03:00')).toMatch(/unknown day "xyz"/);
    expect(bad('sat,,sun 03:00')).toMatch(/empty day in "sat,,sun"/);
    expect(bad('mon-wed-fri 03:00')).toMatch(/bad day range "mon-wed-fri"/);
    expect(bad('sun 3pm')).toBe('calendar "sun 3pm": time "3pm" is not hh:mm (24-hour), e.g. 03:00');
    expect(bad('sun 24:00')).toBe('calendar "sun 24:00": hour 24 in "24:00" is not 00-23');
    expect(bad('sun 03:60')).toBe('calendar "sun 03:60": minute 60 in "03:60" is not 00-59');
  });

  it('accepts IANA time zones only', () => {
    expect(checkTimeZone('Europe/Rome')).toBe('Europe/Rome');
    expect(checkTimeZone('UTC')).toBe('UTC');
    expect(checkTimeZone('europe/rome')).toBe('Europe/Rome');
    expect(checkTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    for (const tz of ['Mars/Olympus_Mons', '+01:00', 'Europe/Rome; drop', '']) {
      expect(() => checkTimeZone(tz)).toThrow(`time zone "${tz}" is not an IANA time zone name`);
    }
  });
});

describe('schedules on the dev server', () => {
  it('create, describe, list, pause, unpause, delete', async () => {
    const name = clusterName();
    const input = upgradeOn(name);
    const made = await createSchedule(client, {
      runbook: 'upgrade',
      input,
      calendar: 'sun 03:00',
      timeZone: 'Europe/Rome',
      note: 'alice: monthly upgrade',
      taskQueue: 'waba-runbooks-test-unpolled',
    });
    const id = made.scheduleId;
    created.add(id);
    expect(made).toEqual({
      scheduleId: `${name}/upgrade/schedule`,
      workflowId: `${name}/upgrade`,
      cluster: name,
      nextRunTimes: expect.any(Array),
    });
    expect(made.nextRunTimes.length).toBeGreaterThan(0);

    const d = await describeSchedule(client, id);
    expect(d).toMatchObject({
      scheduleId: id,
      runbook: 'upgrade',
      cluster: name,
      calendar: 'sun 03:00',
      timeZone: 'Europe/Rome',
      workflowId: `${name}/upgrade`,
      taskQueue: 'waba-runbooks-test-unpolled',
      overlap: 'SKIP',
      catchupWindow: '1h',
      paused: false,
      note: 'alice: monthly upgrade',
      createdNote: 'alice: monthly upgrade',
      recentRuns: [],
      runningRuns: [],
      actionsTaken: 0,
    });
    expect(d.calendars).toHaveLength(1);
    expect(d.calendars[0]).toMatchObject({
      dayOfWeek: [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }],
      hour: [{ start: 3, end: 3, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    // The server reads the calendar in the time zone: every next run is a Sunday, 03:00 in Rome.
    expect(d.nextRunTimes.length).toBeGreaterThan(1);
    for (const at of d.nextRunTimes) expect(localTime(at, 'Europe/Rome')).toBe('Sun 03:00');

    // The action: the runbook, its input, and the search attributes the run carries.
    const raw = await client.schedule.getHandle(id).describe();
    expect(raw.action.workflowType).toBe('upgrade');
    expect(raw.action.args).toEqual([input]);
    const actionAttributes = raw.action.typedSearchAttributes as TypedSearchAttributes;
    expect(actionAttributes.get(WabaCluster)).toBe(name);
    expect(actionAttributes.get(WabaRunbook)).toBe('upgrade');
    expect(raw.typedSearchAttributes.get(WabaCluster)).toBe(name);
    expect(raw.policies.catchupWindow).toBe(3_600_000);

    // Listing is eventually consistent: wait (bounded) for it to show up, alone and by cluster.
    const listed = await until(
      'the schedule in the list',
      () => listSchedules(client),
      (all) => all.some((s) => s.scheduleId === id),
    );
    expect(listed.find((s) => s.scheduleId === id)).toEqual({
      scheduleId: id,
      runbook: 'upgrade',
      cluster: name,
      calendar: 'sun 03:00',
      timeZone: 'Europe/Rome',
      paused: false,
      note: 'alice: monthly upgrade',
      nextRunTime: d.nextRunTimes[0],
    });
    const byCluster = await until(
      'the schedule listed by cluster',
      () => listSchedules(client, { cluster: name }),
      (all) => all.length > 0,
    );
    expect(byCluster.map((s) => s.scheduleId)).toEqual([id]);
    expect(await listSchedules(client, { cluster: `${name}-other` })).toEqual([]);

    // A second schedule with the same id is refused.
    expect(
      await refusal(
        createSchedule(client, {
          runbook: 'upgrade',
          input,
          calendar: 'sat 03:00',
          timeZone: 'Europe/Rome',
          note: 'bob: again',
          taskQueue: 'waba-runbooks-test-unpolled',
        }),
      ),
    ).toBe(`schedule ${id} already exists; delete it first or give another id (--id)`);

    // Another id, and a single scheduled run (a one-off off-peak upgrade).
    const once = await createSchedule(client, {
      runbook: 'upgrade',
      input,
      calendar: 'sat 02:30',
      timeZone: 'UTC',
      note: 'bob: once',
      taskQueue: 'waba-runbooks-test-unpolled',
      scheduleId: `${name}/upgrade/once`,
      remainingActions: 1,
    });
    created.add(once.scheduleId);
    expect(await describeSchedule(client, once.scheduleId)).toMatchObject({
      scheduleId: `${name}/upgrade/once`,
      remainingActions: 1,
      timeZone: 'UTC',
    });
    await removeSchedule(client, once.scheduleId);

    const paused = await pauseSchedule(client, id, 'bob: change freeze until Monday');
    expect(paused).toMatchObject({
      paused: true,
      note: 'bob: change freeze until Monday',
      createdNote: 'alice: monthly upgrade',
    });
    expect(await describeSchedule(client, id)).toMatchObject({ paused: true });
    const unpaused = await unpauseSchedule(client, id, 'bob: freeze over');
    expect(unpaused).toMatchObject({
      paused: false,
      note: 'bob: freeze over',
      createdNote: 'alice: monthly upgrade',
    });
    expect((await pauseSchedule(client, id)).note).toBe('paused with waba-runbooks');

    await deleteSchedule(client, id);
    created.delete(id);
    await expect(describeSchedule(client, id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await until(
      'the schedule to leave the list',
      () => listSchedules(client, { cluster: name }),
      (all) => all.length === 0,
    );
  });

  it('refuses a bad input, calendar, time zone or runbook at create, naming the field, and creates nothing', async () => {
    const name = clusterName();
    const good = upgradeOn(name);
    const base = {
      runbook: 'upgrade',
      calendar: 'sun 03:00',
      timeZone: 'Europe/Rome',
      note: 'alice: monthly upgrade',
      taskQueue: 'waba-runbooks-test-unpolled',
    };
    // A cluster spec inline, or a policy in the input: refused, saying where they live now.
    const inline = {
      ...good,
      cluster: { name, hosts: [{ name: 'web1', address: '10.0.0.11', roles: ['webapp'] }] },
    };
    expect(await refusal(createSchedule(client, { ...base, input: inline }))).toBe(
      'invalid upgrade input:\n  cluster: expected the name of a cluster in the worker inventory, e.g. "prod": ' +
        'an inline cluster spec is not accepted (hosts, keys, URLs and secrets live in the inventory)',
    );
    const policy = { ...good, approvals: { approvers: ['alice', 'bob'], allowPreApproval: true } };
    expect(await refusal(createSchedule(client, { ...base, input: policy }))).toBe(
      'invalid upgrade input:\n  approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
    );

    // Bounds: what the schema alone can tell (the cluster's version is the worker's to check).
    const unbounded = await refusal(
      createSchedule(client, {
        ...base,
        input: { ...good, maxUnavailable: 1e20, timeouts: { health: '0s' } },
      }),
    );
    expect(unbounded).toMatch(/^invalid upgrade input:\n {2}maxUnavailable: /);
    expect(unbounded).toContain('\n  timeouts.health: expected a duration from 1s to 2h');
    const missing = await refusal(
      createSchedule(client, { ...base, input: { ...good, requestedBy: undefined } }),
    );
    expect(missing).toMatch(/^invalid upgrade input:\n {2}requestedBy: /);

    expect(await refusal(createSchedule(client, { ...base, input: good, runbook: 'reboot' }))).toMatch(
      /^unknown runbook "reboot"; one of: healthCheck, /,
    );
    expect(await refusal(createSchedule(client, { ...base, input: good, calendar: 'sunday 03:00' }))).toMatch(
      /unknown day "sunday"/,
    );
    expect(await refusal(createSchedule(client, { ...base, input: good, timeZone: 'CEST+1' }))).toMatch(
      /time zone "CEST\+1" is not an IANA time zone name/,
    );
    expect(await refusal(createSchedule(client, { ...base, input: good, remainingActions: 0 }))).toBe(
      'remaining actions must be a whole number of at least 1, got 0',
    );
    expect(await refusal(createSchedule(client, { ...base, input: good, note: '  ' }))).toMatch(
      /a schedule needs a note: who created it and why/,
    );
    await expect(describeSchedule(client, `${name}/upgrade/schedule`)).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
  });

  it('trigger starts the upgrade with the schedule input; it still stops at its approval gate', async () => {
    const name = clusterName();
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: [name] });
    await scenario(fake, async (s) => {
      const input = upgradeOn(name);
      const { scheduleId } = await createSchedule(s.client, {
        runbook: 'upgrade',
        input,
        calendar: '* 03:00',
        timeZone: 'UTC',
        note: 'alice: nightly upgrade test',
        taskQueue: s.taskQueue,
        scheduleId: `test/${name}/upgrade`,
      });
      created.add(scheduleId);
      try {
        // The trigger reads visibility and describes the schedule until it acts: under the full suite's
        // load that took over 20 s once (CI, 2026-12-03), so it gets 40 s, and 45 s in all.
        const triggered = await within(45_000, 'the trigger', triggerSchedule(s.client, scheduleId, 40_000));
        if (!triggered.started) throw new Error(`the trigger started nothing: ${triggered.reason}`);
        // The server appends the scheduled time to the schedule's workflow id.
        expect(triggered.workflowId).toMatch(
          new RegExp(`^${name}/upgrade-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`),
        );
        const handle: WorkflowHandle = s.client.workflow.getHandle(triggered.workflowId);
        s.track(handle);

        const atGate = await until(
          'the upgrade gate to open',
          () => handle.query(statusQuery) as Promise<GatedRunStatus>,
          (st) => st.pendingGates.some((g) => g.gate === 'upgrade'),
          20_000,
        );
        expect(atGate.stage).toBe('waiting for approval: upgrade');
        expect(atGate.pendingGates.map((g) => g.gate)).toEqual(['upgrade']);
        expect(atGate.pendingGates[0]?.summary).toMatch(`upgrade cluster ${name} from v2.29.1 to v2.29.3`);
        // Only the backup ran before the gate: nothing disruptive without a person's approval.
        expect(fake.callsOf('settingsBackup')).toHaveLength(1);
        expect(fake.callsOf('composeUp')).toEqual([]);
        expect(fake.callsOf('startDbUpgrade')).toEqual([]);

        // The run got exactly the schedule's input, and the search attributes of a manual start.
        const history = await handle.fetchHistory();
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        const payload = started?.input?.payloads?.[0]?.data;
        expect(payload && JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual(input);
        const run = await handle.describe();
        expect(run.type).toBe('upgrade');
        expect(run.taskQueue).toBe(s.taskQueue);
        expect(run.typedSearchAttributes.get(WabaCluster)).toBe(name);
        expect(run.typedSearchAttributes.get(WabaRunbook)).toBe('upgrade');

        const d = await describeSchedule(s.client, scheduleId);
        expect(d.runningRuns).toEqual([{ workflowId: triggered.workflowId, runId: triggered.runId }]);
        expect(d.recentRuns.map((r) => r.workflowId)).toEqual([triggered.workflowId]);
        expect(d.actionsTaken).toBe(1);

        // A second trigger while that run is open is refused, and starts nothing.
        expect(await refusal(triggerSchedule(s.client, scheduleId))).toBe(
          `a upgrade run is already in progress on cluster ${name} (workflow ${triggered.workflowId}); wait for it to finish or cancel it before starting another`,
        );
        expect((await describeSchedule(s.client, scheduleId)).actionsTaken).toBe(1);

        await handle.terminate('schedules test over');
      } finally {
        await removeSchedule(s.client, scheduleId);
      }
    });
  });

  it('a pre-approved scheduled upgrade passes its gate by the named approver; a manual start may not', async () => {
    const name = clusterName();
    // The inventory's policy of the cluster allows pre-approval (alice and bob approve).
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: [name] });
    await scenario(fake, async (s) => {
      // A dry run shows the plan the gate will show, and its hash: alice signs that in advance.
      const { preview, pre } = await dryRunPreApproved(s, name);
      expect(preview).toMatchObject({ preview: true, cluster: name, runbook: 'upgrade', gate: 'upgrade' });
      expect(preview.planHash).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.callsOf('settingsBackup')).toEqual([]);
      expect(fake.callsOf('composeUp')).toEqual([]);
      // The schedule's runs are requested by carol: creating it signs the input once, for the schedule.
      const scheduleId = `test/${name}/upgrade-preapproved`;
      const input = { ...upgradeOn(name), preApproved: [pre] };
      await createSchedule(s.client, {
        runbook: 'upgrade',
        input,
        calendar: 'sun 03:00',
        timeZone: 'Europe/Rome',
        note: 'alice: CHG-4711',
        taskQueue: s.taskQueue,
        scheduleId,
        signer: testKey('carol').signer,
      });
      created.add(scheduleId);
      try {
        // The trigger reads visibility and describes the schedule until it acts: under the full suite's
        // load that took over 20 s once (CI, 2026-12-03), so it gets 40 s, and 45 s in all.
        const triggered = await within(45_000, 'the trigger', triggerSchedule(s.client, scheduleId, 40_000));
        if (!triggered.started) throw new Error(`the trigger started nothing: ${triggered.reason}`);
        const handle: WorkflowHandle = s.client.workflow.getHandle(triggered.workflowId);
        s.track(handle);
        await within(60_000, 'the pre-approved upgrade', handle.result());
        const st = (await handle.query(statusQuery)) as GatedRunStatus;
        expect(st.requester).toEqual({ name: 'carol', authenticated: true });
        expect(st.decisions.filter((d) => d.gate === 'upgrade')).toEqual([
          expect.objectContaining({
            kind: 'approve',
            by: 'alice',
            preApproved: true,
            comment: 'pre-approved: CHG-4711 approved by the CAB',
            // The plan the dry run showed, signed with alice's key.
            plan: preview.planHash,
            key: keyOf('alice'),
          }),
        ]);
        expect(st.stagesDone).not.toContain('waiting for approval: upgrade');
        expect(fake.callsOf('composeUp').length).toBeGreaterThan(0);
        // It was trusted as scheduled because the schedule confirmed it started this run.
        expect(await activityNames(handle)).toContain('confirmScheduledRun');
      } finally {
        await removeSchedule(s.client, scheduleId);
      }

      // The same input started by hand fails at once: nobody can skip the gate by naming alice.
      const manual = await s.start('upgrade', 'manual-preapproved', input);
      const failure = await runFailure(manual);
      expect(failure.failure.type).toBe('InvalidInput');
      expect(failure.failure.message).toMatch(/preApproved: honoured only in runs started by a Schedule/);
    });
  });

  it('a run started by hand with a forged TemporalScheduledById and a copied scheduled input gets nothing from it', async () => {
    const name = clusterName();
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: [name] });
    await scenario(fake, async (s) => {
      const { pre } = await dryRunPreApproved(s, name);
      const scheduleId = `test/${name}/upgrade-copied`;
      await createSchedule(s.client, {
        runbook: 'upgrade',
        input: { ...upgradeOn(name), preApproved: [pre] },
        calendar: 'sun 03:00',
        timeZone: 'UTC',
        note: 'alice: CHG-4711',
        taskQueue: s.taskQueue,
        scheduleId,
        signer: testKey('carol').signer,
      });
      created.add(scheduleId);
      // What anyone with namespace access can read: the schedule's input, carol's signed start and
      // alice's pre-approval in it.
      const [copied] = (await s.client.schedule.getHandle(scheduleId).describe()).action.args ?? [];
      expect(copied).toMatchObject({ requestedBy: 'carol', request: expect.any(Object), preApproved: [pre] });
      const callsBefore = fake.calls.length;

      const forged = async (label: string) => {
        const handle = await s.client.workflow.start('upgrade', {
          taskQueue: s.taskQueue,
          workflowId: `${name}/upgrade-${label}`,
          args: [copied],
          // Accepted by the server: only system search attributes are refused.
          typedSearchAttributes: [{ key: TemporalScheduledById, value: scheduleId }],
          workflowExecutionTimeout: '2m',
        });
        s.track(handle);
        expect((await handle.describe()).typedSearchAttributes.get(TemporalScheduledById)).toBe(scheduleId);
        const { failure } = await runFailure(handle, 60_000);
        const st = (await handle.query(statusQuery)) as GatedRunStatus;
        return { failure, st };
      };

      // The schedule exists, but never started this run.
      const live = await forged('forged-1');
      expect(live.failure.type).toBe('NotStartedBySchedule');
      expect(live.failure.nonRetryable).toBe(true);
      expect(live.failure.message).toBe(
        `TemporalScheduledById says schedule "${scheduleId}" started run "${name}/upgrade-forged-1", but the run is not among the schedule's running or recent actions: a start request can set that attribute, so the run is not trusted as scheduled`,
      );
      expect(live.st.decisions).toEqual([]);

      // The schedule is gone: the same.
      await removeSchedule(s.client, scheduleId);
      const gone = await forged('forged-2');
      expect(gone.failure.type).toBe('NotStartedBySchedule');
      expect(gone.failure.message).toContain(`schedule "${scheduleId}" started run`);
      expect(gone.failure.message).toContain('but there is no such schedule');
      expect(gone.st.decisions).toEqual([]);

      // Nothing touched the cluster: no backup, no compose, no dbupgrade, no API call.
      expect(fake.calls.slice(callsBefore)).toEqual([]);
    });
  }, 120_000);

  it('a schedule start signed long before the schedule was created (re-created under its id) is refused', async () => {
    const name = clusterName();
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: [name] });
    await scenario(fake, async (s) => {
      // As if copied from a schedule deleted an hour ago and created again under the same id.
      const scheduleId = `test/${name}/upgrade-recreated`;
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const input = await signStart(
        upgradeOn(name) as Record<string, unknown>,
        'upgrade',
        `schedule:${scheduleId}`,
        testKey('carol').signer,
        hourAgo,
      );
      const { failure } = await scheduledRunFailure(s, 'recreated', input);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toMatch(
        new RegExp(
          `^invalid upgrade input: request: the start request's signature does not hold \\(signed at ${hourAgo.replace(/\./g, '\\.')}, more than 15 minutes before the schedule's creation `,
        ),
      );
      expect(fake.calls).toEqual([]);
    });
  }, 180_000); // create 30 s + trigger 45 s + the failure 20 s + remove 30 s, each bounded above

  it('a scheduled run the inventory refuses (older version, pre-approvals the policy does not allow) fails at once naming the field', async () => {
    // Well-formed and signed by their author: refused for who they are, not how they are written.
    const pre = async (by: string, gate = 'upgrade') => [
      await preApproval({
        cluster: 'any',
        runbook: 'upgrade',
        gate,
        plan: 'ab'.repeat(32),
        by,
        reason: 'CHG-4711',
      }),
    ];
    // One cluster per case: triggered runs of one cluster in the same second would share a workflow id.
    const cases = [
      [
        'older',
        { toVersion: '2.23.4' },
        'toVersion: must be newer than v2.29.1, the version cluster {name} runs (inventory); no downgrades',
      ],
      [
        'mallory',
        { preApproved: await pre('mallory') },
        'preApproved[0].by: mallory is not an approver of this cluster',
      ],
      [
        'requester',
        { preApproved: await pre('carol') },
        'preApproved[0].by: carol is not an approver of this cluster',
      ],
      [
        'gate',
        { preApproved: await pre('alice', 'rollback') },
        'preApproved[0].gate: only upgrade can be pre-approved',
      ],
    ] as const;
    const names = Object.fromEntries(cases.map(([label]) => [label, clusterName()]));
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: Object.values(names) });
    await scenario(fake, async (s) => {
      const failures = await Promise.all(
        cases.map(async ([label, patch]) => {
          const name = names[label] as string;
          return (await scheduledRunFailure(s, label, { ...upgradeOn(name), ...patch })).failure;
        }),
      );
      failures.forEach((failure, i) => {
        const [label, , field] = cases[i] as (typeof cases)[number];
        expect(failure.type, label).toBe('InvalidInput');
        expect(failure.nonRetryable, label).toBe(true);
        expect(failure.message, label).toBe(
          `invalid upgrade input: ${field.replace('{name}', names[label] as string)}`,
        );
      });
      expect(fake.calls).toEqual([]);
    });

    // A policy without pre-approval: any pre-approval is refused, naming the field.
    const name = clusterName();
    const strict = fakeCluster({
      setUp: true,
      version: '2.29.1',
      clusters: [name],
      entry: (e) => {
        e.approvals.allowPreApproval = false;
      },
    });
    await scenario(strict, async (s) => {
      const { failure } = await scheduledRunFailure(s, 'not-allowed', {
        ...upgradeOn(name),
        preApproved: await pre('alice'),
      });
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toBe(
        "invalid upgrade input: preApproved: the cluster's approval policy (allowPreApproval) does not allow pre-approved gates",
      );
      expect(strict.calls).toEqual([]);
    });
  }, 300_000); // 5 schedules (4 at once, then 1), each step bounded above: at most 2 x 125 s
});
