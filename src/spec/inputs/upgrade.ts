import { z } from 'zod';
import { PreApproval, preApprovalIssues } from '../approvals';
import { Version } from '../common';
import { durationIn, durationMs } from '../duration';
import { gatePolicy } from '../policy';
import { compareVersions } from '../version';
import { MaintenanceWindow } from '../window';
import {
  ApprovalTimeout,
  approvalTimeoutIssues,
  ClusterName,
  type InputIssue,
  Preview,
  RequestedBy,
  type Resolved,
  SchemaRef,
  StartRequest,
} from './common';

const TIMEOUTS = { health: '10m', dbUpgrade: '30m' };

/** upgrade: back up, approve, dbupgrade when needed, roll the hosts role by role (seed C, D, E). */
export const UpgradeInput = z.strictObject({
  $schema: SchemaRef,
  cluster: ClusterName,
  toVersion: Version,
  window: MaintenanceWindow.optional(),
  /** Start the disruptive stages outside the window anyway, saying why. */
  force: z.strictObject({ reason: z.string().min(3).max(500) }).optional(),
  requestedBy: RequestedBy,
  request: StartRequest,
  preview: Preview,
  /** Approvals given in advance for a scheduled run (gate `upgrade` only; see README). */
  preApproved: z.array(PreApproval).max(10).default([]),
  rollback: z.enum(['auto', 'ask', 'off']).default('ask'),
  /** Hosts of one role upgraded at once; at most the cluster's size. */
  maxUnavailable: z.number().int().min(1).max(16).default(1),
  approvalTimeout: ApprovalTimeout,
  timeouts: z
    .strictObject({
      health: durationIn('1s', '2h').default(TIMEOUTS.health),
      dbUpgrade: durationIn('1s', '12h').default(TIMEOUTS.dbUpgrade),
    })
    .default(TIMEOUTS),
});
export type UpgradeInput = z.infer<typeof UpgradeInput>;

export function upgradeIssues(input: UpgradeInput, r: Resolved): InputIssue[] {
  const issues: InputIssue[] = approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
  const from = r.cluster.version;
  if (from && compareVersions(input.toVersion, from) <= 0)
    issues.push({
      path: ['toVersion'],
      message: `must be newer than v${from}, the version cluster ${r.cluster.name} runs (inventory); no downgrades`,
    });
  if (input.maxUnavailable > r.cluster.hosts.length)
    issues.push({
      path: ['maxUnavailable'],
      message: `${input.maxUnavailable} is more than the ${r.cluster.hosts.length} hosts of cluster ${r.cluster.name}`,
    });
  if (r.policy)
    for (const issue of preApprovalIssues(input.preApproved, gatePolicy(r.policy), input.requestedBy, [
      'upgrade',
    ]))
      issues.push(issue);
  return issues;
}
