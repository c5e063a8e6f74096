// The prerequisites stage (workflows/lib/prerequisites.ts) in haSetup, multiconnectExpand and
// upgrade, and the read-only preflightCheck, with the cluster faked in-process: each failed rule
// stops the run (PrerequisiteFailed, `host: rule: detail`) before any upload, compose up, backup or
// shard change; warnings reach `status`; preflightCheck returns the report.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { dbGreetingCommand } from '../../src/model/prerequisite-commands';
import type { PreflightCheckResult } from '../../src/model/results';
import { type RunStatus, statusQuery } from '../../workflows/api';
import {
  type FakeActivityName,
  type FakeCluster,
  type FakeClusterOptions,
  fakeCluster,
  haSetupInput,
  multiconnectInput,
  runFailure,
  scenario,
  until,
  upgradeInput,
  within,
} from '../support/fake-cluster';
import type { RawEntry } from '../support/inventory';

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<RunStatus>;
const media = (e: RawEntry) => {
  e.media = { hostPath: '/srv/wamedia' };
};
/** What a prerequisite failure must come before: nothing is sent, started, backed up or changed. */
const CHANGES: FakeActivityName[] = [
  'uploadSetupFiles',
  'composeUp',
  'composeStop',
  'composeRestart',
  'settingsBackup',
  'wabaSetShards',
  'wabaRegister',
  'uploadDbUpgradeFiles',
  'startDbUpgrade',
];
const changed = (fake: FakeCluster) => fake.names().filter((n) => CHANGES.includes(n));

/** Each rule's failure, as the fake's options make it, and the text the run's failure must carry. */
const FAILURES: { rule: string; options: FakeClusterOptions; says: string[] }[] = [
  {
    rule: 'db-host',
    options: {
      entry: (e) => {
        e.db.host = 'CORE1';
      },
    },
    says: ['core1: db-host: db.host CORE1 is this host (coreapp)'],
  },
  {
    rule: 'db-reachable',
    options: { prerequisites: { master2: { connect: { ms: [], failed: [124, 124, 124] } } } },
    says: ['master2: db-reachable: 10.0.0.5:3306: 3 of 3 connects failed: no answer within 3 s'],
  },
  {
    rule: 'db-engine-version',
    options: { prerequisites: { web1: { engineVersion: { version: '5.6.51-log' } } } },
    says: ['web1: db-engine-version: MySQL 5.6.51-log is not supported'],
  },
  {
    rule: 'media-tree',
    options: {
      entry: media,
      prerequisites: {
        web1: {
          media: {
            dir: '/srv/wamedia',
            stdout: '777 /srv/wamedia/incoming/x\n775 /srv/wamedia/shared\n',
            exit: 0,
            timeoutS: 120,
          },
        },
      },
    },
    says: [
      'web1: media-tree: /srv/wamedia: directories not 755 for group and others: /srv/wamedia/incoming/x (777), /srv/wamedia/shared (775)',
    ],
  },
];

describe('prerequisites in haSetup', () => {
  it.each(
    FAILURES,
  )('$rule: PrerequisiteFailed naming host and rule, before any upload or up -d', async (c) => {
    const fake = fakeCluster(c.options);
    await scenario(fake, async ({ start }) => {
      const handle = await start('haSetup', `prereq-${c.rule}`, haSetupInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('PrerequisiteFailed');
      expect(failure.nonRetryable).toBe(true);
      for (const text of c.says) expect(failure.message).toContain(text);
      expect(changed(fake)).toEqual([]);
      expect([...new Set(fake.names())]).toEqual(['checkDbSecret', 'preflightHost', 'prerequisitesHost']);
      const s = await statusOf(handle);
      expect(s.stage).toBe('prerequisites');
      expect(s.lastError).toContain(c.rule);
    });
  });

  it('every failed rule is listed in one failure', async () => {
    const fake = fakeCluster({
      entry: (e) => {
        e.db.host = '10.0.0.11';
      },
      prerequisites: {
        core2: { connect: { ms: [1], failed: [1, 1] } },
        web1: { engineVersion: { version: '8.4.0' } },
      },
    });
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(await start('haSetup', 'prereq-all', haSetupInput()), 20_000);
      expect(failure.message).toMatch(/^cluster lab: 3 prerequisite\(s\) failed, nothing was started: /);
      for (const t of ['web1: db-host:', 'core2: db-reachable:', 'web1: db-engine-version: MySQL 8.4.0'])
        expect(failure.message).toContain(t);
    });
  });

  it('warnings (latency, MariaDB) go to status and the run goes on to the gate; the plan shows the stage', async () => {
    const fake = fakeCluster({
      entry: (e) => {
        e.db.maxLatencyMs = 2;
        media(e);
      },
      prerequisites: {
        core1: { connect: { ms: [3, 4, 5], failed: [] } },
        web1: { engineVersion: { version: '5.5.5-10.11.6-MariaDB-0+deb12u1' } },
      },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('haSetup', 'prereq-warn', haSetupInput());
      const s = await until(
        'gate register',
        () => statusOf(handle),
        (st) => (st.pendingGates ?? []).length > 0,
      );
      expect(s.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^core1: db-latency: 10\.0\.0\.5:3306: median round trip 4 ms .* more than 2 ms/,
          ),
          expect.stringMatching(
            /^web1: db-engine-version: MariaDB 5\.5\.5-10\.11\.6-MariaDB-0\+deb12u1 is not in the seed's set/,
          ),
        ]),
      );
      expect(
        fake.callsOf('prerequisitesHost').map((c) => [c.host, c.args.engineVersion, c.args.mediaTree]),
      ).toEqual(
        expect.arrayContaining([
          ['web1', true, true],
          ['core1', false, false],
        ]),
      );
      expect(fake.callsOf('composeUp').length).toBeGreaterThan(0);
      const steps = await handle.query<{ stage: string; host?: string; command?: string }[]>('plan');
      const prereq = steps.filter((p) => p.stage === 'prerequisites');
      expect(prereq).toHaveLength(1 + 5 + 2);
      expect(prereq.find((p) => p.command?.startsWith('{ timeout 120 find -H /srv/wamedia'))?.host).toBe(
        'web1',
      );
      // A new run reads the greeting packet alone, and its plan shows that command.
      expect(fake.callsOf('prerequisitesHost').find((c) => c.host === 'web1')?.args.greetingRead).toBe(
        'packet',
      );
      expect(prereq.some((p) => p.command === dbGreetingCommand('10.0.0.5', 3306, 2, 'packet'))).toBe(true);
    });
  });
});

describe('prerequisites in multiconnectExpand and upgrade', () => {
  it('multiconnectExpand: an added host that cannot reach the database stops the run before the gate and the shards', async () => {
    const fake = fakeCluster({
      setUp: true,
      prerequisites: { core3: { connect: { ms: [], failed: [1, 1, 1] } } },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'multiconnectExpand',
        'prereq',
        multiconnectInput({ addCoreapps: ['core3'] }),
      );
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('PrerequisiteFailed');
      expect(failure.message).toContain('core3: db-reachable: 10.0.0.5:3306: 3 of 3 connects failed');
      expect(changed(fake)).toEqual([]);
      expect((await statusOf(handle)).pendingGates).toEqual([]);
    });
  });

  it('upgrade: a database on an app host stops the run before the backup and any compose call', async () => {
    const fake = fakeCluster({
      setUp: true,
      version: '2.29.1',
      entry: (e) => {
        e.db.host = '10.0.0.22';
      },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('upgrade', 'prereq', upgradeInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('PrerequisiteFailed');
      expect(failure.message).toContain('master2: db-host: db.host 10.0.0.22 is this host (master)');
      expect(changed(fake)).toEqual([]);
      expect(fake.callsOf('composePs')).toEqual([]);
    });
  });
});

describe('preflightCheck', () => {
  it('returns the report without failing, and changes nothing', async () => {
    const fake = fakeCluster({
      setUp: true,
      entry: media,
      prerequisites: {
        web1: { engineVersion: { version: '8.0.36' } },
        core2: { connect: { ms: [9, 9, 9], failed: [] } },
        master1: { connect: { ms: [], failed: [124, 124, 124] } },
      },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('preflightCheck', 'report', { cluster: 'lab' });
      const out = (await within(20_000, 'preflightCheck', handle.result())) as PreflightCheckResult;
      expect(out).toMatchObject({ cluster: 'lab', ok: false, inventory: fake.stamp('preflightCheck') });
      expect(out.failures.map((f) => `${f.host}: ${f.rule}`)).toEqual(['master1: db-reachable']);
      expect(out.warnings.map((f) => `${f.host}: ${f.rule}`)).toEqual(['core2: db-latency']);
      expect(out.probes.map((p) => p.host).sort()).toEqual(['core1', 'core2', 'master1', 'master2', 'web1']);
      expect(fake.hostKeyChecks).toHaveLength(1);
      expect([...new Set(fake.names())]).toEqual(['prerequisitesHost']);
      const s = await statusOf(handle);
      expect(s.stage).toBe('done: failed');
      expect(s.warnings?.[0]).toMatch(/^core2: db-latency: /);
    });
  });

  it('a cluster that meets every prerequisite: ok', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ start }) => {
      const handle = await start('preflightCheck', 'ok', { cluster: 'lab' });
      const out = (await within(20_000, 'preflightCheck', handle.result())) as PreflightCheckResult;
      expect(out).toMatchObject({ ok: true, failures: [], warnings: [] });
    });
  });
});
