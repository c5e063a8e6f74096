// The prerequisitesHost activity (activities/prerequisite-activities.ts) over a fake SSH pool, in
// MockActivityEnvironment: which commands it runs on which host (the builders' text, the inventory's
// values), what it reads back, and that it reports a probe's findings rather than throwing.
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { prerequisiteActivities } from '../../activities/prerequisite-activities';
import type { ExecResult, SshPool, SshTarget } from '../../activities/ssh';
import type { ClusterRef } from '../../src/model/inventory';
import {
  dbConnectTimesCommand,
  dbGreetingCommand,
  mediaTreeCommand,
} from '../../src/model/prerequisite-commands';
import type { PrerequisiteProbe } from '../../src/model/prerequisites';
import { createSecretResolver } from '../../src/secrets';
import { type RawEntry, testClusterEntry, testInventoryStore } from '../support/inventory';

const GREETING = ' 30 00 00 00 0a 38 2e 30 2e 33 36 00 07 07 07 07\n';

function setup(
  edit: (e: RawEntry) => void,
  answer: (command: string) => Partial<ExecResult>,
  more: Partial<Record<keyof SshPool, unknown>> = {},
) {
  const entry = testClusterEntry();
  edit(entry);
  const inventory = testInventoryStore({ lab: entry });
  const ran: { host: string; command: string }[] = [];
  const ssh = {
    exec: async (t: SshTarget, command: string) => {
      ran.push({ host: t.host, command });
      return { code: 0, stdout: '', stderr: '', truncated: false, ...answer(command) };
    },
    ...more,
  } as unknown as SshPool;
  const found = inventory.byName('lab');
  if (!found.ok) throw new Error(found.message);
  const ref: ClusterRef = { name: 'lab', specHash: found.entry.specHash };
  const acts = prerequisiteActivities({ inventory, secrets: createSecretResolver(), ssh });
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 5_000 });
  return {
    ran,
    ref,
    probe: (a: Omit<Parameters<typeof acts.prerequisitesHost>[0], 'cluster'>) =>
      env.run(acts.prerequisitesHost, { cluster: ref, ...a }) as Promise<PrerequisiteProbe>,
  };
}

describe('prerequisitesHost', () => {
  it('times the connects, reads the MySQL greeting and walks the media tree, on the host asked', async () => {
    const { ran, probe } = setup(
      (e) => {
        e.media = { hostPath: '/srv/wamedia' };
      },
      (c) =>
        c.startsWith('bash -c')
          ? { stdout: 'ok 400\nok 500\nok 600\n' }
          : c.startsWith('timeout 7')
            ? { stdout: GREETING }
            : { stdout: '777 /srv/wamedia/x\n', stderr: 'find-exit 0\n' },
    );
    const out = await probe({ host: 'web1', engineVersion: true, mediaTree: true, greetingRead: 'packet' });
    expect(ran).toEqual([
      { host: 'web1', command: dbConnectTimesCommand('10.0.0.5', 3306, 3, 3) },
      { host: 'web1', command: dbGreetingCommand('10.0.0.5', 3306, 2, 'packet') },
      { host: 'web1', command: mediaTreeCommand('/srv/wamedia', 5, 120) },
    ]);
    expect(out).toEqual({
      host: 'web1',
      target: '10.0.0.5:3306',
      connect: { ms: [0.4, 0.5, 0.6], failed: [] },
      connectTimeoutS: 3,
      engineVersion: { version: '8.0.36' },
      media: { dir: '/srv/wamedia', stdout: '777 /srv/wamedia/x\n', exit: 0, timeoutS: 120 },
    });
  });

  it('a request without greetingRead (a run of before the packet read) runs the read its plan shows', async () => {
    const { ran, probe } = setup(
      () => {},
      (c) => (c.startsWith('bash -c') ? { stdout: 'ok 100\n' } : { stdout: GREETING }),
    );
    await probe({ host: 'web1', engineVersion: true, mediaTree: false });
    expect(ran[1]?.command).toBe(dbGreetingCommand('10.0.0.5', 3306, 2, 'until-wait'));
    expect(ran[1]?.command).not.toBe(dbGreetingCommand('10.0.0.5', 3306, 2, 'packet'));
  });

  it('only the connects on the other hosts; a dead port is reported, not thrown', async () => {
    const { ran, probe } = setup(
      () => {},
      () => ({ code: 0, stdout: 'fail 124\nfail 124\nfail 124\n' }),
    );
    const out = await probe({ host: 'core2', engineVersion: false, mediaTree: false });
    expect(ran.map((r) => r.host)).toEqual(['core2']);
    expect(out.connect).toEqual({ ms: [], failed: [124, 124, 124] });
    expect(out.engineVersion).toBeUndefined();
  });

  /** A PostgreSQL cluster whose probe's tunnel `through` answers (the fake pool records where it led). */
  function pgSetup(through: (password: string) => Promise<string>) {
    process.env.DB_PASSWORD = 'pg-Secret-4711';
    const tunnels: { host: string; to: string }[] = [];
    const s = setup(
      (e) => {
        e.db.engine = 'PGSQL';
        e.db.port = 5432;
      },
      () => ({ stdout: 'ok 100\nok 100\nok 100\n' }),
      {
        throughHost: async (t: SshTarget, toHost: string, toPort: number) => {
          tunnels.push({ host: t.host, to: `${toHost}:${toPort}` });
          return through('pg-Secret-4711');
        },
      },
    );
    return { ...s, tunnels };
  }

  it('PostgreSQL: the version is read by a login through the host, to the db host and port the inventory names', async () => {
    const { ran, tunnels, probe } = pgSetup(async () => '15.14 (Debian 15.14-0+deb12u1)');
    const out = await probe({ host: 'web1', engineVersion: true, mediaTree: true });
    expect(ran).toHaveLength(1); // the connects only: no greeting command
    expect(tunnels).toEqual([{ host: 'web1', to: '10.0.0.5:5432' }]);
    expect(out.engineVersion).toEqual({ version: '15.14 (Debian 15.14-0+deb12u1)' });
    expect(out.media).toBeUndefined();
  });

  it("PostgreSQL: the server's answer is kept printable and bounded (it goes into the run's history)", async () => {
    const { probe } = pgSetup(async () => `\x1b[2J15.1${'9'.repeat(5000)}`);
    const out = await probe({ host: 'web1', engineVersion: true, mediaTree: false });
    const v = out.engineVersion as { version: string };
    expect(v.version.startsWith('?[2J15.1999')).toBe(true);
    expect(v.version.length).toBeLessThanOrEqual(120);
  });

  it('PostgreSQL: a refused login is "not read", naming the user and host, never the password', async () => {
    const { probe } = pgSetup(async (password) => {
      throw new Error(`password authentication failed for user "waba" (tried ${password})`);
    });
    const out = await probe({ host: 'web1', engineVersion: true, mediaTree: false });
    const v = out.engineVersion as { unread: string };
    expect(v.unread).toMatch(
      /^logging in as \S+ from web1 failed: password authentication failed for user "waba"/,
    );
    expect(v.unread).toContain('***');
    expect(v.unread).not.toContain('pg-Secret-4711');
  });

  it('no greeting: the error says why, bounded and printable', async () => {
    const { probe } = setup(
      () => {},
      (c) =>
        c.startsWith('bash -c')
          ? { stdout: 'ok 100\n' }
          : { code: 124, stderr: `\x1b[2J${'y'.repeat(1000)}` },
    );
    const out = await probe({ host: 'web1', engineVersion: true, mediaTree: false });
    const v = out.engineVersion as { error: string };
    expect(v.error).toMatch(/^no greeting from 10\.0\.0\.5:3306 \(exit 124: \?\[2Jy+…\)$/);
    expect(v.error.length).toBeLessThan(200);
  });
});
