// The topology lint: the seed's sizing guidance (../shared/seed/RUNBOOK.md, "Sizing guidance")
// applied to a cluster's hosts. Per role, how many host failures the cluster survives, and a warning
// quoting the guide wherever it falls short. Pure and deterministic: the inventory loader, the
// CLI's `inventory check` and the workflows (multiconnectExpand, haDrill) all run it.
//
// The rule, per role: a host is told apart by its address (two inventory entries with the same
// address are one machine, whatever their names or ports); the role needs `needed` instances up
// (1 Master: the primary; 1 Webapp; one Coreapp per shard); it tolerates X host failures when losing
// ANY X of its hosts still leaves `needed` instances, i.e. the X hosts running the most instances.
// With one instance per host that is `hosts - 1` for Masters and Webapps, `coreapps - shards` for
// Coreapps; instances sharing a host count once, since one failure stops them all.
import type { ClusterSpec, Role } from './cluster';
import { clean } from './validate';

/** The guide's words, quoted in every warning. */
export const SIZING_GUIDE: Readonly<Record<Role, string>> = {
  webapp:
    'at least 2 Webapps for 100-150 messages/s, behind a load balancer (HAProxy, Nginx, ELB) for Webapp HA',
  master: '3 Masters on different hosts (no more needed; they are light and may share hosts with Coreapps)',
  coreapp: 'shards + X Coreapps on different hosts to tolerate X host failures',
};

/** Webapps and Masters on fewer hosts than this draw a warning (the guide's numbers). */
const ADVISED_HOSTS = { webapp: 2, master: 3 } as const;

const ROLES: readonly Role[] = ['webapp', 'master', 'coreapp'];
const LABEL: Readonly<Record<Role, [one: string, many: string]>> = {
  webapp: ['Webapp', 'Webapps'],
  master: ['Master', 'Masters'],
  coreapp: ['Coreapp', 'Coreapps'],
};

/** What the lint reads of a host: its name, its address (the machine) and its roles. */
export interface TopologyHost {
  name: string;
  address: string;
  roles: readonly string[];
}

export interface TopologyInput {
  cluster: string;
  /** The hosts running the cluster (spare hosts apart, unless a run is about to add them). */
  hosts: readonly TopologyHost[];
  /** The shard count; absent: 1, as haSetup leaves a cluster (said so in the Coreapp warning). */
  shards?: number;
}

export interface RoleTolerance {
  /** Inventory entries with the role. */
  instances: number;
  /** Distinct machines (addresses) running it. */
  hosts: number;
  /** Instances the role needs up: 1, or the shard count for Coreapps. */
  needed: number;
  /** Host failures survived: losing any this many of its hosts leaves `needed` instances. */
  tolerated: number;
}

export interface TopologyReport {
  cluster: string;
  shards: number;
  roles: Record<Role, RoleTolerance>;
  /** One line each: `cluster <name>: <role>: <numbers>; the guide advises "<its words>"`. */
  warnings: string[];
}

/** At most this many host-sharing warnings per role, and names per warning: the rest are counted. */
const MAX_SHARED = 3;
const MAX_NAMES = 5;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const label = (role: Role, n: number) => LABEL[role][n === 1 ? 0 : 1];
const safe = (text: unknown) => clean(String(text), 64);
const advice = (role: Role) => `the guide advises "${SIZING_GUIDE[role]}"`;

/** `a, b and c`; past MAX_NAMES, `a, b, c, d, e and 7 more`. */
function namesText(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES).map(safe);
  const more = names.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  return shown.length > 1
    ? `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`
    : (shown[0] ?? '');
}

/** Host failures survived when `perHost` (instances per machine) must keep `needed` up. */
function toleratedFailures(perHost: number[], needed: number): number {
  let left = perHost.reduce((a, b) => a + b, 0);
  if (left < needed) return 0;
  let failures = 0;
  // Worst case first: the hosts running the most instances fail first.
  for (const n of [...perHost].sort((a, b) => b - a)) {
    if (left - n < needed) break;
    left -= n;
    failures++;
  }
  return failures;
}

/** The shard count to lint against: a whole number from 1, else 1 (and a warning says so). */
const shardCount = (shards: number | undefined): number =>
  shards !== undefined && Number.isSafeInteger(shards) && shards >= 1 ? shards : 1;

export function lintTopology(input: TopologyInput): TopologyReport {
  const cluster = safe(input.cluster);
  const shards = shardCount(input.shards);
  const warn = (text: string) => warnings.push(`cluster ${cluster}: ${text}`);
  const warnings: string[] = [];
  if (input.shards !== undefined && input.shards !== shards)
    warn(`shards ${safe(input.shards)} is not a shard count: counted as 1`);
  const hosts = Array.isArray(input.hosts) ? input.hosts : [];
  const roles = {} as Record<Role, RoleTolerance>;
  for (const role of ROLES) {
    // Machine (address) -> the names of the entries running the role there.
    const byMachine = new Map<string, string[]>();
    for (const h of hosts) {
      if (!Array.isArray(h?.roles) || !h.roles.includes(role)) continue;
      const machine = String(h.address ?? '')
        .trim()
        .toLowerCase();
      const names = byMachine.get(machine) ?? [];
      names.push(String(h.name ?? ''));
      byMachine.set(machine, names);
    }
    const perHost = [...byMachine.values()].map((n) => n.length);
    const instances = perHost.reduce((a, b) => a + b, 0);
    const needed = role === 'coreapp' ? shards : 1;
    const tolerance = {
      instances,
      hosts: byMachine.size,
      needed,
      tolerated: toleratedFailures(perHost, needed),
    };
    roles[role] = tolerance;
    const w = roleWarning(role, tolerance, input.shards === undefined);
    if (w) warn(w);
    const shared = [...byMachine].filter(([, names]) => names.length > 1);
    for (const [machine, names] of shared.slice(0, MAX_SHARED))
      warn(
        `${LABEL[role][1]}: ${namesText(names)} run on the same host ${safe(machine) || '(no address)'}: one host failure stops them all, so they count as one host; ${advice(role)}`,
      );
    if (shared.length > MAX_SHARED)
      warn(`${LABEL[role][1]}: ${shared.length - MAX_SHARED} more hosts run more than one ${LABEL[role][0]}`);
  }
  return { cluster, shards, roles, warnings };
}

/** The lint of a resolved cluster: its members, against the shard count its inventory entry gives. */
export const lintCluster = (c: Pick<ClusterSpec, 'name' | 'hosts' | 'shards'>): TopologyReport =>
  lintTopology({ cluster: c.name, hosts: c.hosts, shards: c.shards });

/** The role's shortfall against the guide, or undefined when it follows it. */
function roleWarning(role: Role, t: RoleTolerance, shardsAssumed: boolean): string | undefined {
  const [one, many] = LABEL[role];
  if (t.instances === 0) return `no host runs a ${one}: the cluster cannot work without one; ${advice(role)}`;
  const on = `${t.instances} ${label(role, t.instances)} on ${plural(t.hosts, 'host')}`;
  const survives = `${t.instances === 1 ? 'tolerates' : 'tolerate'} ${plural(t.tolerated, 'host failure')}`;
  if (role !== 'coreapp')
    return t.hosts < ADVISED_HOSTS[role] ? `${many}: ${on} ${survives}; ${advice(role)}` : undefined;
  // Coreapps: against the shard count.
  const shards = `${plural(t.needed, 'shard')}${shardsAssumed ? ' (assumed: the inventory gives no shards)' : ''}`;
  if (t.instances < t.needed)
    return `${many}: ${on} for ${shards}: ${plural(t.needed - t.instances, 'shard')} without a Coreapp even with every host up; ${advice(role)}`;
  if (t.tolerated > 0) return undefined;
  const why =
    t.instances === t.needed
      ? 'no standby: one host failure leaves a shard without a Coreapp'
      : 'the standby shares a host with a connected Coreapp';
  return `${many}: ${on} for ${shards} ${survives} (${why}); ${advice(role)}`;
}

/** One line for a plan step or `inventory check`: the host failures each role survives. */
export function toleranceText(r: TopologyReport): string {
  const part = (role: Role, extra = '') => {
    const t = r.roles[role];
    return `${LABEL[role][1]} ${t.tolerated} (${t.instances} on ${plural(t.hosts, 'host')}${extra})`;
  };
  return `host failures tolerated: ${part('master')}, ${part('coreapp', ` for ${plural(r.shards, 'shard')}`)}, ${part('webapp')}`;
}
