// The worker's inventory (docs/configuration.md#the-inventory): every cluster the worker may touch
// and its approval policy. Trusted: written by the people who run the worker, read from its disk. A
// run's input only names a cluster; the worker resolves the name here (TRUST.md rules 1-4). Pure:
// the loader with its file I/O is src/inventory/.
import { z } from 'zod';
import { ClusterFields, type ClusterSpec, type HostSpec } from './cluster';
import { Name } from './common';

export { canonicalJson } from './canonical';

import { PolicySpec, policyFor, type ResolvedPolicy } from './policy';
import { isGated, type RunbookName } from './runbooks';

export const InventoryCluster = z
  .strictObject({
    /** Optional: the key under `clusters` is the name; when given, it must be the same. */
    name: Name.optional(),
    ...ClusterFields,
    approvals: PolicySpec.optional(),
  })
  .superRefine((c, ctx) => {
    // Refinements also see values that failed their own checks: only valid names are quoted here.
    const names = c.hosts.map((h) => h.name).filter((n) => Name.safeParse(n).success);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `host ${n} is listed twice` });
    });
    if (c.ssh) {
      c.hosts.forEach((h, i) => {
        if (names.includes(h.name) && !c.ssh?.knownHosts[h.name])
          ctx.addIssue({
            code: 'custom',
            path: ['ssh', 'knownHosts', h.name],
            message: `no pinned host key for hosts[${i}] ${h.name}`,
          });
      });
      for (const pinned of Object.keys(c.ssh.knownHosts))
        if (!names.includes(pinned))
          ctx.addIssue({
            code: 'custom',
            path: ['ssh', 'knownHosts', pinned],
            message: `no host named ${pinned} in this cluster (a typo?)`,
          });
    }
    const members = c.hosts.filter((h) => !h.spare);
    if (members.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['hosts'],
        message: 'every host is spare: the cluster has no member',
      });
  });
export type InventoryCluster = z.output<typeof InventoryCluster>;

/** One inventory file: `clusters: { <name>: <cluster> }`. A directory of them is merged by the loader. */
export const InventoryFile = z.strictObject({
  clusters: z.record(Name, InventoryCluster),
});
export type InventoryFile = z.output<typeof InventoryFile>;

/** The inventory entry as a run sees it: its name, members and spare hosts apart. */
export function clusterOf(name: string, entry: InventoryCluster): ClusterSpec {
  const { approvals: _policy, name: _name, hosts, ...rest } = entry;
  const host = ({ spare: _spare, ...h }: InventoryCluster['hosts'][number]): HostSpec => h;
  return {
    name,
    ...rest,
    hosts: hosts.filter((h) => !h.spare).map(host),
    spareHosts: hosts.filter((h) => h.spare).map(host),
  };
}

/** What a runbook needs from the entry, beyond the cluster itself; each missing part named. */
export function requirementProblems(runbook: RunbookName, entry: InventoryCluster): string[] {
  const problems: string[] = [];
  const need = (present: unknown, what: string, why: string) => {
    if (!present) problems.push(`${what}: ${runbook} needs it (${why})`);
  };
  if (runbook === 'preflightCheck') {
    need(entry.db, 'db', 'the database the prerequisites are checked against');
    need(entry.ssh, 'ssh', 'the SSH key and pinned host keys');
  } else if (runbook !== 'healthCheck') {
    need(entry.version, 'version', 'the WA_API_VERSION the cluster runs');
    need(entry.db, 'db', 'the database db.env points to');
    need(entry.compose, 'compose', 'the compose file to run');
    need(entry.ssh, 'ssh', 'the SSH key and pinned host keys');
    for (const role of ['webapp', 'master', 'coreapp'] as const)
      if (!entry.hosts.some((h) => !h.spare && h.roles.includes(role)))
        problems.push(`hosts: no host has the role ${role}`);
  }
  if (runbook === 'haSetup' || runbook === 'multiconnectExpand')
    need(entry.registration, 'registration', 'the number, its certificate and PIN');
  if (runbook === 'upgrade' || runbook === 'settingsRestore')
    need(entry.backup, 'backup', 'the password the settings backup is encrypted with');
  if (isGated(runbook)) need(entry.approvals, 'approvals', 'its approval gates follow that policy');
  return problems;
}

/** What `resolveCluster` records in the run's history: the spec (references, no secret values), its policy, hashes. */
export interface Resolution {
  cluster: ClusterSpec;
  /** sha256 of the cluster's canonical JSON: every activity checks it against the inventory it reads. */
  specHash: string;
  /** The runbook's policy (gated runbooks only) and its hash. */
  policy: ResolvedPolicy | null;
  policyHash: string | null;
  /** Where the worker read it, e.g. `/etc/waba-runbooks/inventory.yaml`. */
  source: string;
}

/** The policy a runbook's gates apply, when the entry has one and the runbook is gated. */
export const runbookPolicy = (entry: InventoryCluster, runbook: RunbookName): ResolvedPolicy | null =>
  entry.approvals && isGated(runbook) ? policyFor(entry.approvals, runbook) : null;

/** How a run's activities name the cluster it resolved: its name and the hash of its spec. */
export interface ClusterRef {
  name: string;
  specHash: string;
}

/** What `status`, `plan` and results show of a resolution: where, and which spec and policy. */
export const inventoryOf = (r: Resolution): { source: string; specHash: string; policyHash?: string } => ({
  source: r.source,
  specHash: r.specHash,
  ...(r.policyHash ? { policyHash: r.policyHash } : {}),
});
