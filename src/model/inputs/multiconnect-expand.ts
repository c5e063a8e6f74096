import { z } from 'zod';
import { Name, ShardCount } from '../common';
import { durationIn, durationMs } from '../duration';
import { SIZING_GUIDE } from '../topology';
import {
  ApprovalTimeout,
  approvalTimeoutIssues,
  ClusterLockFields,
  ClusterName,
  type InputIssue,
  lockWaitNeedsWait,
  Preview,
  RequestedBy,
  type Resolved,
  SchemaRef,
  StartRequest,
} from './common';

/** multiconnectExpand: set the shard count and start spare hosts as standby Coreapps (seed B). */
export const MulticonnectExpandInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    shards: ShardCount,
    /** Spare hosts of the cluster in the inventory, started as standby Coreapps; each at most once. */
    addCoreapps: z
      .array(Name)
      .max(32)
      .default([])
      .superRefine((names, ctx) => {
        // Only valid names are quoted: the refinement also sees values that failed their own check.
        const valid = names.map((n) => (Name.safeParse(n).success ? n : ''));
        valid.forEach((n, i) => {
          if (n && valid.indexOf(n) !== i)
            ctx.addIssue({ code: 'custom', path: [i], message: `${n} is listed twice` });
        });
      }),
    /** true: go ahead even when the cluster would have no standby Coreapp (Coreapps <= shards). */
    acceptNoStandby: z.boolean().optional().meta({
      description:
        'true: set the shards even when no standby Coreapp would be left (Coreapps <= shards): one host failure would stop a shard',
    }),
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    approvalTimeout: ApprovalTimeout,
    timeouts: z.strictObject({ health: durationIn('1s', '2h').default('10m') }).default({ health: '10m' }),
  })
  .superRefine(lockWaitNeedsWait);
export type MulticonnectExpandInput = z.infer<typeof MulticonnectExpandInput>;

export function multiconnectExpandIssues(input: MulticonnectExpandInput, r: Resolved): InputIssue[] {
  const issues: InputIssue[] = approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
  input.addCoreapps.forEach((name, i) => {
    const spare = r.cluster.spareHosts.find((h) => h.name === name);
    const path = ['addCoreapps', i];
    if (!spare) {
      const member = r.cluster.hosts.some((h) => h.name === name);
      issues.push({
        path,
        message: member
          ? `${name} is already a member of cluster ${r.cluster.name} (only spare hosts can be added)`
          : `${name} is not a spare host of cluster ${r.cluster.name} in the inventory`,
      });
    } else if (!spare.roles.includes('coreapp')) {
      issues.push({ path, message: `${name} is not a coreapp host (roles: ${spare.roles.join(', ')})` });
    }
  });
  const coreapps =
    r.cluster.hosts.filter((h) => h.roles.includes('coreapp')).length + input.addCoreapps.length;
  if (coreapps < input.shards)
    issues.push({
      path: ['shards'],
      message: `${input.shards} shards need at least ${input.shards} Coreapp hosts; the cluster would have ${coreapps}`,
    });
  return issues;
}

/**
 * The expansion's refusal when it leaves no standby Coreapp (`coreapps` after it, at most `shards`),
 * unless the input accepts that: the run stops before anything is touched.
 */
export function noStandbyIssue(input: MulticonnectExpandInput, coreapps: number): InputIssue | undefined {
  if (coreapps > input.shards || input.acceptNoStandby) return undefined;
  const added = input.addCoreapps.length;
  return {
    path: ['shards'],
    message:
      `${input.shards} shards on ${coreapps} Coreapp(s) (${coreapps - added} in the cluster, ${added} added) leave no standby Coreapp: ` +
      `one host failure would stop a shard; the guide advises "${SIZING_GUIDE.coreapp}": ` +
      'add a spare Coreapp host in addCoreapps, or set acceptNoStandby: true to go ahead without a standby',
  };
}
