// dbUpgrade, mediaChown, uninstall and collectLogs end to end on the suite's real dev server and a
// real worker, with the cluster faked in-process (test/support/fake-cluster.ts). Every wait bounded.
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/client/runbooks';
import type { Decision } from '../../src/model/approvals';
import { type GatedRunStatus, type PlanStep, statusQuery } from '../../workflows/api';
import type { CollectLogsResult } from '../../workflows/collect-logs';
import type { DbUpgradeResult } from '../../workflows/db-upgrade';
import type { MediaChownResult } from '../../workflows/media-chown';
import type { UninstallResult } from '../../workflows/uninstall';
import { approve, reject } from '../support/decide';
import {
  collectLogsInput,
  containerId,
  dbUpgradeInput,
  type FakeCluster,
  fakeCluster,
  mediaChownInput,
  retryable,
  runFailure,
  scenario,
  uninstallInput,
  until,
  upgradeInput,
  within,
} from '../support/fake-cluster';
import { PLAN_HASH, signedBy } from '../support/signed-decisions';
import { nextWholeMinute, windowClosingAt } from '../support/window-times';

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<GatedRunStatus>;

const gateOpen = (h: WorkflowHandle, gate: string) =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
  );

const resultOf = <T>(h: WorkflowHandle, ms = 30_000) =>
  within(ms, `run ${h.workflowId}`, h.result() as Promise<T>);

/** Activity names in call order, consecutive repeats folded. */
const phases = (fake: FakeCluster) => fake.names().filter((n, i, all) => n !== all[i - 1]);

const hostsOf = (fake: FakeCluster, name: Parameters<FakeCluster['callsOf']>[0]) =>
  fake.callsOf(name).map((c) => c.host);

const DOWN_ORDER = ['core1', 'core2', 'master1', 'master2', 'web1'];

describe('dbUpgrade', () => {
  it('defaults: the first master runs the job, exitOnSuccess false passes through, restartApps restarts webapps then coreapps', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', variants: { core1: 'v2' } });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('dbUpgrade', 'defaults', dbUpgradeInput({ exitOnSuccess: false }));
      const out = await resultOf<DbUpgradeResult>(handle);

      const container = fake.callsOf('waitDbUpgrade')[0]?.args.container;
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('dbUpgrade'),
        host: 'master1',
        toVersion: '2.29.3',
        container,
        exitCode: 0,
        restarted: [
          'web1/waweb',
          expect.stringMatching(/^core[12]\/wacore$/),
          expect.stringMatching(/^core[12]\/wacore$/),
        ],
      });
      expect([...out.restarted].sort()).toEqual(['core1/wacore', 'core2/wacore', 'web1/waweb']);
      expect(typeof container).toBe('string');

      expect(phases(fake)).toEqual([
        'preflightHost',
        'uploadDbUpgradeFiles',
        'startDbUpgrade',
        'waitDbUpgrade',
        'removeDbUpgrade',
        'composeUp',
      ]);
      // Only the job's host and the hosts to restart are preflighted.
      expect(hostsOf(fake, 'preflightHost').sort()).toEqual(['core1', 'core2', 'master1', 'web1']);
      expect(hostsOf(fake, 'uploadDbUpgradeFiles')).toEqual(['master1']);
      // Activities get the cluster by reference (name and spec hash) and look the spec up themselves.
      expect(fake.callsOf('uploadDbUpgradeFiles').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'master1' },
      ]);
      expect(fake.callsOf('startDbUpgrade').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'master1', version: '2.29.3', variant: 'v1', exitOnSuccess: false },
      ]);
      expect(fake.callsOf('waitDbUpgrade').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'master1', container, exitOnSuccess: false },
      ]);
      expect(fake.state.dbUpgradeStarts).toBe(1);
      expect(fake.state.dbUpgradeJobs).toEqual([]);
      expect(fake.state.schemaVersion).toBe('2.29.3');

      // Webapps first, then the Coreapps, on the new version with each host's compose variant.
      const ups = fake.callsOf('composeUp');
      expect(
        ups.map((c) => `${c.host} ${c.service} ${String(c.args.version)} ${String(c.args.variant)}`),
      ).toEqual([
        'web1 waweb 2.29.3 v1',
        expect.stringMatching(/^core[12] wacore 2\.29\.3 v[12]$/),
        expect.stringMatching(/^core[12] wacore 2\.29\.3 v[12]$/),
      ]);
      expect(ups.find((c) => c.host === 'core1')?.args.variant).toBe('v2');
      expect(fake.state.versions).toMatchObject({ web1: '2.29.3', core1: '2.29.3', core2: '2.29.3' });

      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.slice(0, 4)).toEqual([
        {
          stage: 'resolve cluster',
          note: `cluster lab from the inventory test-inventory.yaml: spec sha256 ${fake.stamp('dbUpgrade').specHash}`,
        },
        { stage: 'upload', host: 'master1', note: '/root/biz/dbupgrade-compose.yml and db.env' },
        { stage: 'start job', host: 'master1', note: 'dbupgrade v2.29.3 with EXIT_ON_SUCCESS=FALSE' },
        { stage: 'wait', host: 'master1', note: 'the job log says the upgrade is complete' },
      ]);
      expect(steps.slice(4).map((p) => `${p.stage} ${p.host}`)).toEqual([
        'start waweb web1',
        'start wacore core1',
        'start wacore core2',
      ]);
      const done = await statusOf(handle);
      expect(done.stage).toBe('done');
      expect(done.inventory).toEqual(fake.stamp('dbUpgrade'));
      expect(done.stagesDone).toEqual(
        expect.arrayContaining([
          'resolve cluster',
          'preflight',
          'upload',
          'start job',
          'wait for the job',
          'restart waweb',
          'restart wacore',
        ]),
      );
      expect(done.hosts).toMatchObject({
        master1: 'dbupgrade logged completion (EXIT_ON_SUCCESS=FALSE)',
        web1: 'waweb on v2.29.3',
      });
    });
  });

  it('an explicit host with restartApps false and exitOnSuccess (default) true touches that host only', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'dbUpgrade',
        'host-no-restart',
        dbUpgradeInput({ host: 'master2', restartApps: false }),
      );
      const out = await resultOf<DbUpgradeResult>(handle);
      expect(out).toMatchObject({ host: 'master2', exitCode: 0, restarted: [] });
      expect([...new Set(fake.calls.map((c) => c.host))]).toEqual(['master2']);
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.callsOf('startDbUpgrade')[0]?.args).toMatchObject({ exitOnSuccess: true });
      expect(fake.callsOf('waitDbUpgrade')[0]?.args).toMatchObject({ exitOnSuccess: true });
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.map((p) => `${p.stage}: ${p.note}`)).toEqual([
        `resolve cluster: cluster lab from the inventory test-inventory.yaml: spec sha256 ${fake.ref().specHash}`,
        'upload: /root/biz/dbupgrade-compose.yml and db.env',
        'start job: dbupgrade v2.29.3',
        'wait: docker wait: exit code 0 = success',
      ]);
    });
  });

  it('a job of the target version already there is re-attached, not started again', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.1',
      dbUpgradeJob: { host: 'master1', version: '2.29.3' },
    });
    const existing = fake.state.dbUpgradeJobs[0]?.container;
    await scenario(fake, async ({ start }) => {
      const handle = await start('dbUpgrade', 'reattach', dbUpgradeInput({ restartApps: false }));
      const out = await resultOf<DbUpgradeResult>(handle);
      expect(existing).toEqual(expect.any(String));
      expect(out.container).toBe(existing);
      expect(fake.state.dbUpgradeStarts).toBe(0);
      expect(fake.callsOf('startDbUpgrade')).toHaveLength(1);
      expect(fake.callsOf('waitDbUpgrade').map((c) => c.args.container)).toEqual([existing]);
      expect((await statusOf(handle)).hosts.master1).toBe('dbupgrade exited 0');
      expect(fake.state.schemaVersion).toBe('2.29.3');
    });
  });

  it('a start whose answer was lost is retried and re-attaches: the job is started once', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' }).fail(
      'startDbUpgrade',
      retryable('ssh: connection reset by peer'),
      { after: true },
    );
    await scenario(fake, async ({ start }) => {
      const handle = await start('dbUpgrade', 'lost-answer', dbUpgradeInput({ restartApps: false }));
      const out = await resultOf<DbUpgradeResult>(handle);
      expect(fake.callsOf('startDbUpgrade').map((c) => [c.attempt, c.outcome])).toEqual([
        [1, 'failed'],
        [2, 'ok'],
      ]);
      expect(fake.state.dbUpgradeStarts).toBe(1);
      expect(fake.callsOf('waitDbUpgrade').map((c) => c.args.container)).toEqual([out.container]);
      const st = await statusOf(handle);
      expect(st.stagesDone).toContain('start job');
    });
  });

  it('a job exiting 1 fails with DbUpgradeFailed and its last lines; the job is removed, the apps untouched', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', dbUpgradeExitCode: 1 });
    await scenario(fake, async ({ start }) => {
      const handle = await start('dbUpgrade', 'exit1', dbUpgradeInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('DbUpgradeFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'the dbupgrade job of v2.29.3 on master1 exited 1; app containers left untouched. Last lines:\n' +
          "applying migration 42\nERROR: migration 42 failed: duplicate column 'wa_id'",
      );
      expect(phases(fake)).toEqual([
        'preflightHost',
        'uploadDbUpgradeFiles',
        'startDbUpgrade',
        'waitDbUpgrade',
        'removeDbUpgrade',
      ]);
      expect(fake.state.dbUpgradeJobs).toEqual([]);
      expect(fake.state.schemaVersion).toBe('2.29.1');
      expect(fake.state.versions).toMatchObject({ web1: '2.29.1', core1: '2.29.1', core2: '2.29.1' });
      expect((await statusOf(handle)).lastError).toContain('exited 1');
    });
  });

  it('a host that is not in the cluster, or a toVersion not newer than the inventory says, fails with InvalidInput before any activity', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(
        await start('dbUpgrade', 'bad-host', dbUpgradeInput({ host: 'core9' })),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toBe(
        'invalid dbUpgrade input: host: core9 is not a host of cluster lab in the inventory',
      );
      const { failure: spare } = await runFailure(
        await start('dbUpgrade', 'spare-host', dbUpgradeInput({ host: 'core3' })),
      );
      expect(spare.type).toBe('InvalidInput');
      expect(spare.message).toBe(
        'invalid dbUpgrade input: host: core3 is a spare host of cluster lab, not a member yet',
      );
      const { failure: version } = await runFailure(
        await start('dbUpgrade', 'bad-version', dbUpgradeInput({ toVersion: 'latest' })),
      );
      expect(version.type).toBe('InvalidInput');
      expect(version.message).toBe('invalid dbUpgrade input: toVersion: expected a version like 2.29.3');
      const { failure: same } = await runFailure(
        await start('dbUpgrade', 'same-version', dbUpgradeInput({ toVersion: '2.29.1' })),
      );
      expect(same.type).toBe('InvalidInput');
      expect(same.message).toBe(
        'invalid dbUpgrade input: toVersion: must be newer than v2.29.1, the version cluster lab runs (inventory); no downgrades',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });

  it('timeouts.job bounds the wait for a job that never exits', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1', dbUpgradeHangs: true });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'dbUpgrade',
        'job-timeout',
        dbUpgradeInput({ restartApps: false, timeouts: { job: '3s' } }),
      );
      const settled = await within(15_000, `run ${handle.workflowId}`, handle.result()).then(
        () => new Error('the run succeeded'),
        (e: unknown) => e,
      );
      expect(settled).toBeInstanceOf(WorkflowFailedError);
      expect(fake.callsOf('composeUp')).toEqual([]);
    });
  });
});

describe('mediaChown', () => {
  it('completes: chown in the Webapp container, polled until nothing is left; reports changed/total', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      variants: { web1: 'v2' },
      // The media directory inside the containers is the inventory's.
      entry: (e) => {
        e.media = { volume: 'wamedia', containerDir: '/srv/wamedia' };
      },
    });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('mediaChown', 'completes', mediaChownInput());
      const out = await resultOf<MediaChownResult>(handle);
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('mediaChown'),
        host: 'web1',
        total: 1000,
        changed: 400,
        outcome: 'completed',
        runs: 1,
      });
      expect(phases(fake)).toEqual(['preflightHost', 'startMediaChown', 'mediaChownProgress']);
      expect(hostsOf(fake, 'preflightHost')).toEqual(['web1']);
      // No path reaches an activity from the run: it looks the media directory up in the inventory.
      expect(fake.callsOf('startMediaChown').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'web1', version: '2.29.3', variant: 'v2' },
      ]);
      const polls = fake.callsOf('mediaChownProgress');
      expect(polls).toHaveLength(2);
      expect(polls.map((c) => c.args)).toEqual(
        polls.map(() => ({ cluster: fake.ref(), host: 'web1', container: containerId('web1/waweb') })),
      );
      // The workflow sleeps between polls: 2 s for a tree of 1000 files (chownPollMs).
      expect((polls[1]?.at ?? 0) - (polls[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
      expect((polls[1]?.at ?? 0) - (polls[0]?.at ?? 0)).toBeLessThan(4_000);
      expect(fake.callsOf('stopMediaChown')).toEqual([]);
      expect(fake.state.chown).toMatchObject({ remaining: 0, exitCode: 0, starts: 1, stops: 0 });

      const st = await statusOf(handle);
      expect(st.stage).toBe('done: every media file is owned by root');
      expect(st.hosts.web1).toMatch(/^1000\/1000 files owned by root, /);
      expect(st.inventory).toEqual(fake.stamp('mediaChown'));
      expect(await plan(client, handle.workflowId)).toEqual([
        {
          stage: 'resolve cluster',
          note: `cluster lab from the inventory test-inventory.yaml: spec sha256 ${fake.ref().specHash}`,
        },
        {
          stage: 'chown',
          host: 'web1',
          command:
            'docker exec -d <waweb container> chown -R root /srv/wamedia/incoming /srv/wamedia/outgoing /srv/wamedia/shared',
          note: 'only files not yet owned by root; detached',
        },
      ]);
    });
  });

  it('when windowEnd passes it stops the chown and continues as new; the follow-up waits for the next window, as long as the first, and completes', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 100, remaining: 100, perPoll: 40 },
    });
    await scenario(fake, async ({ client, start }) => {
      const windowEnd = new Date(Date.now() + 2_000).toISOString();
      const handle = await start(
        'mediaChown',
        'window-end',
        mediaChownInput({ windowEnd, resumeAfter: '8s' }),
      );
      const firstRunId = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;

      await until(
        'the chown to be stopped',
        async () => fake.callsOf('stopMediaChown').length,
        (n) => n > 0,
      );
      const resuming = await until(
        'the follow-up run to wait',
        () => statusOf(handle),
        (st) => st.stage.startsWith('waiting until '),
      );
      const out = await resultOf<MediaChownResult>(handle);
      expect(out).toMatchObject({ cluster: 'lab', host: 'web1', total: 100, outcome: 'completed', runs: 2 });

      // The run continued as new: a second run, the first one closed as CONTINUED_AS_NEW.
      const latest = await handle.describe();
      expect(latest.runId).not.toBe(firstRunId);
      expect(latest.status.name).toBe('COMPLETED');
      const firstRun = client.workflow.getHandle(handle.workflowId, firstRunId);
      expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');

      const stop = fake.callsOf('stopMediaChown');
      expect(stop.map((c) => c.args)).toEqual([
        expect.objectContaining({ host: 'web1', container: containerId('web1/waweb') }),
      ]);
      expect(fake.state.chown).toMatchObject({ starts: 2, stops: 1, remaining: 0, exitCode: 0 });

      // The window recurs every resumeAfter: the first opened when the first run started (its start
      // time as workflow code sees it, between the run's first events) and closed at windowEnd; the
      // next one opens 8 s after that start and is exactly as long.
      const firstEvents = (await firstRun.fetchHistory()).events ?? [];
      const eventMs = (t?: { seconds?: unknown; nanos?: number | null } | null) =>
        Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
      const runStarted = eventMs(firstEvents[0]?.eventTime);
      const firstTaskDone = eventMs(
        firstEvents.find((e) => e.workflowTaskCompletedEventAttributes)?.eventTime,
      );
      const history = await client.workflow.getHandle(handle.workflowId, latest.runId).fetchHistory();
      const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const [nextInput, runs] = payloads.map((p) => JSON.parse(Buffer.from(p.data ?? []).toString('utf8')));
      expect(runs).toBe(2);
      const opened = Date.parse(nextInput.notBefore) - 8_000;
      expect(opened).toBeGreaterThanOrEqual(runStarted - 5);
      expect(opened).toBeLessThanOrEqual(firstTaskDone + 5);
      const firstLength = Date.parse(windowEnd) - opened;
      expect(firstLength).toBeGreaterThan(1_000);
      expect(nextInput.windowEnd).toBe(new Date(Date.parse(windowEnd) + 8_000).toISOString());
      expect(Date.parse(nextInput.windowEnd) - Date.parse(nextInput.notBefore)).toBe(firstLength);
      expect(resuming.stage).toBe(`waiting until ${nextInput.notBefore} to resume`);
      // The follow-up restarted the chown inside its window, not before it opened.
      const restart = fake.callsOf('startMediaChown')[1];
      expect(restart?.at ?? 0).toBeGreaterThanOrEqual(Date.parse(nextInput.notBefore) - 50);
      expect(restart?.at ?? 0).toBeLessThan(Date.parse(nextInput.windowEnd));
      expect((restart?.at ?? 0) - (stop[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    });
  });

  it('the poll interval grows with the tree: 100,000 files are polled every 5 s (one second per 20,000 files, 2 s to 60 s)', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 100_000, remaining: 300, perPoll: 200 },
    });
    await scenario(fake, async ({ start }) => {
      const out = await resultOf<MediaChownResult>(await start('mediaChown', 'big-tree', mediaChownInput()));
      expect(out).toMatchObject({ total: 100_000, changed: 300, outcome: 'completed', runs: 1 });
      const polls = fake.callsOf('mediaChownProgress');
      expect(polls).toHaveLength(2);
      expect((polls[1]?.at ?? 0) - (polls[0]?.at ?? 0)).toBeGreaterThanOrEqual(4_900);
      // The files are counted once, by the start; the polls read what the chown reported.
      expect(fake.callsOf('startMediaChown')).toHaveLength(1);
    });
  });

  /** The steps of a mediaChown whose first chown was lost: started again, then done. */
  const CHOWN_STARTED_TWICE = [
    'preflightHost',
    'startMediaChown',
    'mediaChownProgress',
    'startMediaChown',
    'mediaChownProgress',
  ];

  it('a chown gone without an exit code (the Webapp container restarted under it) is started again and completes', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 1000, remaining: 400, perPoll: 150, vanishes: 1 },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('mediaChown', 'gone', mediaChownInput());
      const out = await resultOf<MediaChownResult>(handle);
      // The first poll found it gone after 150 files: started again, it finished the other 250.
      expect(out).toMatchObject({ total: 1000, changed: 400, outcome: 'completed', runs: 1 });
      expect(fake.state.chown).toMatchObject({ starts: 2, vanished: 1, remaining: 0, exitCode: 0 });
      expect(phases(fake)).toEqual(CHOWN_STARTED_TWICE);
      expect((await statusOf(handle)).stagesDone).toContain('chown');
    });
  });

  it('a cancelled mediaChown stops its chown in the container it runs in (what it did stays done)', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      // One file per poll: still running when cancelled; the first poll finds it gone once, so the
      // chown it stops is the one started again.
      media: { total: 100_000, remaining: 100_000, perPoll: 1, vanishes: 1 },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('mediaChown', 'cancelled', mediaChownInput());
      await until(
        'the chown to run again',
        () => statusOf(handle),
        (st) => Object.values(st.hosts).some((h) => /files owned by root/.test(String(h))),
        20_000,
      );
      expect(fake.state.chown).toMatchObject({ running: true, starts: 2, stops: 0 });
      await handle.cancel();
      await expect(within(20_000, 'the cancelled run', handle.result())).rejects.toThrow(/cancel/i);
      expect(fake.callsOf('stopMediaChown').map((c) => c.args)).toEqual([
        { cluster: fake.ref(), host: 'web1', container: containerId('web1/waweb') },
      ]);
      expect(fake.state.chown).toMatchObject({ running: false, stops: 1 });
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      expect((await statusOf(handle)).stage).toBe('cancelled: chown stopped, what it did stays done');
    });
  });

  it('a chown whose container was re-created under it is started again in the new one; one that keeps losing it fails naming what is left', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 1000, remaining: 400, perPoll: 150, vanishes: 1, withContainer: true },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('mediaChown', 'recreated', mediaChownInput());
      const out = await resultOf<MediaChownResult>(handle);
      expect(out).toMatchObject({ total: 1000, outcome: 'completed', runs: 1 });
      expect(fake.state.chown).toMatchObject({ starts: 2, vanished: 1, remaining: 0, exitCode: 0 });
      expect(phases(fake)).toEqual(CHOWN_STARTED_TWICE);
    });
    const losing = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 1000, remaining: 400, perPoll: 10, vanishes: 10, withContainer: true },
    });
    await scenario(losing, async ({ start }) => {
      const { failure } = await runFailure(await start('mediaChown', 'losing', mediaChownInput()), 20_000);
      // Not the 0 the poll of a missing container reports: what the last start counted.
      expect(failure.message).toBe(
        'the chown on web1 stopped without an exit code 4 times (the Webapp container restarted?); 370 files not owned by root',
      );
    });
  });

  it('a chown that keeps vanishing fails with MediaChownFailed after three restarts', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.3',
      media: { total: 1000, remaining: 400, perPoll: 10, vanishes: 10 },
    });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(await start('mediaChown', 'vanishing', mediaChownInput()), 20_000);
      expect(failure.type).toBe('MediaChownFailed');
      expect(failure.message).toBe(
        'the chown on web1 stopped without an exit code 4 times (the Webapp container restarted?); 360 files not owned by root',
      );
      expect(fake.state.chown.starts).toBe(4);
    });
  });

  it(
    'with a maintenance window (as an upgrade passes it), the chown stops when it closes, continues as new and resumes at the next opening',
    { timeout: 200_000 },
    async () => {
      const fake: FakeCluster = fakeCluster({
        setUp: true,
        version: '2.29.3',
        // One file a poll in the first run (still running when the window closes), fast after.
        media: { total: 100, remaining: 100, perPoll: () => (fake.state.chown.starts < 2 ? 1 : 50) },
      });
      await scenario(fake, async ({ client, start }) => {
        // Open now, closed for one minute from the next whole minute (at least 10 s ahead), in Kolkata.
        const closesAt = nextWholeMinute(Date.now() + 10_000);
        const reopens = closesAt + 60_000;
        const window = windowClosingAt(closesAt, 'Asia/Kolkata');
        const handle = await start('mediaChown', 'maintenance-window', mediaChownInput({ window }), {
          executionTimeout: '5m',
        });
        const firstRunId = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;
        await until(
          'the chown to start',
          async () => fake.callsOf('startMediaChown').length,
          (n) => n > 0,
        );
        expect(await plan(client, handle.workflowId)).toContainEqual({
          stage: 'window',
          note: `${window.days.join(',')} ${window.start}-${window.end} Asia/Kolkata: the chown runs only inside it, stops when it closes and resumes at the next opening`,
        });

        const stopped = await until(
          'the chown to be stopped when the window closes',
          async () => fake.callsOf('stopMediaChown'),
          (calls) => calls.length > 0,
          closesAt - Date.now() + 20_000,
        );
        const stopAt = stopped[0]?.at ?? 0;
        expect(stopAt).toBeGreaterThanOrEqual(closesAt);
        expect(stopAt).toBeLessThan(closesAt + 5_000);
        const waiting = await until(
          'the follow-up run to wait for the next opening',
          () => statusOf(handle),
          (st) => st.stage.startsWith('waiting for window opening at '),
        );
        expect(waiting.stage).toBe(`waiting for window opening at ${new Date(reopens).toISOString()}`);
        expect(fake.state.chown.running).toBe(false);

        const out = await resultOf<MediaChownResult>(handle, reopens - Date.now() + 30_000);
        expect(out).toMatchObject({
          cluster: 'lab',
          host: 'web1',
          total: 100,
          outcome: 'completed',
          runs: 2,
        });
        expect(fake.state.chown).toMatchObject({ starts: 2, stops: 1, remaining: 0, exitCode: 0 });
        // Nothing touched the cluster while the window was closed; the chown started again at the opening.
        expect(fake.calls.filter((c) => c.at > stopAt && c.at < reopens - 50)).toEqual([]);
        const restart = fake.callsOf('startMediaChown')[1];
        expect(restart?.at ?? 0).toBeGreaterThanOrEqual(reopens - 50);
        // The first run closed as CONTINUED_AS_NEW, saying when it resumes; the follow-up has the same window.
        const firstRun = client.workflow.getHandle(handle.workflowId, firstRunId);
        expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
        const latest = await handle.describe();
        const history = await client.workflow.getHandle(handle.workflowId, latest.runId).fetchHistory();
        const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
        const [nextInput, runs] = payloads.map((p) => JSON.parse(Buffer.from(p.data ?? []).toString('utf8')));
        expect(runs).toBe(2);
        expect(nextInput.window).toEqual(window);
        expect(nextInput.notBefore).toBeUndefined();
        expect(nextInput.windowEnd).toBeUndefined();
      });
    },
  );

  it('window with windowEnd or notBefore is refused with InvalidInput naming them, before any activity', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const window = { days: ['sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Rome' };
      const soon = new Date(Date.now() + 3_600_000).toISOString();
      const { failure } = await runFailure(
        await start('mediaChown', 'window-and-end', mediaChownInput({ window, windowEnd: soon } as never)),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toBe(
        'invalid mediaChown input: windowEnd: not with window: the maintenance window says when the chown runs',
      );
      expect(fake.calls).toEqual([]);
    });
  });

  it("a re-run when every file is already root's completes at once, saying there was nothing to change", async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', media: { total: 500, remaining: 0 } });
    await scenario(fake, async ({ start }) => {
      const handle = await start('mediaChown', 'nothing-to-change', mediaChownInput());
      const out = await resultOf<MediaChownResult>(handle);
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('mediaChown'),
        host: 'web1',
        total: 500,
        changed: 0,
        outcome: 'completed',
        runs: 1,
      });
      // Counted by the start (the activity counts before it starts): no polling, nothing to stop.
      expect(phases(fake)).toEqual(['preflightHost', 'startMediaChown']);
      expect(fake.callsOf('mediaChownProgress')).toEqual([]);
      expect(fake.callsOf('stopMediaChown')).toEqual([]);
      const st = await statusOf(handle);
      expect(st.stage).toBe('done: nothing to change, every media file was already owned by root');
      expect(st.hosts.web1).toBe('500/500 files owned by root');
      expect(fake.notified()).toContain('runSucceeded');
    });
  });

  it('a resumeAfter not longer than the window, or a window ending before it starts, fails with InvalidInput naming the field', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      // Measured from the run's start (no notBefore): a 1 h window cannot recur every 30 min.
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      const { failure: short } = await runFailure(
        await start(
          'mediaChown',
          'short-period',
          mediaChownInput({ windowEnd: inAnHour, resumeAfter: '30m' }),
        ),
      );
      expect(short.type).toBe('InvalidInput');
      expect(short.nonRetryable).toBe(true);
      expect(short.message).toMatch(
        /^invalid mediaChown input: resumeAfter: must be longer than the window \(\d+ s, .+\): the window recurs every resumeAfter$/,
      );
      // With notBefore, the schema itself checks (as the CLI does before starting). A window some
      // days ahead (instants must be within 90 days of now): 02:00 to 04:00 UTC.
      const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 6 * 86_400_000);
      const at = (h: number) => new Date(day.getTime() + h * 3_600_000).toISOString();
      const { failure: fixed } = await runFailure(
        await start(
          'mediaChown',
          'fixed-window',
          mediaChownInput({ notBefore: at(2), windowEnd: at(4), resumeAfter: '2h' }),
        ),
      );
      expect(fixed.message).toBe(
        `invalid mediaChown input: resumeAfter: must be longer than the window (7200 s, ${at(2)} to ` +
          `${at(4)}): the window recurs every resumeAfter`,
      );
      const { failure: backwards } = await runFailure(
        await start('mediaChown', 'backwards', mediaChownInput({ notBefore: at(4), windowEnd: at(2) })),
      );
      expect(backwards.message).toBe(
        `invalid mediaChown input: windowEnd: must be after the window's start ${at(4)}`,
      );
      // Beyond the horizon: a window is planned weeks ahead, not years.
      const { failure: far } = await runFailure(
        await start(
          'mediaChown',
          'far-window',
          mediaChownInput({ windowEnd: new Date(Date.now() + 400 * 86_400_000).toISOString() }),
        ),
      );
      expect(far.type).toBe('InvalidInput');
      expect(far.message).toBe('invalid mediaChown input: windowEnd: must be within 90 days of now');
      const past = new Date(Date.now() - 60_000).toISOString();
      const { failure: over } = await runFailure(
        await start('mediaChown', 'past-end', mediaChownInput({ windowEnd: past })),
      );
      expect(over.message).toMatch(/^invalid mediaChown input: windowEnd: must be after the window's start /);
      expect(fake.calls).toEqual([]);
    });
  });

  it('a chown that exits non-zero fails with MediaChownFailed, naming what is left', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', media: { failWith: 2 } });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(await start('mediaChown', 'fails', mediaChownInput()), 20_000);
      expect(failure.type).toBe('MediaChownFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('chown on web1 exited 2 with 150 files not owned by root');
      expect(fake.callsOf('mediaChownProgress')).toHaveLength(1);
    });
  });

  it('invalid input (windowEnd not an ISO time) fails with InvalidInput before any activity', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(
        await start('mediaChown', 'bad-window', mediaChownInput({ windowEnd: 'tonight' })),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toMatch(/^invalid mediaChown input: windowEnd: /);
      expect(fake.calls).toEqual([]);
    });
  });

  it('a mediaDir in the input is refused (the media directory lives in the inventory), before any activity', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(
        await start('mediaChown', 'media-dir', { ...mediaChownInput(), mediaDir: '/etc' }),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'invalid mediaChown input: mediaDir: unknown field: the media directory lives in the inventory (clusters.<name>.media.containerDir)',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
      expect(fake.state.chown.starts).toBe(0);
    });
  });
});

describe('uninstall', () => {
  const SUMMARY =
    'remove from cluster lab: core1: biz_wacore_1; core2: biz_wacore_1; master1: biz_master_1; ' +
    'master2: biz_master_1; web1: biz_waweb_1';

  it('the gate lists every host and container; after approval, down on Coreapps, then Masters, then Webapps', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', variants: { master2: 'v2' } });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'happy', uninstallInput());
      const atGate = await gateOpen(handle, 'uninstall');
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'uninstall',
          summary: SUMMARY,
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 1,
        },
      ]);
      expect(fake.callsOf('composeDown')).toEqual([]);
      expect(hostsOf(fake, 'composePs').sort()).toEqual([...DOWN_ORDER].sort());
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      const stamp = fake.stamp('uninstall');
      expect(steps[0]).toEqual({
        stage: 'resolve cluster',
        note: `cluster lab from the inventory test-inventory.yaml: spec sha256 ${stamp.specHash}, policy sha256 ${stamp.policyHash}`,
      });
      expect(steps.slice(1).map((p) => `${p.stage} ${p.host}`)).toEqual(DOWN_ORDER.map((h) => `down ${h}`));
      expect(atGate.inventory).toEqual(stamp);

      await approve(client, handle.workflowId, 'uninstall', 'bob');
      const out = await resultOf<UninstallResult>(handle);
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('uninstall'),
        nothingToDo: false,
        removed: [
          { host: 'core1', containers: ['biz_wacore_1'] },
          { host: 'core2', containers: ['biz_wacore_1'] },
          { host: 'master1', containers: ['biz_master_1'] },
          { host: 'master2', containers: ['biz_master_1'] },
          { host: 'web1', containers: ['biz_waweb_1'] },
        ],
        volumesRemoved: false,
        decisions: [
          {
            gate: 'uninstall',
            kind: 'approve',
            ...signedBy('bob'),
            plan: atGate.pendingGates[0]?.plan,
            at: expect.any(String),
          },
        ],
      });
      const downs = fake.callsOf('composeDown');
      expect(downs.map((c) => c.host)).toEqual(DOWN_ORDER);
      for (const c of downs) {
        expect(c.args).toEqual({
          cluster: fake.ref(),
          host: c.host,
          version: '2.29.3',
          variant: c.host === 'master2' ? 'v2' : 'v1',
          removeVolumes: false,
        });
      }
      expect(fake.state.up.size).toBe(0);
      expect([...fake.state.volumes].sort()).toEqual([...DOWN_ORDER].sort());
      // Verified afterwards: a second composePs on every host.
      expect(fake.callsOf('composePs')).toHaveLength(10);
      expect(phases(fake)).toEqual(['preflightHost', 'composePs', 'composeDown', 'composePs']);
      expect((await statusOf(handle)).stage).toBe('done');
    });
  });

  it('rejected at gate uninstall: ApprovalRejected, composeDown never called', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'reject', uninstallInput());
      await gateOpen(handle, 'uninstall');
      await reject(client, handle.workflowId, 'uninstall', 'alice', 'wrong cluster');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "uninstall" rejected by alice: wrong cluster');
      expect(fake.callsOf('composeDown')).toEqual([]);
      expect(fake.state.up.size).toBe(5);
    });
  });

  it('removeVolumes: a second gate remove-data, and only after it down -v on every host', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'remove-data', uninstallInput({ removeVolumes: true }));
      const id = handle.workflowId;
      await gateOpen(handle, 'uninstall');
      await approve(client, id, 'uninstall', 'alice');
      const atData = await gateOpen(handle, 'remove-data');
      expect(atData.pendingGates).toEqual([
        {
          gate: 'remove-data',
          summary: `DELETE the named volumes (media) of cluster lab on ${DOWN_ORDER.join(', ')}`,
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 1,
        },
      ]);
      // The containers are down, the data is still there.
      expect(fake.callsOf('composeDown').map((c) => `${c.host} ${String(c.args.removeVolumes)}`)).toEqual(
        DOWN_ORDER.map((h) => `${h} false`),
      );
      expect(fake.state.volumes.size).toBe(5);

      await approve(client, id, 'remove-data', 'bob');
      const out = await resultOf<UninstallResult>(handle);
      expect(out.volumesRemoved).toBe(true);
      expect(out.decisions.map((d) => `${(d as Decision).gate} ${(d as Decision).by}`)).toEqual([
        'uninstall alice',
        'remove-data bob',
      ]);
      const withVolumes = fake.callsOf('composeDown').filter((c) => c.args.removeVolumes === true);
      expect(withVolumes.map((c) => c.host)).toEqual(DOWN_ORDER);
      expect(Math.min(...withVolumes.map((c) => c.seq))).toBeGreaterThan(
        Math.max(
          ...fake
            .callsOf('composeDown')
            .filter((c) => c.args.removeVolumes === false)
            .map((c) => c.seq),
        ),
      );
      expect(fake.state.volumes.size).toBe(0);
    });
  });

  it('rejected at remove-data: ApprovalRejected; the containers are down, the volumes are left', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'keep-data', uninstallInput({ removeVolumes: true }));
      const id = handle.workflowId;
      await gateOpen(handle, 'uninstall');
      await approve(client, id, 'uninstall', 'alice');
      await gateOpen(handle, 'remove-data');
      await reject(client, id, 'remove-data', 'bob', 'keep the media');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "remove-data" rejected by bob: keep the media');
      expect(fake.callsOf('composeDown')).toHaveLength(5);
      expect(fake.callsOf('composeDown').some((c) => c.args.removeVolumes === true)).toBe(false);
      expect(fake.state.up.size).toBe(0);
      expect(fake.state.volumes.size).toBe(5);
    });
  });

  it('a re-run on a cluster without containers returns nothingToDo without any gate', async () => {
    const fake = fakeCluster({ version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const handle = await start('uninstall', 'nothing', uninstallInput());
      const out = await resultOf<UninstallResult>(handle);
      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('uninstall'),
        nothingToDo: true,
        removed: [],
        volumesRemoved: false,
        decisions: [],
      });
      expect(phases(fake)).toEqual(['preflightHost', 'composePs']);
      expect(fake.callsOf('composeDown')).toEqual([]);
      const st = await statusOf(handle);
      expect(st.stage).toBe('done: nothing to do, no container of the project on any host');
      expect(st.stagesDone.some((s) => s.startsWith('waiting for approval'))).toBe(false);
      expect(st.decisions).toEqual([]);
    });
  });

  it('no containers but removeVolumes: both gates still guard the data (summary "no containers")', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    fake.state.up.clear(); // already down, the volumes left behind
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'volumes-only', uninstallInput({ removeVolumes: true }));
      const id = handle.workflowId;
      const atGate = await gateOpen(handle, 'uninstall');
      expect(atGate.pendingGates[0]?.summary).toBe('remove from cluster lab: no containers');
      await approve(client, id, 'uninstall', 'alice');
      await gateOpen(handle, 'remove-data');
      expect(fake.callsOf('composeDown').some((c) => c.args.removeVolumes === true)).toBe(false);
      await approve(client, id, 'remove-data', 'bob');
      const out = await resultOf<UninstallResult>(handle);
      expect(out).toMatchObject({ nothingToDo: false, removed: [], volumesRemoved: true });
      expect(fake.state.volumes.size).toBe(0);
    });
  });

  it('an input carrying an approval policy, or a gate timeout beyond the inventory policy, is refused before any activity', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const { failure: moved } = await runFailure(
        await start('uninstall', 'own-policy', {
          ...uninstallInput(),
          approvals: { approvers: ['carol'], minApprovals: 1 },
        }),
      );
      expect(moved.type).toBe('InvalidInput');
      expect(moved.message).toBe(
        'invalid uninstall input: approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      );
      const { failure: long } = await runFailure(
        await start('uninstall', 'long-timeout', uninstallInput({ approvalTimeout: '30d' })),
      );
      expect(long.type).toBe('InvalidInput');
      expect(long.message).toBe(
        'invalid uninstall input: approvalTimeout: must be between 1s and 1d (the approval policy of cluster lab)',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
      expect(fake.state.up.size).toBe(5);
    });
  });

  it('containers left after down fail the run, naming them', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', stuck: ['core1/wacore'] });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('uninstall', 'stuck', uninstallInput());
      await gateOpen(handle, 'uninstall');
      await approve(client, handle.workflowId, 'uninstall', 'alice');
      const { failure } = await runFailure(handle, 15_000);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('biz_wacore_1');
    });
  });
});

describe('collectLogs', () => {
  const LOGS = {
    'web1/waweb': { bytes: 5000, errorLines: 2 },
    'master1/master': { bytes: 3000, errorLines: 0 },
    'master2/master': { bytes: 1000, errorLines: 1 },
    'core1/wacore': { bytes: 7000, errorLines: 4 },
    'core2/wacore': { bytes: 2000, errorLines: 3 },
  };

  it('run twice: the same files, each run in its own folder (the second never overwrites the first)', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', logs: LOGS });
    await scenario(fake, async ({ start }) => {
      const runs = [];
      for (const label of ['first', 'second']) {
        const handle = await start('collectLogs', label, collectLogsInput());
        const runId = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;
        runs.push({ runId, out: await resultOf<CollectLogsResult>(handle) });
      }
      const [first, second] = runs;
      const relative = (r: typeof first) =>
        r?.out.files.map((f) => ({ ...f, path: f.path.replace(`/artifacts/lab/logs-${r.runId}/`, '') }));
      expect(relative(first)).toEqual(relative(second));
      expect(relative(first)?.map((f) => f.path)).toEqual(
        Object.keys(LOGS).map((k) => `debug_output-${k.replace('/', '-')}.txt`),
      );
      expect(first?.out.summary).toEqual(second?.out.summary);
      // Two folders, one per run; every call of a run wrote into its run's folder.
      const dirs = fake.callsOf('collectServiceLogs').map((c) => c.args.runDir);
      expect([...new Set(dirs)]).toEqual([`lab/logs-${first?.runId}`, `lab/logs-${second?.runId}`]);
      expect(dirs.filter((d) => d === `lab/logs-${second?.runId}`)).toHaveLength(5);
    });
  });

  it('one collectServiceLogs per host and service; the summary sums bytes and error lines per service', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', logs: LOGS, variants: { core2: 'v2' } });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'collectLogs',
        'all',
        collectLogsInput({ since: '2h', maxBytesPerService: 6144 }),
      );
      const runId = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;
      const out = await resultOf<CollectLogsResult>(handle);
      const runDir = `lab/logs-${runId}`;
      const calls = fake.callsOf('collectServiceLogs');
      expect(calls.map((c) => `${c.host}/${c.service}`).sort()).toEqual(Object.keys(LOGS).sort());
      for (const c of calls) {
        expect(c.args).toEqual({
          cluster: fake.ref(),
          host: c.host,
          service: c.service,
          version: '2.29.3',
          variant: c.host === 'core2' ? 'v2' : 'v1',
          since: '2h',
          maxBytes: 6144,
          runDir,
        });
      }
      expect(out.cluster).toBe('lab');
      expect(out.inventory).toEqual(fake.stamp('collectLogs'));
      expect(out.files).toEqual([
        {
          host: 'web1',
          service: 'waweb',
          path: `/artifacts/${runDir}/debug_output-web1-waweb.txt`,
          bytes: 5000,
          errorLines: 2,
        },
        {
          host: 'master1',
          service: 'master',
          path: `/artifacts/${runDir}/debug_output-master1-master.txt`,
          bytes: 3000,
          errorLines: 0,
        },
        {
          host: 'master2',
          service: 'master',
          path: `/artifacts/${runDir}/debug_output-master2-master.txt`,
          bytes: 1000,
          errorLines: 1,
        },
        // at most maxBytesPerService
        {
          host: 'core1',
          service: 'wacore',
          path: `/artifacts/${runDir}/debug_output-core1-wacore.txt`,
          bytes: 6144,
          errorLines: 4,
        },
        {
          host: 'core2',
          service: 'wacore',
          path: `/artifacts/${runDir}/debug_output-core2-wacore.txt`,
          bytes: 2000,
          errorLines: 3,
        },
      ]);
      expect(out.summary).toEqual({
        waweb: { bytes: 5000, errorLines: 2 },
        master: { bytes: 4000, errorLines: 1 },
        wacore: { bytes: 8144, errorLines: 7 },
      });
      const st = await statusOf(handle);
      expect(st.stage).toBe('done');
      expect(st.hosts.core1).toBe('wacore: 6144 bytes, 4 error lines');
    });
  });

  it("a media mount with the wrong mode blocks an upgrade's preflight, not collectLogs nor uninstall", async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', logs: LOGS, mediaModeWrong: ['core1'] });
    await scenario(fake, async ({ client, start }) => {
      // What an operator runs on a cluster that is wrong: its logs, then taking it down.
      const logs = await resultOf<CollectLogsResult>(
        await start('collectLogs', 'wrong-media', collectLogsInput()),
      );
      expect(logs.files.map((f) => f.host)).toContain('core1');
      const down = await start('uninstall', 'wrong-media', uninstallInput());
      await gateOpen(down, 'uninstall');
      await approve(client, down.workflowId, 'uninstall', 'alice');
      await resultOf<UninstallResult>(down);
      expect(hostsOf(fake, 'composeDown')).toContain('core1');
      // Both asked preflight to leave the media mount alone; the check itself still stands (below).
      expect(fake.callsOf('preflightHost').every((c) => c.args.media === false)).toBe(true);
    });
    const upgradeFake = fakeCluster({ setUp: true, version: '2.29.3', mediaModeWrong: ['core1'] });
    await scenario(upgradeFake, async ({ start }) => {
      const up = await start('upgrade', 'wrong-media', upgradeInput({ toVersion: '2.30.0' }));
      const { failure } = await runFailure(up, 20_000);
      expect(failure).toMatchObject({
        type: 'PreflightFailed',
        message: 'media mount on core1 must be mode 755: 777 /mnt/wamedia',
      });
      expect(upgradeFake.callsOf('composeUp')).toEqual([]);
    });
  });

  it('services filters what is collected (and which hosts are preflighted)', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', logs: LOGS });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'collectLogs',
        'filtered',
        collectLogsInput({ services: ['wacore', 'waweb'] }),
      );
      const out = await resultOf<CollectLogsResult>(handle);
      expect(
        fake
          .callsOf('collectServiceLogs')
          .map((c) => `${c.host}/${c.service}`)
          .sort(),
      ).toEqual(['core1/wacore', 'core2/wacore', 'web1/waweb']);
      expect(out.files.map((f) => `${f.host}/${f.service}`)).toEqual([
        'web1/waweb',
        'core1/wacore',
        'core2/wacore',
      ]);
      expect(fake.callsOf('collectServiceLogs').every((c) => c.args.since === undefined)).toBe(true);
      expect(fake.callsOf('collectServiceLogs').every((c) => c.args.maxBytes === 5 * 1024 * 1024)).toBe(true);
      expect(hostsOf(fake, 'preflightHost').sort()).toEqual(['core1', 'core2', 'web1']);
      expect(out.summary).toEqual({
        waweb: { bytes: 5000, errorLines: 2 },
        wacore: { bytes: 9000, errorLines: 7 },
      });
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.map((p) => `${p.host ?? p.stage}: ${p.note}`)).toEqual([
        `resolve cluster: cluster lab from the inventory test-inventory.yaml: spec sha256 ${fake.ref().specHash}`,
        'web1: docker-compose logs waweb (at most 5242880 bytes)',
        'core1: docker-compose logs wacore (at most 5242880 bytes)',
        'core2: docker-compose logs wacore (at most 5242880 bytes)',
      ]);
    });
  });

  it('invalid since or maxBytesPerService fails with InvalidInput naming the fields', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(
        await start('collectLogs', 'bad', collectLogsInput({ since: 'yesterday', maxBytesPerService: 10 })),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toContain('since: expected a duration like 2h or a timestamp');
      expect(failure.message).toContain('maxBytesPerService: ');
      expect(fake.calls).toEqual([]);
    });
  });
});
