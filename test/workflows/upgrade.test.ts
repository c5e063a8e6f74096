// upgrade end to end on the suite's real dev server and a real worker, with the cluster faked
// in-process (test/support/fake-cluster.ts): backup, gate, window, the dbUpgrade and mediaChown
// children, batches with health gates, and every rollback mode. Every wait bounded.
import {
  ChildWorkflowFailure,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { runForDecision, signedDecision } from '../../src/client/decide';
import { plan } from '../../src/client/runbooks';
import type { ApproveArgs, Decision } from '../../src/model/approvals';
import type { NotifyEvent } from '../../src/model/notify';
import {
  approveUpdate,
  type GatedRunStatus,
  type PlanStep,
  statusQuery,
  WabaStep,
} from '../../workflows/api';
import type { Parked, UpgradeResult } from '../../workflows/upgrade';
import { approve, reject } from '../support/decide';
import {
  containerId,
  degradesWhileMasterRuns,
  type FakeCluster,
  fakeCluster,
  nonRetryable,
  runFailure,
  type Scenario,
  SEED,
  scenario,
  until,
  updateRefusal,
  upgradeInput,
  within,
} from '../support/fake-cluster';
import type { RawEntry } from '../support/inventory';
import { testKey } from '../support/keys';
import { keyOf, PLAN_HASH, signedBy } from '../support/signed-decisions';
import { windowClosingAt } from '../support/window-times';

interface UpgradeStatus extends GatedRunStatus {
  fromVersion: string;
  toVersion: string;
  healthGates: UpgradeResult['gates'];
  parked: Parked | null;
}

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<UpgradeStatus>;

const gateOpen = (h: WorkflowHandle, gate: string, ms = 20_000) =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
    ms,
  );

const result = (h: WorkflowHandle, ms = 40_000) =>
  within(ms, `run ${h.workflowId}`, h.result() as Promise<UpgradeResult>);

/** The children an upgrade starts, tracked so the scenario terminates them if still open. */
function trackChildren(s: Scenario, id: string): void {
  s.track(s.client.workflow.getHandle(`${id}/dbUpgrade`));
  s.track(s.client.workflow.getHandle(`${id}/mediaChown`));
}

/** Start an upgrade (children tracked), wait for its gate `upgrade` and approve it as alice. */
async function startApproved(s: Scenario, id: string, input: unknown): Promise<WorkflowHandle> {
  const handle = await s.start('upgrade', id, input);
  trackChildren(s, handle.workflowId);
  await gateOpen(handle, 'upgrade');
  await approve(s.client, handle.workflowId, 'upgrade', 'alice');
  return handle;
}

/** composeUp calls as `host service version`. */
const ups = (fake: FakeCluster) =>
  fake.callsOf('composeUp').map((c) => `${c.host} ${c.service} ${String(c.args.version)}`);

const ALL = ['web1', 'master1', 'master2', 'core1', 'core2'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as ('mon' | 'sun')[];
const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const nextWholeMinute = (t: number) => Math.ceil(t / 60_000) * 60_000;
const iso = (t: number) => new Date(t).toISOString();
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the degraded seed body makes a health gate say with a 2 s deadline. */
const DEGRADED_2S =
  'health did not reach "1 Coreapp(s) connected" within 2s: last verdict degraded ' +
  '(your-coreapp1-hostname:753efb1cf72c reports error 1011 Service not ready; no Coreapp is connected)';
const MASTER_GATE_FAILED = `health after master on master1 failed: ${DEGRADED_2S}`;

/** A set-up 2.29.3 cluster whose health degrades while master1 runs 2.30.0 (`entry` changes its inventory entry). */
const degradesOnMaster = (entry?: (e: RawEntry) => void) =>
  degradesWhileMasterRuns({}, entry ? { entry } : {});

/** A PostgreSQL cluster whose media chown (from 2.29.1) takes one file per poll: still running when a test acts. */
const LONG_CHOWN = { engine: 'PGSQL', media: { total: 100_000, remaining: 100_000, perPoll: 1 } } as const;

/**
 * upgrade 2.29.3 -> 2.30.0 (MySQL: dbUpgrade child; no mediaChown) with a 2 s health deadline, on a
 * fake whose inventory says 2.29.3 (e.g. {@link degradesOnMaster}).
 */
const rollbackInput = (rollback: 'auto' | 'ask' | 'off') =>
  upgradeInput({ toVersion: '2.30.0', rollback, timeouts: { health: '2s', dbUpgrade: '1m' } });

/** The input each child of the parent was started with, by workflow type. */
async function childInputs(h: WorkflowHandle): Promise<Record<string, unknown>> {
  const history = await h.fetchHistory();
  const out: Record<string, unknown> = {};
  for (const e of history.events ?? []) {
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    const type = child?.workflowType?.name;
    const data = child?.input?.payloads?.[0]?.data;
    if (type && data) out[type] = JSON.parse(Buffer.from(data).toString('utf8'));
  }
  return out;
}

/** Event types of the parent's history that matter for ordering: children started and composeUps scheduled. */
async function historyOrder(h: WorkflowHandle): Promise<string[]> {
  const history = await h.fetchHistory();
  const out: string[] = [];
  for (const e of history.events ?? []) {
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name;
    if (child) out.push(`child:${child}`);
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity === 'composeUp') out.push('composeUp');
  }
  return out;
}

describe('upgrade', () => {
  it('happy path MySQL 2.29.1 -> 2.29.3: backup, gate, dbUpgrade child, waweb/master/wacore with health gates, mediaChown child', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', variants: { core2: 'v2' } });
    await scenario(fake, async (s) => {
      const { client } = s;
      const handle = await s.start('upgrade', 'happy', upgradeInput());
      const id = handle.workflowId;
      trackChildren(s, id);

      const atGate = await gateOpen(handle, 'upgrade');
      // The backup is taken before the gate; nothing disruptive has run yet.
      const label = `v2.29.1-to-v2.29.3-${(handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId.slice(0, 8)}`;
      const backupPath = `/artifacts/lab/settings-backup-${label}.json`;
      // The backup password is the inventory's (clusters.lab.backup): the activity gets the cluster's reference only.
      expect(fake.callsOf('settingsBackup').map((c) => c.args)).toEqual([{ cluster: fake.ref(), label }]);
      expect(fake.state.backups).toEqual([label]);
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'upgrade',
          summary:
            'upgrade cluster lab from v2.29.1 to v2.29.3: dbupgrade job, then webapps, masters, coreapps ' +
            `in batches of 1; rollback ask; backup ${backupPath}`,
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 1,
        },
      ]);
      expect(atGate.stage).toBe('waiting for approval: upgrade');
      expect(atGate.stagesDone).toEqual(
        expect.arrayContaining(['pre-upgrade health', 'preflight', 'settings backup']),
      );
      expect(atGate.hosts.backup).toMatch(
        new RegExp(`^${backupPath.replace(/\./g, '\\.')} \\(sha256 [0-9a-f]{12}…\\)$`),
      );
      expect(atGate).toMatchObject({ fromVersion: '2.29.1', toVersion: '2.29.3', healthGates: [] });
      expect(atGate.inventory).toEqual(fake.stamp('upgrade'));
      expect(atGate.stagesDone).toContain('resolve cluster');
      expect([...new Set(fake.names())]).toEqual([
        'wabaHealth',
        'preflightHost',
        'prerequisitesHost',
        'composePs',
        'settingsBackup',
      ]);
      // What every host runs is read from its containers before anything changes.
      expect(fake.callsOf('composePs').map((c) => c.host)).toEqual(expect.arrayContaining(ALL));
      expect(fake.callsOf('composePs')).toHaveLength(5);
      expect(atGate.hosts).toMatchObject({ web1: 'waweb runs v2.29.1', core2: 'wacore runs v2.29.1' });

      const steps = (await plan(client, id)) as PlanStep[];
      const stamp = fake.stamp('upgrade');
      expect(steps[0]).toEqual({
        stage: 'resolve cluster',
        note: `cluster lab from the inventory test-inventory.yaml: spec sha256 ${stamp.specHash}, policy sha256 ${stamp.policyHash}`,
      });
      expect(steps.map((p) => p.stage)).toEqual([
        'resolve cluster',
        'pre-upgrade health',
        ...Array(7).fill('prerequisites'),
        'settings backup',
        'approval',
        'dbUpgrade',
        'start waweb',
        'start master',
        'start master',
        'start wacore',
        'start wacore',
        'on a failed batch',
        'mediaChown',
      ]);
      // upgradeInput's timeouts (15s, 1m): the test's, not the defaults.
      expect(steps.find((p) => p.stage === 'on a failed batch')?.note).toBe(
        'rollback ask: gate "rollback" asks before every host upgraded so far is put back on what it ran; health gate timeout 15s, dbupgrade job timeout 1m',
      );
      expect(steps.find((p) => p.host === 'core1' && p.stage === 'start wacore')?.note).toBe(
        'runs v2.29.1 now, rollback target v2.29.1; batches of 1, health gate after each',
      );
      expect(steps.find((p) => p.stage === 'mediaChown')?.note).toBe(
        'child workflow after the Webapps: chown -R root /usr/local/wamedia/{incoming,outgoing,shared}',
      );
      expect(steps.find((p) => p.host === 'core1' && p.stage === 'start wacore')?.command).toBe(
        'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp1-hostname WA_API_VERSION=2.29.3 docker-compose -f x.yml up -d wacore',
      );

      await approve(client, id, 'upgrade', 'alice', 'backup checked');
      const out = await result(handle);

      const gate = (g: string) => ({ gate: g, outcome: 'passed', at: expect.any(String) });
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('upgrade'),
        fromVersion: '2.29.1',
        toVersion: '2.29.3',
        backup: { path: backupPath, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        dbUpgrade: {
          cluster: 'lab',
          inventory: fake.stamp('dbUpgrade'),
          host: 'master1',
          toVersion: '2.29.3',
          container: expect.any(String),
          exitCode: 0,
          restarted: [],
        },
        hosts: [
          {
            host: 'web1',
            role: 'webapp',
            service: 'waweb',
            from: '2.29.1',
            to: '2.29.3',
            action: 'upgraded',
          },
          {
            host: 'master1',
            role: 'master',
            service: 'master',
            from: '2.29.1',
            to: '2.29.3',
            action: 'upgraded',
          },
          {
            host: 'master2',
            role: 'master',
            service: 'master',
            from: '2.29.1',
            to: '2.29.3',
            action: 'upgraded',
          },
          {
            host: 'core1',
            role: 'coreapp',
            service: 'wacore',
            from: '2.29.1',
            to: '2.29.3',
            action: 'upgraded',
          },
          {
            host: 'core2',
            role: 'coreapp',
            service: 'wacore',
            from: '2.29.1',
            to: '2.29.3',
            action: 'upgraded',
          },
        ],
        gates: [
          gate('health after waweb on web1'),
          gate('health after master on master1'),
          gate('health after master on master2'),
          gate('health after wacore on core1'),
          gate('health after wacore on core2'),
        ],
        decisions: [
          {
            gate: 'upgrade',
            kind: 'approve',
            ...signedBy('alice'),
            // Signed for the plan the gate showed.
            plan: atGate.pendingGates[0]?.plan,
            at: expect.any(String),
            comment: 'backup checked',
          },
        ],
        mediaChown: {
          cluster: 'lab',
          inventory: fake.stamp('mediaChown'),
          host: 'web1',
          total: 1000,
          changed: 400,
          outcome: 'completed',
          runs: 1,
        },
        health: { verdict: 'ha-connected', reasons: [], nodes: expect.any(Array), connectedCoreapps: 1 },
      });

      // Exactly one dbupgrade job, on the first master, finished before the first composeUp.
      expect(fake.state.dbUpgradeStarts).toBe(1);
      expect(fake.state.schemaVersion).toBe('2.29.3');
      expect(fake.state.dbUpgradeJobs).toEqual([]);
      expect(fake.callsOf('startDbUpgrade').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'master1', version: '2.29.3', variant: 'v1', exitOnSuccess: true },
      ]);
      const firstUp = fake.callsOf('composeUp')[0]?.seq ?? 0;
      const dbCalls = fake.calls.filter((c) =>
        ['uploadDbUpgradeFiles', 'startDbUpgrade', 'waitDbUpgrade', 'removeDbUpgrade'].includes(c.name),
      );
      expect(dbCalls.map((c) => c.name)).toEqual([
        'uploadDbUpgradeFiles',
        'startDbUpgrade',
        'waitDbUpgrade',
        'removeDbUpgrade',
      ]);
      expect(dbCalls.every((c) => c.seq < firstUp)).toBe(true);
      // Every host read again after the approval, before anything disruptive: the plan approved is the plan run.
      const backupSeq = fake.callsOf('settingsBackup')[0]?.seq ?? 0;
      const reRead = fake.callsOf('composePs').filter((c) => c.seq > backupSeq);
      expect(reRead.map((c) => c.host).sort()).toEqual([...ALL].sort());
      expect(reRead.every((c) => c.seq < (dbCalls[0]?.seq ?? 0))).toBe(true);
      expect(out.dbUpgrade).toMatchObject({ container: fake.callsOf('waitDbUpgrade')[0]?.args.container });

      // All Webapps, then the Masters, then the Coreapps, one at a time, on the new version.
      expect(ups(fake)).toEqual([
        'web1 waweb 2.29.3',
        'master1 master 2.29.3',
        'master2 master 2.29.3',
        'core1 wacore 2.29.3',
        'core2 wacore 2.29.3',
      ]);
      for (const c of fake.callsOf('composeUp')) {
        expect(c.args.variant).toBe(c.host === 'core2' ? 'v2' : 'v1');
      }
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.3'])));

      // A health poll after each batch, before the next composeUp.
      const sequence = fake.calls
        .filter((c) => c.name === 'composeUp' || c.name === 'wabaHealth')
        .map((c) => (c.name === 'composeUp' ? `up ${c.host}` : 'health'));
      expect(sequence).toEqual([
        'health',
        'up web1',
        'health',
        'up master1',
        'health',
        'up master2',
        'health',
        'up core1',
        'health',
        'up core2',
        'health',
        'health',
      ]);

      // The children: dbUpgrade before any composeUp, mediaChown right after the Webapps.
      expect(await historyOrder(handle)).toEqual([
        'child:dbUpgrade',
        'composeUp',
        'child:mediaChown',
        'composeUp',
        'composeUp',
        'composeUp',
        'composeUp',
      ]);
      for (const child of ['dbUpgrade', 'mediaChown']) {
        const d = await client.workflow.getHandle(`${id}/${child}`).describe();
        expect(d.type).toBe(child);
        expect(d.status.name).toBe('COMPLETED');
        expect(d.parentExecution?.workflowId).toBe(id);
      }
      // The children get intent only: the cluster by name; each resolves it from the inventory itself.
      expect(await childInputs(handle)).toEqual({
        dbUpgrade: { cluster: 'lab', toVersion: '2.29.3', restartApps: false, timeouts: { job: '1m' } },
        mediaChown: { cluster: 'lab' },
      });
      const chown = fake.callsOf('startMediaChown');
      // The media directory is the inventory's (the activity looks it up); the child's compose call
      // carries the version the inventory says the cluster runs (it is updated after the upgrade).
      expect(chown.map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'web1', version: '2.29.1', variant: 'v1' },
      ]);
      const web1Up = fake.callsOf('composeUp')[0]?.seq ?? Number.POSITIVE_INFINITY;
      expect(chown[0]?.seq).toBeGreaterThan(web1Up);
      expect(fake.state.chown).toMatchObject({ remaining: 0, exitCode: 0, starts: 1, stops: 0 });

      const done = await statusOf(handle);
      expect(done.stage).toBe('done: v2.29.3, ha-connected');
      expect(done.stagesDone).toEqual(
        expect.arrayContaining(['dbUpgrade', 'mediaChown started', 'final health', 'waiting for mediaChown']),
      );
      expect(done.healthGates).toEqual(out.gates);
      expect(done.hosts).toMatchObject({ web1: 'waweb on v2.29.3', core2: 'wacore on v2.29.3' });
      expect(done.lastError).toBeNull();
      expect(fake.calls.every((c) => c.outcome === 'ok' && c.attempt === 1)).toBe(true);
    });
  });

  it.each([
    {
      name: 'PostgreSQL 2.29.1 -> 2.29.3 skips dbUpgrade (mediaChown still runs)',
      engine: 'PGSQL' as const,
      from: '2.29.1',
      to: '2.29.3',
      db: false,
      chown: true,
    },
    {
      name: 'MySQL 2.29.3 -> 2.30.0 runs dbUpgrade and needs no mediaChown',
      engine: 'MYSQL' as const,
      from: '2.29.3',
      to: '2.30.0',
      db: true,
      chown: false,
    },
    {
      name: 'MySQL 2.21.4 -> 2.22.1 (target before 2.23) skips dbUpgrade',
      engine: 'MYSQL' as const,
      from: '2.21.4',
      to: '2.22.1',
      db: false,
      chown: false,
    },
  ])('$name', async ({ engine, from, to, db, chown }) => {
    const fake = fakeCluster({ setUp: true, version: from, engine });
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', `${engine}-${to}`, upgradeInput({ toVersion: to }));
      trackChildren(s, handle.workflowId);
      const atGate = await gateOpen(handle, 'upgrade');
      expect(atGate.pendingGates[0]?.summary.includes('dbupgrade job, then')).toBe(db);
      const steps = (await plan(s.client, handle.workflowId)) as PlanStep[];
      expect(steps.some((p) => p.stage === 'dbUpgrade')).toBe(db);
      expect(steps.some((p) => p.stage === 'mediaChown')).toBe(chown);

      await approve(s.client, handle.workflowId, 'upgrade', 'bob');
      const out = await result(handle);
      expect(out.hosts.map((h) => `${h.host} ${h.from}->${h.to}`)).toEqual(
        ALL.map((h) => `${h} ${from}->${to}`),
      );
      expect(ups(fake)).toHaveLength(5);
      const children = (await historyOrder(handle)).filter((e) => e.startsWith('child:'));
      if (db) {
        expect(out.dbUpgrade).toMatchObject({ host: 'master1', toVersion: to, exitCode: 0 });
        expect(fake.state.dbUpgradeStarts).toBe(1);
        expect(fake.state.schemaVersion).toBe(to);
      } else {
        expect(out.dbUpgrade).toBe('skipped');
        expect(fake.callsOf('uploadDbUpgradeFiles')).toEqual([]);
        expect(fake.callsOf('startDbUpgrade')).toEqual([]);
        expect(fake.state.schemaVersion).toBe(from);
      }
      if (chown) {
        expect(out.mediaChown).toMatchObject({ outcome: 'completed', host: 'web1' });
        expect(fake.callsOf('startMediaChown')).toHaveLength(1);
      } else {
        expect(out.mediaChown).toBe('not needed');
        expect(fake.callsOf('startMediaChown')).toEqual([]);
      }
      expect(children).toEqual([...(db ? ['child:dbUpgrade'] : []), ...(chown ? ['child:mediaChown'] : [])]);
    });
  });

  it("validation: a toVersion not newer than the inventory's version or badly formed fails with InvalidInput naming toVersion", async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    await scenario(fake, async ({ start }) => {
      const started = Date.now();
      const [same, older, malformed] = await Promise.all(
        [
          ['same', '2.29.1'],
          ['older', '2.28.9'],
          ['malformed', '2.29'],
        ].map(([label, toVersion]) =>
          start('upgrade', label as string, upgradeInput({ toVersion })).then((h) => runFailure(h, 20_000)),
        ),
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const r of [same, older, malformed]) {
        expect(r?.failure.type).toBe('InvalidInput');
        expect(r?.failure.nonRetryable).toBe(true);
      }
      // Checked against the resolved cluster: after resolveCluster, before any cluster activity.
      const notNewer =
        'invalid upgrade input: toVersion: must be newer than v2.29.1, the version cluster lab runs (inventory); no downgrades';
      expect(same?.failure.message).toBe(notNewer);
      expect(older?.failure.message).toBe(notNewer);
      // A malformed version is named as such (the "newer" comparison may add a second line for the same field).
      expect(malformed?.failure.message).toMatch(
        /^invalid upgrade input: toVersion: expected a version like 2\.29\.3(; toVersion: [^;]+)?$/,
      );
      for (const r of [same, older, malformed]) {
        expect(r?.failure.details?.[0]).toEqual(
          expect.arrayContaining([expect.stringMatching(/^toVersion: /)]),
        );
        expect((r?.failure.details?.[0] as string[]).every((p) => p.startsWith('toVersion: '))).toBe(true);
      }
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });

  it('validation: fields that moved to the inventory, an inline cluster, and values beyond the cluster or its policy are refused with InvalidInput naming each', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    const moved = {
      ...upgradeInput(),
      backup: { passwordRef: 'env:BACKUP_PASSWORD' },
      approvals: { approvers: ['carol'] },
    };
    const inline = { ...upgradeInput(), cluster: { name: 'lab', version: '2.29.1', hosts: [] } };
    await scenario(fake, async ({ start }) => {
      const started = Date.now();
      const [m, i, beyond, zero] = await Promise.all(
        [
          ['moved', moved],
          ['inline', inline],
          // 6 hosts at once on a cluster of 5; a gate timeout over the policy's max (1d)
          ['beyond', upgradeInput({ maxUnavailable: 6, approvalTimeout: '2d' })],
          ['zero', upgradeInput({ timeouts: { health: '0s', dbUpgrade: '1m' } })],
        ].map(([label, input]) =>
          start('upgrade', label as string, input).then((h) => runFailure(h, 20_000)),
        ),
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const r of [m, i, beyond, zero]) {
        expect(r?.failure.type).toBe('InvalidInput');
        expect(r?.failure.nonRetryable).toBe(true);
      }
      expect(m?.failure.details?.[0]).toEqual([
        'backup: unknown field: the backup password lives in the inventory (clusters.<name>.backup)',
        'approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      ]);
      expect(i?.failure.message).toBe(
        'invalid upgrade input: cluster: expected the name of a cluster in the worker inventory, e.g. "prod": ' +
          'an inline cluster spec is not accepted (hosts, keys, URLs and secrets live in the inventory)',
      );
      expect(beyond?.failure.details?.[0]).toEqual([
        'approvalTimeout: must be between 1s and 1d (the approval policy of cluster lab)',
        'maxUnavailable: 6 is more than the 5 hosts of cluster lab',
      ]);
      expect(zero?.failure.message).toBe(
        'invalid upgrade input: timeouts.health: expected a duration from 1s to 2h',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
      expect(fake.state.backups).toEqual([]);
    });
  });

  it('a settings backup failure (non-retryable) stops the run before the gate and before any composeUp', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' }).fail(
      'settingsBackup',
      nonRetryable('BackupFailed', 'the backup answer carried no settings.data'),
    );
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'backup-fails', upgradeInput());
      trackChildren(s, handle.workflowId);
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('BackupFailed');
      expect(failure.message).toBe('the backup answer carried no settings.data');
      expect(fake.callsOf('settingsBackup').map((c) => c.attempt)).toEqual([1]);
      expect([...new Set(fake.names())]).toEqual([
        'wabaHealth',
        'preflightHost',
        'prerequisitesHost',
        'composePs',
        'settingsBackup',
      ]);
      const st = await statusOf(handle);
      expect(st.stage).toBe('settings backup');
      expect(st.stagesDone).not.toContain('waiting for approval: upgrade');
      expect(st.pendingGates).toEqual([]);
      expect(st.decisions).toEqual([]);
      expect(st.lastError).toContain('the backup answer carried no settings.data');
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.1'])));
    });
  });

  it('a dbupgrade job exiting 1 fails the run with DbUpgradeFailed (through the child); no composeUp on the new version', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', dbUpgradeExitCode: 1 });
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'dbupgrade-fails', upgradeInput());
      const { cause, failure } = await runFailure(handle, 30_000);
      expect(cause).toBeInstanceOf(ChildWorkflowFailure);
      expect((cause as ChildWorkflowFailure).execution.workflowId).toBe(`${handle.workflowId}/dbUpgrade`);
      expect(failure.type).toBe('DbUpgradeFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'the dbupgrade job of v2.29.3 on master1 exited 1; app containers left untouched. Last lines:\n' +
          "applying migration 42\nERROR: migration 42 failed: duplicate column 'wa_id'",
      );
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.callsOf('removeDbUpgrade').map((c) => c.host)).toEqual(['master1']);
      expect(fake.state.dbUpgradeJobs).toEqual([]);
      expect(fake.state.schemaVersion).toBe('2.29.1');
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.1'])));
      expect(fake.callsOf('startMediaChown')).toEqual([]);
      const child = await s.client.workflow.getHandle(`${handle.workflowId}/dbUpgrade`).describe();
      expect(child.status.name).toBe('FAILED');
      expect((await statusOf(handle)).stage).toBe('dbUpgrade');
    });
  });

  it('rollback auto: an up -d failing on master1 puts master1 then web1 back on the old version; nothing after it runs', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' }).fail(
      'composeUp',
      nonRetryable('ComposeFailed', 'docker-compose up -d exited 1: image not found'),
      { host: 'master1', when: (c) => c.args.version === '2.30.0' },
    );
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'up-fails', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).toMatch(
        /^up -d master v2\.30\.0 on master1 failed: .*image not found.*; rolled back web1, master1 to v2\.29\.3$/,
      );
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master1 master 2.29.3',
        'web1 waweb 2.29.3',
      ]);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.3'])));
      const st = await statusOf(handle);
      expect(st.healthGates.map((g) => `${g.gate}: ${g.outcome}`)).toEqual([
        'health after waweb on web1: passed',
        'up -d master on master1: failed',
      ]);
    });
  });

  it('rollback auto: a host it cannot put back (unreachable) does not stop the others; RollbackIncomplete names it', async () => {
    // master1 goes unreachable once upgraded: its batch's gate fails, and its own rollback fails.
    const unreachable = nonRetryable('SshConnectError', 'ssh to master1 (wa@10.0.0.2:22): connect ETIMEDOUT');
    const fake = degradesOnMaster().fail('composeUp', unreachable, {
      host: 'master1',
      when: (c) => c.args.version === '2.29.3',
      times: 5,
    });
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'rollback-incomplete', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('RollbackIncomplete');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        `${MASTER_GATE_FAILED}; rolled back web1 to v2.29.3; could not roll back master1 ` +
          '(composeUp: ssh to master1 (wa@10.0.0.2:22): connect ETIMEDOUT)',
      );
      // master1's rollback was tried, then web1 was still put back.
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master1 master 2.29.3',
        'web1 waweb 2.29.3',
      ]);
      expect(fake.state.versions).toMatchObject({ web1: '2.29.3', master1: '2.30.0', master2: '2.29.3' });
      const st = await statusOf(handle);
      expect(st.hosts).toMatchObject({
        web1: 'back on v2.29.3',
        master1: expect.stringMatching(/^not rolled back: composeUp: ssh to master1 .*ETIMEDOUT$/),
      });
    });
  });

  it('rollback auto with restoreSettings: an incomplete rollback does not restore the settings onto a mixed cluster', async () => {
    const unreachable = nonRetryable('SshConnectError', 'ssh to web1 (wa@10.0.0.1:22): connect ETIMEDOUT');
    const fake = degradesOnMaster().fail('composeUp', unreachable, {
      host: 'web1',
      when: (c) => c.args.version === '2.29.3',
    });
    await scenario(fake, async (s) => {
      const input = upgradeInput({
        toVersion: '2.30.0',
        rollback: { mode: 'auto', restoreSettings: true },
        timeouts: { health: '2s', dbUpgrade: '1m' },
      });
      const handle = await startApproved(s, 'rollback-incomplete-restore', input);
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('RollbackIncomplete');
      expect(failure.message).toMatch(
        /; rolled back master1 to v2\.29\.3; could not roll back web1 \(composeUp: .*ETIMEDOUT\); settings not restored$/,
      );
      expect(fake.callsOf('settingsRestore')).toEqual([]);
      expect(fake.callsOf('composeRestart')).toEqual([]);
      expect(fake.state.versions).toMatchObject({ web1: '2.30.0', master1: '2.29.3' });
    });
  });

  it('rollback auto: a health gate failing after the master batch puts master1 then web1 back on the old version; UpgradeRolledBack', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'rollback-auto', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(`${MASTER_GATE_FAILED}; rolled back web1, master1 to v2.29.3`);
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master1 master 2.29.3',
        'web1 waweb 2.29.3',
      ]);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.3'])));
      // The schema stays upgraded: the previous version runs on it.
      expect(fake.state.schemaVersion).toBe('2.30.0');
      const st = await statusOf(handle);
      expect(st.stage).toBe('rollback');
      expect(st.healthGates).toEqual([
        { gate: 'health after waweb on web1', outcome: 'passed', at: expect.any(String) },
        {
          gate: 'health after master on master1',
          outcome: 'failed',
          at: expect.any(String),
          detail: DEGRADED_2S,
        },
      ]);
      expect(st.hosts).toMatchObject({ web1: 'back on v2.29.3', master1: 'back on v2.29.3' });
      expect(st.decisions.map((d) => d.gate)).toEqual(['upgrade']);
      expect(st.stagesDone).not.toContain('waiting for approval: rollback');
    });
  });

  it('rollback ask, approved: the rollback gate names the hosts; approving it rolls them back (UpgradeRolledBack)', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'rollback-ask-yes', rollbackInput('ask'));
      const id = handle.workflowId;
      trackChildren(s, id);
      await gateOpen(handle, 'upgrade');
      await approve(s.client, id, 'upgrade', 'alice');
      const atGate = await gateOpen(handle, 'rollback', 30_000);
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'rollback',
          summary: `${MASTER_GATE_FAILED}. Approve to put web1, master1 back on v2.29.3; reject to leave them as they are`,
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 1,
        },
      ]);
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);
      await approve(s.client, id, 'rollback', 'bob');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).toBe(`${MASTER_GATE_FAILED}; rolled back web1, master1 to v2.29.3`);
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master1 master 2.29.3',
        'web1 waweb 2.29.3',
      ]);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.3'])));
      expect((await statusOf(handle)).decisions.map((d) => `${d.gate} ${d.kind} ${d.by}`)).toEqual([
        'upgrade approve alice',
        'rollback approve bob',
      ]);
    });
  });

  it('rollback ask, rejected: UpgradeFailed, the hosts are left as they are', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'rollback-ask-no', rollbackInput('ask'));
      const id = handle.workflowId;
      trackChildren(s, id);
      await gateOpen(handle, 'upgrade');
      await approve(s.client, id, 'upgrade', 'alice');
      await gateOpen(handle, 'rollback', 30_000);
      await reject(s.client, id, 'rollback', 'bob', 'keep them for debugging');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('UpgradeFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        `${MASTER_GATE_FAILED}; rollback not done (gate "rollback" rejected by bob: keep them for debugging); ` +
          'hosts left as they are',
      );
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);
      expect(fake.state.versions).toEqual({
        web1: '2.30.0',
        master1: '2.30.0',
        master2: '2.29.3',
        core1: '2.29.3',
        core2: '2.29.3',
      });
    });
  });

  it('rollback ask, timed out: UpgradeFailed, nothing rolled back', async () => {
    // The gates' timeout is the inventory policy's (an input's approvalTimeout is at least 1m).
    const fake = degradesOnMaster((e) => {
      e.approvals.timeout = { default: '4s', min: '1s', max: '1h' };
    });
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'rollback-ask-timeout', rollbackInput('ask'));
      const id = handle.workflowId;
      trackChildren(s, id);
      await gateOpen(handle, 'upgrade');
      await approve(s.client, id, 'upgrade', 'alice');
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeFailed');
      expect(failure.message).toBe(
        `${MASTER_GATE_FAILED}; rollback not done (gate "rollback" timed out after 4s with 0 of 1 approval(s)); ` +
          'hosts left as they are',
      );
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);
    });
  });

  it('rollback off: UpgradeFailed at once, no rollback gate, nothing rolled back', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'rollback-off', rollbackInput('off'));
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeFailed');
      expect(failure.message).toBe(`${MASTER_GATE_FAILED}; rollback is off: hosts left as they are`);
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);
      expect(fake.state.versions.master1).toBe('2.30.0');
      const st = await statusOf(handle);
      expect(st.pendingGates).toEqual([]);
      expect(st.stagesDone).not.toContain('waiting for approval: rollback');
      expect(st.stagesDone).not.toContain('rollback');
    });
  });

  it('a health API failing non-retryably during a gate fails the run with its cause, without rollback', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    fake.fail('wabaHealth', nonRetryable('TlsTrustError', "the server's certificate is not trusted"), {
      when: () => fake.state.versions.master1 === '2.30.0',
    });
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'health-tls', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('TlsTrustError');
      expect(failure.message).toBe("the server's certificate is not trusted");
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);
      expect((await statusOf(handle)).healthGates.map((g) => `${g.gate}: ${g.outcome}`)).toEqual([
        'health after waweb on web1: passed',
      ]);
    });
  });

  it('maxUnavailable 2 upgrades both masters, then both coreapps, in one batch each', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async (s) => {
      const handle = await s.start(
        'upgrade',
        'max2',
        upgradeInput({ toVersion: '2.30.0', maxUnavailable: 2 }),
      );
      trackChildren(s, handle.workflowId);
      const atGate = await gateOpen(handle, 'upgrade');
      expect(atGate.pendingGates[0]?.summary).toContain('in batches of 2');
      await approve(s.client, handle.workflowId, 'upgrade', 'alice');
      const out = await result(handle);
      expect(out.gates.map((g) => `${g.gate}: ${g.outcome}`)).toEqual([
        'health after waweb on web1: passed',
        'health after master on master1, master2: passed',
        'health after wacore on core1, core2: passed',
      ]);
      const sequence = fake.calls
        .filter((c) => c.name === 'composeUp' || c.name === 'wabaHealth')
        .map((c) => (c.name === 'composeUp' ? `up ${c.service}` : 'health'));
      expect(sequence).toEqual([
        'health',
        'up waweb',
        'health',
        'up master',
        'up master',
        'health',
        'up wacore',
        'up wacore',
        'health',
        'health',
      ]);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.30.0'])));
      expect(out.hosts.map((h) => h.host).sort()).toEqual([...ALL].sort());
    });
  });

  it('a mediaChown child that fails surfaces as MediaChownFailed once every host is upgraded', async () => {
    // The master gate needs a second poll (3 s later): the child fails while the parent is still upgrading.
    let degradedOnce = false;
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.1',
      engine: 'PGSQL',
      media: { failWith: 1 },
      health: (state) => {
        if (state.versions.master1 !== '2.29.3' || degradedOnce) return SEED.haConnected();
        degradedOnce = true;
        return SEED.degraded();
      },
    });
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'chown-fails', upgradeInput());
      trackChildren(s, handle.workflowId);
      await gateOpen(handle, 'upgrade');
      await approve(s.client, handle.workflowId, 'upgrade', 'alice');
      const { cause, failure } = await runFailure(handle, 20_000);
      expect(cause).toBeInstanceOf(ChildWorkflowFailure);
      expect(failure.type).toBe('MediaChownFailed');
      expect(failure.message).toBe('chown on web1 exited 1 with 150 files not owned by root');
      expect(ups(fake)).toHaveLength(5);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.29.3'])));
      expect((await statusOf(handle)).stage).toBe('waiting for mediaChown');
    });
  });

  it('a rollback stops the mediaChown child first: its chown stopped before the Webapp goes back to 2.29.1', async () => {
    // The chown still running when the master gate fails.
    const fake = degradesWhileMasterRuns({ from: '2.29.1', to: '2.29.3' }, LONG_CHOWN);
    await scenario(fake, async (s) => {
      const input = upgradeInput({ rollback: 'auto', timeouts: { health: '2s', dbUpgrade: '1m' } });
      const handle = await startApproved(s, 'rollback-stops-chown', input);
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).toMatch(/; rolled back web1, master1 to v2\.29\.1$/);
      // The chown was stopped (in the container it ran in) before any host went back.
      const order = fake.calls
        .filter((c) => c.name === 'stopMediaChown' || (c.name === 'composeUp' && c.args.version === '2.29.1'))
        .map((c) => `${c.name} ${c.host}`);
      expect(order).toEqual(['stopMediaChown web1', 'composeUp master1', 'composeUp web1']);
      expect(fake.callsOf('stopMediaChown')[0]?.args).toMatchObject({ container: containerId('web1/waweb') });
      expect(fake.state.chown).toMatchObject({ running: false, starts: 1, stops: 1 });
      const child = await s.client.workflow.getHandle(`${handle.workflowId}/mediaChown`).describe();
      expect(child.status.name).toBe('CANCELLED');
      const st = await statusOf(handle);
      expect(st.stagesDone.slice(-1)).toEqual(['stopping mediaChown']);
      expect(st.stage).toBe('rollback');
    });
  });

  it('an upgrade terminated while its mediaChown child runs: the child is cancelled and stops its chown', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', ...LONG_CHOWN });
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'terminated-chown', upgradeInput());
      await until(
        'the upgrade to wait for its mediaChown',
        () => statusOf(handle),
        (st) => st.stage === 'waiting for mediaChown',
        30_000,
      );
      expect(fake.state.chown).toMatchObject({ running: true, stops: 0 });
      await handle.terminate('operator stopped it');
      const child = s.client.workflow.getHandle(`${handle.workflowId}/mediaChown`);
      await until(
        'the child to close',
        () => child.describe(),
        (d) => d.status.name !== 'RUNNING',
        20_000,
      );
      expect((await child.describe()).status.name).toBe('CANCELLED');
      expect(fake.callsOf('stopMediaChown').map((c) => c.host)).toEqual(['web1']);
      expect(fake.state.chown).toMatchObject({ running: false, stops: 1 });
    });
  });

  it('force with a reason runs outside the window without waiting, and records why', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', engine: 'PGSQL' });
    await scenario(fake, async (s) => {
      const now = Date.now();
      const window = {
        days: EVERY_DAY,
        start: hhmm(now + 2 * 3_600_000),
        end: hhmm(now + 3 * 3_600_000),
        timeZone: 'UTC',
      };
      const reason = 'security fix, approved by the CAB';
      const handle = await s.start(
        'upgrade',
        'forced',
        upgradeInput({ toVersion: '2.30.0', window, force: { reason } }),
      );
      const atGate = await gateOpen(handle, 'upgrade');
      expect(atGate.hosts.window).toBe(`forced outside the window: ${reason}`);
      expect(atGate.stagesDone.some((st) => st.startsWith('waiting for window'))).toBe(false);
      const steps = (await plan(s.client, handle.workflowId)) as PlanStep[];
      expect(steps[0]?.stage).toBe('resolve cluster');
      expect(steps[1]).toEqual({
        stage: 'window',
        note: `mon,tue,wed,thu,fri,sat,sun ${window.start}-${window.end} UTC (forced: ${reason})`,
      });
      await approve(s.client, handle.workflowId, 'upgrade', 'alice');
      const out = await result(handle);
      expect(out.hosts).toHaveLength(5);
      expect(ups(fake)).toHaveLength(5);
    });
  });

  it('the result reports the version each host ran, read from its containers (not cluster.version); a host with two roles has one line per role', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      // master1 also has the coreapp role in the inventory
      entry: (e) => {
        for (const h of e.hosts) if (h.name === 'master1') h.roles = ['master', 'coreapp'];
      },
    });
    fake.state.versions.master2 = '2.29.2'; // a host left behind by an earlier, partial change
    fake.state.up.add('master1/wacore'); // master1 also runs a Coreapp
    await scenario(fake, async (s) => {
      const handle = await s.start(
        'upgrade',
        'read-versions',
        upgradeInput({ toVersion: '2.30.0', timeouts: { health: '15s', dbUpgrade: '1m' } }),
      );
      trackChildren(s, handle.workflowId);
      const atGate = await gateOpen(handle, 'upgrade');
      expect(atGate.hosts).toMatchObject({ master2: 'master runs v2.29.2', web1: 'waweb runs v2.29.3' });
      await approve(s.client, handle.workflowId, 'upgrade', 'alice');
      const out = await result(handle);
      expect(out.hosts.map((h) => `${h.host} ${h.role} ${h.service} ${h.from}->${h.to} ${h.action}`)).toEqual(
        [
          'web1 webapp waweb 2.29.3->2.30.0 upgraded',
          'master1 master master 2.29.3->2.30.0 upgraded',
          'master2 master master 2.29.2->2.30.0 upgraded',
          'master1 coreapp wacore 2.29.3->2.30.0 upgraded',
          'core1 coreapp wacore 2.29.3->2.30.0 upgraded',
          'core2 coreapp wacore 2.29.3->2.30.0 upgraded',
        ],
      );
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master2 master 2.30.0',
        'master1 wacore 2.30.0',
        'core1 wacore 2.30.0',
        'core2 wacore 2.30.0',
      ]);
      // Read once per host before the backup, and once more after the approval, before the first composeUp.
      const backupSeq = fake.callsOf('settingsBackup')[0]?.seq ?? 0;
      const firstUp = fake.callsOf('composeUp')[0]?.seq ?? 0;
      const reads = fake.callsOf('composePs');
      const before = reads.filter((c) => c.seq < backupSeq);
      const after = reads.filter((c) => c.seq > backupSeq);
      expect(before.map((c) => c.host).sort()).toEqual([...ALL].sort());
      expect(after.map((c) => c.host).sort()).toEqual([...ALL].sort());
      expect(after.every((c) => c.seq < firstUp)).toBe(true);
    });
  });

  it('rollback puts each host back on the version it ran before, not on cluster.version', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      health: (state) => (state.versions.core1 === '2.30.0' ? SEED.degraded() : SEED.haConnected()),
    });
    fake.state.versions.master2 = '2.29.2';
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'rollback-read-versions', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 40_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).toBe(
        `health after wacore on core1 failed: ${DEGRADED_2S}; rolled back web1 to v2.29.3, master1 to v2.29.3, ` +
          'master2 to v2.29.2, core1 to v2.29.3',
      );
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master2 master 2.30.0',
        'core1 wacore 2.30.0',
        'core1 wacore 2.29.3',
        'master2 master 2.29.2',
        'master1 master 2.29.3',
        'web1 waweb 2.29.3',
      ]);
      expect(fake.state.versions).toEqual({
        web1: '2.29.3',
        master1: '2.29.3',
        master2: '2.29.2',
        core1: '2.29.3',
        core2: '2.29.3',
      });
    });
  });

  it('a host newer than the target is refused before the backup (HostNewerThanTarget), nothing changed', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    fake.state.versions.core2 = '2.31.0';
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'newer-host', rollbackInput('auto'));
      trackChildren(s, handle.workflowId);
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('HostNewerThanTarget');
      expect(failure.message).toBe('refusing to downgrade: wacore on core2 runs v2.31.0, newer than v2.30.0');
      expect(fake.callsOf('settingsBackup')).toEqual([]);
      expect(fake.callsOf('composeUp')).toEqual([]);
    });
  });

  it('a re-run after a partial upgrade (rollback off) leaves the hosts already on the target alone and continues', async () => {
    let broken = true;
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      health: (state) =>
        broken && state.versions.master1 === '2.30.0' ? SEED.degraded() : SEED.haConnected(),
    });
    await scenario(fake, async (s) => {
      const first = await s.start('upgrade', 'partial', rollbackInput('off'));
      trackChildren(s, first.workflowId);
      await gateOpen(first, 'upgrade');
      await approve(s.client, first.workflowId, 'upgrade', 'alice');
      expect((await runFailure(first, 30_000)).failure.type).toBe('UpgradeFailed');
      expect(ups(fake)).toEqual(['web1 waweb 2.30.0', 'master1 master 2.30.0']);

      broken = false; // the cause was fixed; the same input again
      const again = await s.start('upgrade', 'partial-again', rollbackInput('off'));
      trackChildren(s, again.workflowId);
      const atGate = await gateOpen(again, 'upgrade');
      expect(atGate.pendingGates[0]?.summary).toMatch(
        /; already on v2\.30\.0, left alone: web1\/waweb, master1\/master$/,
      );
      const steps = (await plan(s.client, again.workflowId)) as PlanStep[];
      expect(
        steps.filter((p) => p.note?.startsWith('already on')).map((p) => `${p.stage} ${p.host}`),
      ).toEqual(['start waweb web1', 'start master master1']);
      await approve(s.client, again.workflowId, 'upgrade', 'alice');
      const out = await result(again);
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master2 master 2.30.0',
        'core1 wacore 2.30.0',
        'core2 wacore 2.30.0',
      ]);
      expect(out.hosts.map((h) => `${h.host} ${h.from}->${h.to} ${h.action}`)).toEqual([
        'web1 2.30.0->2.30.0 already on target',
        'master1 2.30.0->2.30.0 already on target',
        'master2 2.29.3->2.30.0 upgraded',
        'core1 2.29.3->2.30.0 upgraded',
        'core2 2.29.3->2.30.0 upgraded',
      ]);
      expect(out.gates.map((g) => `${g.gate}: ${g.outcome}`)).toEqual([
        'health after master on master2: passed',
        'health after wacore on core1: passed',
        'health after wacore on core2: passed',
      ]);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.30.0'])));
      const st = await statusOf(again);
      expect(st.hosts).toMatchObject({ web1: 'waweb already on v2.30.0: left alone' });
    });
  });

  it('a plan that changes between the approval and the first disruptive step re-opens the gate: the earlier approval no longer counts, nothing is upgraded before the new plan is approved', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', engine: 'PGSQL' });
    await scenario(fake, async (s) => {
      const { client } = s;
      const handle = await s.start('upgrade', 'plan-changed', upgradeInput({ toVersion: '2.30.0' }));
      const id = handle.workflowId;
      trackChildren(s, id);
      const first = await gateOpen(handle, 'upgrade');
      const firstPlan = first.pendingGates[0]?.plan as string;
      expect(firstPlan).toMatch(/^[0-9a-f]{64}$/);
      expect(first.pendingGates[0]?.reopenedBecause).toBeUndefined();

      // Someone upgrades core2 by hand while the gate waits: what alice approves is no longer what would run.
      fake.state.versions.core2 = '2.30.0';
      const accepted = await approve(client, id, 'upgrade', 'alice', 'backup checked');
      expect(accepted).toEqual({
        gate: 'upgrade',
        accepted: true,
        approvals: 1,
        needed: 1,
        state: 'approved',
        key: keyOf('alice'),
      });

      const again = await until(
        'gate upgrade to open again',
        () => statusOf(handle),
        (st) => st.pendingGates.some((g) => g.gate === 'upgrade' && g.reopenedBecause !== undefined),
      );
      const reopened = again.pendingGates.find((g) => g.gate === 'upgrade');
      expect(reopened).toEqual({
        gate: 'upgrade',
        summary: expect.stringMatching(/; already on v2\.30\.0, left alone: core2\/wacore$/),
        openedAt: expect.any(String),
        plan: PLAN_HASH,
        // alice's approval was for the old plan: it does not count for this one.
        approvals: [],
        needed: 1,
        reopenedBecause: expect.stringMatching(
          /core2\/wacore ran v2\.29\.3 when the gate opened, now v2\.30\.0/,
        ),
      });
      expect(reopened?.plan).not.toBe(firstPlan);
      expect(reopened?.reopenedBecause).not.toMatch(/web1|master1|master2|core1/);
      expect(again.stage).toBe('waiting for approval: upgrade');
      // The earlier approval stays on the record, bound to the plan it was signed for.
      expect(again.decisions).toEqual([
        {
          gate: 'upgrade',
          kind: 'approve',
          ...signedBy('alice'),
          plan: firstPlan,
          at: expect.any(String),
          comment: 'backup checked',
        },
      ]);
      // The new plan leaves core2 alone.
      const steps = (await plan(client, id)) as PlanStep[];
      expect(
        steps.filter((p) => p.note?.startsWith('already on')).map((p) => `${p.stage} ${p.host}`),
      ).toEqual(['start wacore core2']);

      // A decision signed for the old plan is refused at once.
      const run = await runForDecision(client, id);
      const stale = await signedDecision(
        { ...run, gates: [{ gate: 'upgrade', plan: firstPlan }] },
        'approve',
        testKey('bob').signer,
        { gate: 'upgrade', as: 'bob' },
      );
      const refused = await updateRefusal(
        client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [stale as ApproveArgs] }),
      );
      expect(refused.message).toMatch(
        /^signed for plan [0-9a-f]{12}…, but gate "upgrade" shows plan [0-9a-f]{12}…/,
      );

      // Nothing was upgraded while the new plan waited for its approval.
      await sleepMs(1_000);
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.state.versions).toEqual({
        ...Object.fromEntries(ALL.map((h) => [h, '2.29.3'])),
        core2: '2.30.0',
      });
      expect((await statusOf(handle)).pendingGates.map((g) => g.gate)).toEqual(['upgrade']);
      // The chat was asked again, with the new plan and what changed.
      const opened = fake.notifications
        .filter((n) => n.delivered && n.event.kind === 'gateOpened')
        .map((n) => n.event as Extract<NotifyEvent, { kind: 'gateOpened' }>);
      expect(opened.map((e) => [e.gate, e.plan, e.reopenedBecause])).toEqual([
        ['upgrade', firstPlan, undefined],
        ['upgrade', reopened?.plan, reopened?.reopenedBecause],
      ]);

      // The same person may approve the new plan.
      expect(await approve(client, id, 'upgrade', 'alice', 'core2 was done by hand')).toMatchObject({
        approvals: 1,
        state: 'approved',
      });
      const out = await result(handle);
      expect(ups(fake)).toEqual([
        'web1 waweb 2.30.0',
        'master1 master 2.30.0',
        'master2 master 2.30.0',
        'core1 wacore 2.30.0',
      ]);
      expect(out.hosts.map((h) => `${h.host} ${h.from}->${h.to} ${h.action}`)).toEqual([
        'web1 2.29.3->2.30.0 upgraded',
        'master1 2.29.3->2.30.0 upgraded',
        'master2 2.29.3->2.30.0 upgraded',
        'core1 2.29.3->2.30.0 upgraded',
        'core2 2.30.0->2.30.0 already on target',
      ]);
      expect(
        (out.decisions as Decision[]).map(
          (d) => `${d.gate} ${d.kind} ${d.by} ${d.plan === firstPlan ? 'old' : 'new'} plan`,
        ),
      ).toEqual(['upgrade approve alice old plan', 'upgrade approve alice new plan']);
      expect((out.decisions as Decision[])[1]?.plan).toBe(reopened?.plan);
      // Read before the gate, after the first approval and after the second: three rounds of five hosts.
      expect(fake.callsOf('composePs')).toHaveLength(15);
      expect(fake.state.versions).toEqual(Object.fromEntries(ALL.map((h) => [h, '2.30.0'])));
    });
  });

  it('a host found on another version after the approval (not the target) re-opens the gate: the plan binds what each host runs, and so what a rollback restores', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', engine: 'PGSQL' });
    await scenario(fake, async (s) => {
      const handle = await s.start('upgrade', 'from-changed', upgradeInput({ toVersion: '2.30.0' }));
      const id = handle.workflowId;
      trackChildren(s, id);
      const first = await gateOpen(handle, 'upgrade');
      const firstPlan = first.pendingGates[0]?.plan as string;
      const before = (await plan(s.client, id)) as PlanStep[];
      expect(before.find((p) => p.stage === 'start wacore' && p.host === 'core2')?.note).toMatch(
        /^runs v2\.29\.3 now, rollback target v2\.29\.3; /,
      );
      expect(before.find((p) => p.stage === 'on a failed batch')?.note).toMatch(/^rollback ask: /);

      // core2 is put back on an older version by hand while the gate waits: not the target, so the
      // hosts left alone are the same, but an approved rollback would now restore v2.29.3 over it.
      fake.state.versions.core2 = '2.29.2';
      await approve(s.client, id, 'upgrade', 'alice', 'backup checked');
      const again = await until(
        'gate upgrade to open again',
        () => statusOf(handle),
        (st) => st.pendingGates.some((g) => g.gate === 'upgrade' && g.reopenedBecause !== undefined),
      );
      const reopened = again.pendingGates.find((g) => g.gate === 'upgrade');
      expect(reopened?.plan).not.toBe(firstPlan);
      expect(reopened?.approvals).toEqual([]);
      expect(reopened?.reopenedBecause).toBe('core2/wacore ran v2.29.3 when the gate opened, now v2.29.2');
      const after = (await plan(s.client, id)) as PlanStep[];
      expect(after.find((p) => p.stage === 'start wacore' && p.host === 'core2')?.note).toMatch(
        /^runs v2\.29\.2 now, rollback target v2\.29\.2; /,
      );
      await sleepMs(500);
      expect(fake.callsOf('composeUp')).toEqual([]);
      await approve(s.client, id, 'upgrade', 'alice', 'core2 checked');
      const out = await result(handle);
      expect(out.hosts.find((h) => h.host === 'core2')).toMatchObject({ from: '2.29.2', action: 'upgraded' });
    });
  });

  // Both wait for a whole-minute boundary (at most ~65 s each): run them side by side.
  describe.concurrent('maintenance window', () => {
    it(
      'outside the window the run waits for its opening; nothing (no backup, no composeUp) runs before it',
      {
        timeout: 110_000,
      },
      async () => {
        const fake = fakeCluster({ setUp: true, version: '2.29.3', engine: 'PGSQL' });
        await scenario(fake, async (s) => {
          const opensAt = nextWholeMinute(Date.now() + 3_000);
          const window = {
            days: [DAYS[new Date(opensAt).getUTCDay()] as 'mon'],
            start: hhmm(opensAt),
            end: hhmm(opensAt + 10 * 60_000),
            timeZone: 'UTC',
          };
          const handle = await s.start(
            'upgrade',
            'window-wait',
            upgradeInput({ toVersion: '2.30.0', window }),
          );
          const waiting = await until(
            'the window wait',
            () => statusOf(handle),
            (st) => st.stage.startsWith('waiting for window'),
          );
          expect(Date.now()).toBeLessThan(opensAt);
          expect(waiting.stage).toBe(`waiting for window opening at ${iso(opensAt)}`);
          expect(fake.calls).toEqual([]);
          const d = await handle.describe();
          expect(d.typedSearchAttributes.get(WabaStep)).toBe(`waiting for window opening at ${iso(opensAt)}`);
          // The cluster was resolved before the wait (nothing touched): the window follows it.
          const steps = (await plan(s.client, handle.workflowId)) as PlanStep[];
          expect(steps.map((p) => p.stage).slice(0, 2)).toEqual(['resolve cluster', 'window']);
          expect(waiting.inventory).toEqual(fake.stamp('upgrade'));
          expect(steps[1]).toEqual({
            stage: 'window',
            note: `${window.days[0]} ${window.start}-${window.end} UTC; when it closes: park (no new batch; resume at the next opening)`,
          });

          const atGate = await gateOpen(handle, 'upgrade', opensAt - Date.now() + 20_000);
          expect(atGate.stagesDone).toContain(`waiting for window opening at ${iso(opensAt)}`);
          expect(fake.callsOf('settingsBackup')).toHaveLength(1);
          // Nothing at all ran before the opening (workflow time and this clock are the same machine's).
          expect(fake.calls.every((c) => c.at >= opensAt - 50)).toBe(true);
          await approve(s.client, handle.workflowId, 'upgrade', 'alice');
          const out = await result(handle);
          expect(out.hosts).toHaveLength(5);
          expect(fake.callsOf('composeUp').every((c) => c.at >= opensAt)).toBe(true);
        });
      },
    );

    it(
      'an approval given after the window closed waits for the next opening before anything disruptive',
      {
        timeout: 110_000,
      },
      async () => {
        const fake = fakeCluster({ setUp: true, version: '2.29.1' });
        await scenario(fake, async (s) => {
          const closesAt = nextWholeMinute(Date.now() + 5_000);
          const opensAt = closesAt - 2 * 60_000;
          const window = { days: EVERY_DAY, start: hhmm(opensAt), end: hhmm(closesAt), timeZone: 'UTC' };
          const handle = await s.start('upgrade', 'window-closed-at-approval', upgradeInput({ window }));
          trackChildren(s, handle.workflowId);
          const atGate = await gateOpen(handle, 'upgrade');
          expect(Date.now()).toBeLessThan(closesAt);
          expect(atGate.stagesDone.some((st) => st.startsWith('waiting for window'))).toBe(false);
          expect(fake.callsOf('settingsBackup')).toHaveLength(1);

          await sleepMs(Math.max(0, closesAt - Date.now()) + 500);
          await approve(s.client, handle.workflowId, 'upgrade', 'alice');
          const next = opensAt + 86_400_000;
          const waiting = await until(
            'the second window wait',
            () => statusOf(handle),
            (st) => st.stage.startsWith('waiting for window'),
          );
          expect(waiting.stage).toBe(`waiting for window opening at ${iso(next)}`);
          await sleepMs(1_000);
          expect((await statusOf(handle)).stage).toBe(`waiting for window opening at ${iso(next)}`);
          expect(fake.callsOf('composeUp')).toEqual([]);
          expect(fake.callsOf('uploadDbUpgradeFiles')).toEqual([]);
          expect(fake.callsOf('startDbUpgrade')).toEqual([]);
          expect((await historyOrder(handle)).filter((e) => e.startsWith('child:'))).toEqual([]);
        });
      },
    );

    /**
     * A fake whose health stays degraded after web1 is upgraded until `closesAt()`: web1's batch is
     * the one in progress when the window closes, and its health gate passes just after the close.
     */
    const closingDuringWeb1 = (closesAt: () => number) =>
      fakeCluster({
        setUp: true,
        version: '2.29.3',
        engine: 'PGSQL',
        health: (state) =>
          state.versions.web1 === '2.30.0' && Date.now() < closesAt() ? SEED.degraded() : SEED.haConnected(),
      });

    it(
      'park (default): the batch in progress when the window closes finishes and passes its health gate; no batch starts until the next opening; the run parks, says so, and resumes with the next batch',
      { timeout: 240_000 },
      async () => {
        let closesAt = Number.POSITIVE_INFINITY;
        const fake = closingDuringWeb1(() => closesAt);
        await scenario(fake, async (s) => {
          // Open now; closed for one minute from the next whole minute at least 20 s ahead (New York time).
          closesAt = nextWholeMinute(Date.now() + 20_000);
          const reopens = closesAt + 60_000;
          const window = windowClosingAt(closesAt, 'America/New_York');
          const handle = await s.start(
            'upgrade',
            'window-park',
            upgradeInput({ toVersion: '2.30.0', window, timeouts: { health: '2m', dbUpgrade: '1m' } }),
            { executionTimeout: '6m' },
          );
          trackChildren(s, handle.workflowId);
          await gateOpen(handle, 'upgrade');
          await approve(s.client, handle.workflowId, 'upgrade', 'alice');

          const parked = await until(
            'the run to park',
            () => statusOf(handle),
            (st) => st.stage.startsWith('parked until'),
            closesAt - Date.now() + 30_000,
          );
          const until_ = iso(reopens);
          expect(parked.stage).toBe(`parked until ${until_}`);
          expect(parked.parked).toEqual({
            since: expect.any(String),
            until: until_,
            after: 'health after waweb on web1',
            next: 'upgrade master on master1',
          });
          expect(Date.parse(parked.parked?.since ?? '')).toBeGreaterThanOrEqual(closesAt);
          expect(parked.hosts.window).toBe(
            `closed: parked after "health after waweb on web1" passed; upgrade master on master1 at ${until_}`,
          );
          // Every finished batch passed its health gate; every host runs one version or the other.
          expect(parked.healthGates.map((g) => `${g.gate} ${g.outcome}`)).toEqual([
            'health after waweb on web1 passed',
          ]);
          expect(ups(fake)).toEqual(['web1 waweb 2.30.0']);
          expect(fake.state.versions).toEqual({
            web1: '2.30.0',
            master1: '2.29.3',
            master2: '2.29.3',
            core1: '2.29.3',
            core2: '2.29.3',
          });
          // The Web UI: the list's WabaStep and the run page's current details say so.
          const d = await handle.describe();
          expect(d.typedSearchAttributes.get(WabaStep)).toBe(`parked until ${until_}`);
          const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
          expect(meta.currentDetails).toContain(`: parked until ${until_}`);
          expect(meta.currentDetails).toContain('| window | closed: parked after');
          expect(fake.notified()).toContain('waitingForWindow');
          await sleepMs(1_000);
          expect(ups(fake)).toEqual(['web1 waweb 2.30.0']);

          const out = await result(handle, reopens - Date.now() + 40_000);
          expect(out.hosts.map((h) => `${h.host} ${h.action}`)).toEqual(ALL.map((h) => `${h} upgraded`));
          // Nothing after web1 before the opening; then the health again, and the next batches.
          const later = fake.callsOf('composeUp').filter((c) => c.host !== 'web1');
          expect(later.map((c) => c.host)).toEqual(['master1', 'master2', 'core1', 'core2']);
          expect(later.every((c) => c.at >= reopens - 50)).toBe(true);
          expect(out.gates.map((g) => `${g.gate} ${g.outcome}`)).toEqual([
            'health after waweb on web1 passed',
            'health before resuming passed',
            'health after master on master1 passed',
            'health after master on master2 passed',
            'health after wacore on core1 passed',
            'health after wacore on core2 passed',
          ]);
          const st = await statusOf(handle);
          expect(st.parked).toBeNull();
          expect(st.stagesDone).toContain(`parked until ${until_}`);
          expect(st.hosts.window).toMatch(/^open again \(parked .+ to .+\)$/);
        });
      },
    );

    it(
      'finish: a window that closes mid-run does not stop it; every batch runs on past the end',
      { timeout: 150_000 },
      async () => {
        let closesAt = Number.POSITIVE_INFINITY;
        const fake = closingDuringWeb1(() => closesAt);
        await scenario(fake, async (s) => {
          closesAt = nextWholeMinute(Date.now() + 20_000);
          const window = { ...windowClosingAt(closesAt, 'America/New_York'), onClose: 'finish' as const };
          const handle = await s.start(
            'upgrade',
            'window-finish',
            upgradeInput({ toVersion: '2.30.0', window, timeouts: { health: '2m', dbUpgrade: '1m' } }),
            { executionTimeout: '4m' },
          );
          trackChildren(s, handle.workflowId);
          await gateOpen(handle, 'upgrade');
          await approve(s.client, handle.workflowId, 'upgrade', 'alice');
          const out = await result(handle, closesAt - Date.now() + 40_000);
          expect(out.hosts).toHaveLength(5);
          const later = fake.callsOf('composeUp').filter((c) => c.host !== 'web1');
          expect(later.map((c) => c.host)).toEqual(['master1', 'master2', 'core1', 'core2']);
          // After the end, and without waiting for the next opening.
          expect(later.every((c) => c.at >= closesAt && c.at < closesAt + 60_000)).toBe(true);
          const st = await statusOf(handle);
          expect(st.stagesDone.some((x) => x.startsWith('parked'))).toBe(false);
          expect(out.gates.map((g) => g.gate)).not.toContain('health before resuming');
          expect(((await plan(s.client, handle.workflowId)) as PlanStep[])[1]).toEqual({
            stage: 'window',
            note: `${window.days.join(',')} ${window.start}-${window.end} America/New_York; when it closes: finish (run on to the last batch)`,
          });
        });
      },
    );

    it(
      'an upgrade terminated while its mediaChown child waits for the next opening (continued as new): that run is cancelled too',
      { timeout: 200_000 },
      async () => {
        const fake = fakeCluster({ setUp: true, version: '2.29.1', ...LONG_CHOWN });
        await scenario(fake, async (s) => {
          const closesAt = nextWholeMinute(Date.now() + 20_000);
          // onClose finish: the upgrade runs on to wait for its child, which stops at the close.
          const window = { ...windowClosingAt(closesAt, 'Asia/Tokyo', 2), onClose: 'finish' as const };
          const handle = await startApproved(s, 'terminated-chown-continued', upgradeInput({ window }));
          const child = s.client.workflow.getHandle(`${handle.workflowId}/mediaChown`);
          const first = await until(
            'the chown child to start',
            () => child.describe().catch(() => undefined),
            (d) => d !== undefined,
            30_000,
          );
          await until(
            'the chown child to continue as new and wait for the next opening',
            () => statusOf(child).catch(() => undefined),
            (st) => st?.stage.startsWith('waiting for window opening') === true,
            closesAt - Date.now() + 40_000,
          );
          const continued = await child.describe();
          expect(continued.runId).not.toBe(first?.runId);
          expect(fake.state.chown).toMatchObject({ running: false, stops: 1 });
          await handle.terminate('operator stopped it');
          await until(
            'the continued child to close',
            () => child.describe(),
            (d) => d.status.name !== 'RUNNING',
            20_000,
          );
          const closed = await child.describe();
          expect({ run: closed.runId, status: closed.status.name }).toEqual({
            run: continued.runId,
            status: 'CANCELLED',
          });
          // Nothing started again in the container, nothing left running.
          expect(fake.state.chown).toMatchObject({ running: false, starts: 1 });
        });
      },
    );
  });

  it("the mediaChown child gets the upgrade's window (without onClose); a forced upgrade's child gets none", async () => {
    // Open for the next half hour at least (it closes at a whole minute 30 to 31 minutes ahead).
    const window = windowClosingAt(nextWholeMinute(Date.now() + 30 * 60_000), 'Europe/Rome');
    const windowed = fakeCluster({ setUp: true, version: '2.29.1', engine: 'PGSQL' });
    await scenario(windowed, async (s) => {
      const handle = await startApproved(s, 'chown-window', upgradeInput({ window }));
      const out = await result(handle);
      expect(out.mediaChown).toMatchObject({ outcome: 'completed', runs: 1 });
      expect((await childInputs(handle)).mediaChown).toEqual({ cluster: 'lab', window });
      const child = s.client.workflow.getHandle(`${handle.workflowId}/mediaChown`);
      expect(((await plan(s.client, child.workflowId)) as PlanStep[]).map((p) => p.stage)).toContain(
        'window',
      );
    });
    const forced = fakeCluster({ setUp: true, version: '2.29.1', engine: 'PGSQL' });
    await scenario(forced, async (s) => {
      const handle = await startApproved(
        s,
        'chown-forced',
        upgradeInput({ window, force: { reason: 'emergency fix, CAB-1234' } }),
      );
      await result(handle);
      expect((await childInputs(handle)).mediaChown).toEqual({ cluster: 'lab' });
    });
  });
});
