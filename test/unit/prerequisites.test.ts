// The prerequisites rules (src/model/prerequisites.ts): db host vs the cluster's hosts, connect
// times, server versions against the seed's set, media modes, and the inventory's db.maxLatencyMs.
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/model/cluster';
import {
  dbHostFindings,
  engineFindings,
  evaluatePrerequisites,
  findExitOf,
  findingText,
  latencyFindings,
  median,
  mediaTreeFindings,
  notMediaMode,
  type PrerequisiteProbe,
  parseConnectTimes,
  parseModeLines,
  parseMysqlGreeting,
  parseServerVersion,
} from '../../src/model/prerequisites';
import { testClusterEntry, testInventory, testInventoryDoc } from '../support/inventory';

const host = (name: string, address: string, externalHostname?: string): HostSpec => ({
  name,
  address,
  port: 22,
  user: 'root',
  roles: ['coreapp'],
  sudo: false,
  ...(externalHostname ? { externalHostname } : {}),
});
const HOSTS = [host('web1', '10.0.0.11'), host('core1', '10.0.0.21', 'Core1.Example.com')];

describe('db-host', () => {
  it('a database elsewhere passes', () => {
    expect(dbHostFindings(HOSTS, '10.0.0.5')).toEqual([]);
    expect(dbHostFindings(HOSTS, 'db.example.com')).toEqual([]);
  });
  it('names the host whose name, address or external hostname it is, case-insensitively', () => {
    expect(dbHostFindings(HOSTS, 'WEB1').map((f) => f.host)).toEqual(['web1']);
    expect(dbHostFindings(HOSTS, '10.0.0.21').map((f) => f.host)).toEqual(['core1']);
    expect(dbHostFindings(HOSTS, 'core1.example.COM')).toMatchObject([{ host: 'core1', rule: 'db-host' }]);
  });
  it('a loopback db.host is on every app host', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', 'LOCALHOST'])
      expect(dbHostFindings(HOSTS, h)).toMatchObject([{ host: 'db', rule: 'db-host' }]);
  });
});

describe('db-reachable and db-latency', () => {
  it('parses the probe output, ignoring anything else', () => {
    expect(parseConnectTimes('ok 480\nok 1200\nfail 124\nnoise\nok x\n')).toEqual({
      ms: [0.48, 1.2],
      failed: [124],
    });
  });
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('under the threshold: nothing; over: a warning naming host, median and threshold', () => {
    expect(latencyFindings('web1', 'db:3306', { ms: [1, 2, 9], failed: [] }, 5, 3)).toEqual({
      failures: [],
      warnings: [],
    });
    const slow = latencyFindings('web1', 'db:3306', { ms: [6, 7, 1], failed: [] }, 5, 3);
    expect(slow.warnings.map(findingText)).toEqual([
      'web1: db-latency: db:3306: median round trip 6 ms over 3 tries (6 ms, 7 ms, 1 ms), more than 5 ms (db.maxLatencyMs)',
    ]);
  });
  it('any failed connect is a failure; a timeout says so', () => {
    const t = latencyFindings('core1', 'db:3306', { ms: [], failed: [124, 124, 124] }, 5, 3);
    expect(t.failures.map(findingText)).toEqual([
      'core1: db-reachable: db:3306: 3 of 3 connects failed: no answer within 3 s',
    ]);
    const r = latencyFindings('core1', 'db:3306', { ms: [1, 1], failed: [1] }, 5, 3);
    expect(r.failures[0]?.detail).toContain('refused or unreachable');
    expect(latencyFindings('core1', 'db:3306', { ms: [], failed: [] }, 5, 3).failures).toHaveLength(1);
  });
});

describe('db-engine-version', () => {
  it.each([
    ['MYSQL', '8.0.36', 'MySQL', '8.0'],
    ['MYSQL', '5.7.44-log', 'MySQL', '5.7'],
    ['MYSQL', '8.0.36-0ubuntu0.22.04.1', 'MySQL', '8.0'],
    ['MYSQL', '5.5.5-10.11.6-MariaDB-0+deb12u1', 'MariaDB', '10.11'],
    ['MYSQL', '11.4.2-MariaDB', 'MariaDB', '11.4'],
    ['PGSQL', '13.14 (Debian 13.14-1.pgdg120+2)', 'PostgreSQL', '13'],
    ['PGSQL', '9.6.24', 'PostgreSQL', '9.6'],
  ] as const)('%s %s is %s %s', (engine, raw, product, major) => {
    expect(parseServerVersion(engine, raw)).toMatchObject({ product, major });
  });

  it.each([
    ['MYSQL', '5.7.44', true],
    ['MYSQL', '8.0.36', true],
    ['MYSQL', '8.4.0', false],
    ['MYSQL', '5.6.51', false],
    ['PGSQL', '11.22', true],
    ['PGSQL', '12.18', true],
    ['PGSQL', '13.14', true],
    ['PGSQL', '15.6', true],
    ['PGSQL', '10.23', false],
    ['PGSQL', '9.6.24', false],
  ] as const)('%s %s supported: %s', (engine, raw, ok) => {
    const r = engineFindings('web1', engine, raw);
    expect(r.failures.length === 0).toBe(ok);
    if (!ok) expect(r.failures[0]?.detail).toContain(raw);
  });

  it('MariaDB 10.2 and later: a warning naming it; older: a failure', () => {
    expect(engineFindings('web1', 'MYSQL', '5.5.5-10.11.19-MariaDB-0+deb12u1')).toMatchObject({
      failures: [],
      warnings: [{ rule: 'db-engine-version' }],
    });
    expect(engineFindings('web1', 'MYSQL', '5.5.5-10.1.48-MariaDB').failures).toHaveLength(1);
  });

  it('PostgreSQL after 13: a warning naming it; before 11: a failure', () => {
    for (const v of ['14.11', '15.14 (Debian 15.14-0+deb12u1)', '17.2'])
      expect(engineFindings('web1', 'PGSQL', v)).toMatchObject({
        failures: [],
        warnings: [
          { rule: 'db-engine-version', detail: expect.stringContaining(`PostgreSQL ${v} is newer`) },
        ],
      });
    expect(engineFindings('web1', 'PGSQL', '13.14').warnings).toEqual([]);
    expect(engineFindings('web1', 'PGSQL', '10.23').failures).toHaveLength(1);
  });

  it('an answer that is no version is a failure, quoted printable and bounded', () => {
    const r = engineFindings('web1', 'MYSQL', `\x1b[31mhello${'x'.repeat(500)}`);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]?.detail).not.toContain('\x1b');
    expect(r.failures[0]?.detail.length).toBeLessThan(250);
  });

  it('reads the version from a MySQL handshake, and an error packet as a refusal', () => {
    const hex = (s: Buffer) => [...s].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const greeting = Buffer.concat([
      Buffer.from([0x4a, 0, 0, 0, 0x0a]),
      Buffer.from('8.0.36\0'),
      Buffer.alloc(30, 1),
    ]);
    expect(parseMysqlGreeting(` ${hex(greeting)}\n`)).toEqual({ version: '8.0.36' });
    const refused = Buffer.concat([
      Buffer.from([0x40, 0, 0, 0, 0xff, 0x6a, 0x04]),
      Buffer.from("Host '10.0.0.11' is not allowed to connect"),
    ]);
    expect(parseMysqlGreeting(hex(refused))).toEqual({
      error: "the server refused: Host '10.0.0.11' is not allowed to connect",
    });
    expect(parseMysqlGreeting('')).toEqual({ error: 'the server sent no handshake' });
    expect(parseMysqlGreeting('05 00 00 00 53 53 48 2d 32')).toMatchObject({
      error: expect.stringContaining('not a MySQL'),
    });
  });
});

describe('media-tree', () => {
  it("755 for group and others: no write, and read and search (700 hides media from the containers' user)", () => {
    const ok = ['755', '555', '2755', '4755', '0755'];
    const bad = ['775', '757', '777', '1777', '765', '750', '700', '711', '705', '754'];
    expect(ok.filter(notMediaMode)).toEqual([]);
    expect(bad.filter(notMediaMode)).toEqual(bad);
  });
  it('parses mode lines, paths made printable', () => {
    expect(parseModeLines('775 /m/a b\n777 /m/\x1bx\nbad line\n')).toEqual([
      { mode: '775', path: '/m/a b' },
      { mode: '777', path: '/m/?x' },
    ]);
  });
  it('reports the first five offenders, "and more" past them', () => {
    const lines = Array.from({ length: 6 }, (_, i) => `777 /m/d${i}`).join('\n');
    const r = mediaTreeFindings('web1', { dir: '/m', stdout: lines, exit: 141, timeoutS: 120 });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]?.detail).toContain('/m/d4 (777) and more');
    expect(r.failures[0]?.detail).not.toContain('/m/d5');
    expect(r.warnings).toEqual([]);
  });
  it('a walk cut by its timeout is a warning; a clean tree nothing', () => {
    expect(
      mediaTreeFindings('web1', { dir: '/m', stdout: '', exit: 124, timeoutS: 120 }).warnings,
    ).toHaveLength(1);
    expect(mediaTreeFindings('web1', { dir: '/m', stdout: '', exit: 0, timeoutS: 120 })).toEqual({
      failures: [],
      warnings: [],
    });
    expect(findExitOf('x\nfind-exit 124\n')).toBe(124);
    expect(findExitOf('')).toBeUndefined();
  });
});

describe('the whole report', () => {
  const probe = (h: string, more: Partial<PrerequisiteProbe> = {}): PrerequisiteProbe => ({
    host: h,
    target: '10.0.0.5:3306',
    connect: { ms: [0.5, 0.5, 0.5], failed: [] },
    connectTimeoutS: 3,
    ...more,
  });
  it('lists every failure and warning; an unreachable port does not also fail the version', () => {
    const r = evaluatePrerequisites(
      { hosts: HOSTS, db: { engine: 'MYSQL', host: 'web1', maxLatencyMs: 1 } },
      [
        probe('web1', {
          engineVersion: { error: 'no greeting' },
          connect: { ms: [], failed: [124, 124, 124] },
        }),
        probe('core1', { connect: { ms: [2, 2, 2], failed: [] } }),
      ],
    );
    expect(r.failures.map((f) => `${f.host}:${f.rule}`)).toEqual(['web1:db-host', 'web1:db-reachable']);
    expect(r.warnings.map((f) => `${f.host}:${f.rule}`)).toEqual(['core1:db-latency']);
  });
  it('the default threshold is 5 ms; PostgreSQL unread is a warning', () => {
    const r = evaluatePrerequisites({ hosts: HOSTS, db: { engine: 'PGSQL', host: '10.0.0.5' } }, [
      probe('web1', { connect: { ms: [4, 4, 4], failed: [] }, engineVersion: { unread: 'needs a login' } }),
    ]);
    expect(r).toEqual({
      failures: [],
      warnings: [{ host: 'web1', rule: 'db-engine-version', detail: 'not read: needs a login' }],
    });
  });
});

describe('db.maxLatencyMs in the inventory', () => {
  const withLatency = (v: unknown) => {
    const entry = testClusterEntry();
    entry.db.maxLatencyMs = v;
    return () => testInventory(testInventoryDoc({ lab: entry }));
  };
  it('a positive bounded number is accepted', () => {
    expect(withLatency(12.5)).not.toThrow();
  });
  it.each([0, -1, 1001, '5', null])('%s is refused, naming the field', (v) => {
    expect(withLatency(v)).toThrow(/db\.maxLatencyMs/);
  });
});
