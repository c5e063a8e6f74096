import { z } from 'zod';
import { Name } from '../common';
import { durationIn, durationMs } from '../duration';
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
    shards: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16), z.literal(32)], {
      error: 'expected one of 1, 2, 4, 8, 16, 32',
    }),
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
