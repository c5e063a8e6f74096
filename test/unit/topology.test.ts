// The topology lint (src/model/topology.ts): the seed's sizing guidance on the lab's shapes, on hosts
// shared by one role, on shard counts; and a generated corpus of odd and hostile shapes, none of
// which makes it throw or lose the cluster's name.
import { describe, expect, it } from 'vitest';
import { topology as labTopology } from '../../lab/paths';
import { lintTopology, SIZING_GUIDE, type TopologyHost, toleranceText } from '../../src/model/topology';
import { clean, hasUnsafeCharacters } from '../../src/model/validate';

/** The lab's cluster of `webs/masters/cores` as the inventory lists it: spare hosts apart. */
const lab = (webs: number, masters: number, cores: number): TopologyHost[] =>
  labTopology(webs, masters, cores)
    .filter((h) => !h.spare)
    .map((h) => ({ name: h.name, address: h.address, roles: [h.role] }));

const host = (name: string, address: string, ...roles: string[]): TopologyHost => ({ name, address, roles });

const WEBAPPS_ONE =
  'cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures; the guide advises ' +
  '"at least 2 Webapps for 100-150 messages/s, behind a load balancer (HAProxy, Nginx, ELB) for Webapp HA"';
const MASTERS_GUIDE =
  'the guide advises "3 Masters on different hosts (no more needed; they are light and may share hosts with Coreapps)"';
const COREAPPS_GUIDE =
  'the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"';

describe('topology lint', () => {
  it('the lab 1/2/2: Masters survive 1 host failure, Coreapps 1 (1 shard), Webapps 0; warnings quote the guide', () => {
    const r = lintTopology({ cluster: 'lab', hosts: lab(1, 2, 2) });
    expect(r.shards).toBe(1);
    expect(r.roles).toEqual({
      webapp: { instances: 1, hosts: 1, needed: 1, tolerated: 0 },
      master: { instances: 2, hosts: 2, needed: 1, tolerated: 1 },
      coreapp: { instances: 2, hosts: 2, needed: 1, tolerated: 1 },
    });
    expect(r.warnings).toEqual([
      WEBAPPS_ONE,
      `cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; ${MASTERS_GUIDE}`,
    ]);
    expect(toleranceText(r)).toBe(
      'host failures tolerated: Masters 1 (2 on 2 hosts), Coreapps 1 (2 on 2 hosts for 1 shard), Webapps 0 (1 on 1 host)',
    );
  });

  it('the lab 1/3/3: 3 Masters follow the guide; Coreapps survive 2 failures on 1 shard, 1 on 2 shards', () => {
    const one = lintTopology({ cluster: 'lab', hosts: lab(1, 3, 3) });
    expect(one.roles.master).toEqual({ instances: 3, hosts: 3, needed: 1, tolerated: 2 });
    expect(one.roles.coreapp).toEqual({ instances: 3, hosts: 3, needed: 1, tolerated: 2 });
    expect(one.warnings).toEqual([WEBAPPS_ONE]);
    const two = lintTopology({ cluster: 'lab', hosts: lab(1, 3, 3), shards: 2 });
    expect(two.roles.coreapp).toEqual({ instances: 3, hosts: 3, needed: 2, tolerated: 1 });
    expect(two.warnings).toEqual([WEBAPPS_ONE]);
    expect(toleranceText(two)).toBe(
      'host failures tolerated: Masters 2 (3 on 3 hosts), Coreapps 1 (3 on 3 hosts for 2 shards), Webapps 0 (1 on 1 host)',
    );
  });

  it('Coreapps equal to the shards: no standby, 0 host failures tolerated, said with the numbers', () => {
    const r = lintTopology({ cluster: 'lab', hosts: lab(2, 3, 2), shards: 2 });
    expect(r.roles.coreapp).toEqual({ instances: 2, hosts: 2, needed: 2, tolerated: 0 });
    expect(r.warnings).toEqual([
      'cluster lab: Coreapps: 2 Coreapps on 2 hosts for 2 shards tolerate 0 host failures ' +
        `(no standby: one host failure leaves a shard without a Coreapp); ${COREAPPS_GUIDE}`,
    ]);
    // Without a shard count in the inventory, 1 is assumed, and the warning says so.
    const single = lintTopology({ cluster: 'lab', hosts: lab(2, 3, 1) });
    expect(single.warnings).toEqual([
      'cluster lab: Coreapps: 1 Coreapp on 1 host for 1 shard (assumed: the inventory gives no shards) tolerates 0 host failures ' +
        `(no standby: one host failure leaves a shard without a Coreapp); ${COREAPPS_GUIDE}`,
    ]);
  });

  it('more shards than Coreapps: the shards without one are counted', () => {
    const r = lintTopology({ cluster: 'lab', hosts: lab(2, 3, 2), shards: 4 });
    expect(r.roles.coreapp).toEqual({ instances: 2, hosts: 2, needed: 4, tolerated: 0 });
    expect(r.warnings).toEqual([
      `cluster lab: Coreapps: 2 Coreapps on 2 hosts for 4 shards: 2 shards without a Coreapp even with every host up; ${COREAPPS_GUIDE}`,
    ]);
  });

  it('Masters on one host count as one: 3 Masters on 2 hosts survive 1 failure, and the shared host is named', () => {
    const hosts = [
      host('web1', '10.0.0.11', 'webapp'),
      host('web2', '10.0.0.12', 'webapp'),
      host('master1', '10.0.0.21', 'master'),
      // The same machine under another name (an address is a machine, whatever the name or case).
      host('master1b', '10.0.0.21', 'master'),
      host('master2', '10.0.0.22', 'master', 'coreapp'),
      host('core1', '10.0.0.31', 'coreapp'),
      host('core2', '10.0.0.32', 'coreapp'),
    ];
    const r = lintTopology({ cluster: 'prod', hosts, shards: 2 });
    expect(r.roles.master).toEqual({ instances: 3, hosts: 2, needed: 1, tolerated: 1 });
    // A Master beside a Coreapp is what the guide allows: no warning about that host.
    expect(r.roles.coreapp).toEqual({ instances: 3, hosts: 3, needed: 2, tolerated: 1 });
    expect(r.warnings).toEqual([
      `cluster prod: Masters: 3 Masters on 2 hosts tolerate 1 host failure; ${MASTERS_GUIDE}`,
      'cluster prod: Masters: master1 and master1b run on the same host 10.0.0.21: one host failure stops them all, ' +
        `so they count as one host; ${MASTERS_GUIDE}`,
    ]);
  });

  it('a standby on the host of a connected Coreapp does not count: the worst host failure is assumed', () => {
    const hosts = [
      ...lab(2, 3, 0),
      host('core1', '10.0.0.31', 'coreapp'),
      host('core2', '10.0.0.32', 'coreapp'),
      host('core3', '10.0.0.32', 'coreapp'),
    ];
    const r = lintTopology({ cluster: 'lab', hosts, shards: 2 });
    expect(r.roles.coreapp).toEqual({ instances: 3, hosts: 2, needed: 2, tolerated: 0 });
    expect(r.warnings).toEqual([
      'cluster lab: Coreapps: 3 Coreapps on 2 hosts for 2 shards tolerate 0 host failures ' +
        `(the standby shares a host with a connected Coreapp); ${COREAPPS_GUIDE}`,
      'cluster lab: Coreapps: core2 and core3 run on the same host 10.0.0.32: one host failure stops them all, ' +
        `so they count as one host; ${COREAPPS_GUIDE}`,
    ]);
  });

  it('a healthy 2/3/4 on 2 shards: no warning; Masters 2, Coreapps 2, Webapps 1 host failures', () => {
    const r = lintTopology({ cluster: 'prod', hosts: lab(2, 3, 4), shards: 2 });
    expect(r.warnings).toEqual([]);
    expect(toleranceText(r)).toBe(
      'host failures tolerated: Masters 2 (3 on 3 hosts), Coreapps 2 (4 on 4 hosts for 2 shards), Webapps 1 (2 on 2 hosts)',
    );
  });

  it('a role no host runs is named', () => {
    const r = lintTopology({ cluster: 'lab', hosts: lab(0, 3, 2) });
    expect(r.roles.webapp).toEqual({ instances: 0, hosts: 0, needed: 1, tolerated: 0 });
    expect(r.warnings).toEqual([
      `cluster lab: no host runs a Webapp: the cluster cannot work without one; the guide advises "${SIZING_GUIDE.webapp}"`,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// A generated corpus: hundreds of odd and hostile shapes.

/** A small deterministic generator (mulberry32), so a failure names a case that can be re-run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['lab', 'prod', '', 'x'.repeat(10_000), 'a\u001b[2Jb', 'prod;reboot', '\u202eevil', 'LAB '];
const ADDRESSES = [
  '10.0.0.1',
  '10.0.0.2',
  '10.0.0.1 ',
  'HOST.example',
  'host.example',
  '',
  '::1',
  'a\u0007b',
];
const ROLE_SETS: string[][] = [
  ['webapp'],
  ['master'],
  ['coreapp'],
  ['master', 'coreapp'],
  ['webapp', 'master', 'coreapp'],
  ['master', 'master'],
  [],
  ['database'],
  ['coreapp', 'coreapp', 'coreapp'],
];
const SHARDS = [undefined, 1, 2, 4, 32, 0, -1, 3, 1.5, 1e9, Number.NaN, Number.POSITIVE_INFINITY];

interface Shape {
  what: string;
  cluster: string;
  hosts: TopologyHost[];
  shards: number | undefined;
}

function corpus(): Shape[] {
  const next = random(18);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const shapes: Shape[] = [];
  for (let i = 0; i < 400; i++) {
    // Mostly small clusters; now and then a huge one, all on few machines.
    const size = i % 50 === 0 ? 2000 + Math.floor(next() * 3000) : Math.floor(next() * 12);
    const hosts = Array.from({ length: size }, (_, j) => ({
      // Duplicated names on purpose: the lint counts entries, it does not index by name.
      name: next() < 0.2 ? 'dup' : `h${j}${next() < 0.05 ? '\u0000' : ''}`,
      address: next() < 0.5 ? pick(ADDRESSES) : `10.1.${j % 250}.${Math.floor(j / 250)}`,
      roles: pick(ROLE_SETS),
    }));
    shapes.push({ what: `case ${i} (${size} hosts)`, cluster: pick(NAMES), hosts, shards: pick(SHARDS) });
  }
  // The edges by hand: nothing at all, one role only, shards far above the Coreapps.
  shapes.push({ what: 'no host', cluster: 'lab', hosts: [], shards: undefined });
  shapes.push({
    what: 'one host, every role',
    cluster: 'lab',
    hosts: [host('h', 'a', 'webapp', 'master', 'coreapp')],
    shards: 1,
  });
  shapes.push({ what: 'shards 32 on 1 Coreapp', cluster: 'lab', hosts: lab(1, 1, 1), shards: 32 });
  shapes.push({ what: 'a hostless list', cluster: 'lab', hosts: undefined as never, shards: 2 });
  return shapes;
}

describe('topology lint corpus', () => {
  const shapes = corpus();

  it('never throws, always names the cluster, and keeps its numbers and text in bounds', () => {
    expect(shapes.length).toBeGreaterThanOrEqual(400);
    const wrong: string[] = [];
    for (const s of shapes) {
      const why = (msg: string) => wrong.push(`${s.what}: ${msg}`);
      let r: ReturnType<typeof lintTopology>;
      try {
        r = lintTopology({
          cluster: s.cluster,
          hosts: s.hosts,
          ...(s.shards === undefined ? {} : { shards: s.shards }),
        });
      } catch (err) {
        why(`threw ${String(err)}`);
        continue;
      }
      const name = clean(s.cluster, 64);
      if (r.cluster !== name) why(`cluster ${JSON.stringify(r.cluster)}`);
      if (!Number.isSafeInteger(r.shards) || r.shards < 1) why(`shards ${r.shards}`);
      for (const [role, t] of Object.entries(r.roles)) {
        const ok =
          [t.instances, t.hosts, t.needed, t.tolerated].every((n) => Number.isSafeInteger(n) && n >= 0) &&
          t.hosts <= t.instances &&
          t.tolerated <= Math.max(0, t.hosts - 1);
        if (!ok) why(`${role} ${JSON.stringify(t)}`);
      }
      if (r.warnings.length > 16) why(`${r.warnings.length} warnings`);
      for (const w of r.warnings) {
        if (!w.startsWith(`cluster ${name}: `)) why(`a warning without the cluster: ${w.slice(0, 80)}`);
        if (hasUnsafeCharacters(w)) why(`control characters in ${JSON.stringify(w.slice(0, 80))}`);
        if (w.length > 1000) why(`a warning of ${w.length} characters`);
      }
      // A role short of the guide always says so, quoting it.
      const quoted = (role: keyof typeof SIZING_GUIDE) =>
        r.warnings.some((w) => w.includes(SIZING_GUIDE[role]));
      if (r.roles.master.hosts < 3 && !quoted('master')) why('Masters short of 3 hosts, no warning');
      if (r.roles.webapp.hosts < 2 && !quoted('webapp')) why('Webapps short of 2 hosts, no warning');
      if (r.roles.coreapp.tolerated === 0 && !quoted('coreapp'))
        why('no Coreapp failure tolerated, no warning');
    }
    expect(wrong).toEqual([]);
  });

  it('is deterministic: the same shape gives the same report', () => {
    for (const s of shapes.slice(0, 60)) {
      const input = {
        cluster: s.cluster,
        hosts: s.hosts,
        ...(s.shards === undefined ? {} : { shards: s.shards }),
      };
      expect(lintTopology(input)).toEqual(lintTopology(structuredClone(input)));
    }
  });
});
