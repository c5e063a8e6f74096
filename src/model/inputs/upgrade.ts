import { z } from 'zod';
import { PreApproval, preApprovalIssues } from '../approvals';
import { Version } from '../common';
import { durationIn, durationMs } from '../duration';
import { gatePolicy } from '../policy';
import { compareVersions } from '../version';
import { maintenanceWindowShape, windowChecked } from '../window';
import {
  ApprovalTimeout,
  approvalTimeoutIssues,
  ClusterLockFields,
  ClusterName,
  type InputIssue,
  lockWaitNeedsWait,
  OneLineText,
  Preview,
  RequestedBy,
  type Resolved,
  SchemaRef,
  StartRequest,
} from './common';

const TIMEOUTS = { health: '10m', dbUpgrade: '30m' };

/**
 * The upgrade's maintenance window, and what happens when it closes with batches still to go:
 * `park` (default) starts no new batch after the end, waits for the next opening with every
 * finished batch healthy and continues there; `finish` runs on past the end to the last batch.
 */
export const UpgradeWindow = windowChecked(
  z.strictObject({
    ...maintenanceWindowShape,
    onClose: z.enum(['park', 'finish']).default('park').meta({
      description:
        'when the window closes mid-run: park (default: no new batch starts; the run waits for the next opening, then continues with the next batch) or finish (run on past the end)',
    }),
  }),
);
export type UpgradeWindow = z.infer<typeof UpgradeWindow>;

const RollbackMode = z.enum(['auto', 'ask', 'off']);

/**
 * What a failed batch does: `auto` puts the upgraded hosts back, `ask` asks first, `off` leaves them.
 * Written as the mode alone (as before) or as `{ mode, restoreSettings }`; the run always sees the
 * object. `restoreSettings`: after the images are back, the run's own settings backup is restored
 * (its sha256 verified first) and the Coreapps restarted, then the health gate.
 */
export const UpgradeRollback = z
  .union([
    RollbackMode,
    z.strictObject({
      mode: RollbackMode.default('ask'),
      restoreSettings: z.boolean().default(false).meta({
        description:
          'after a rollback puts the images back: restore the settings backup this run took, restart the Coreapps, wait for health',
      }),
    }),
  ])
  .transform((r) => (typeof r === 'string' ? { mode: r, restoreSettings: false } : r))
  .default({ mode: 'ask', restoreSettings: false })
  .meta({
    description:
      'when a batch fails: "auto", "ask" (default) or "off", or { "mode": ..., "restoreSettings": true } to restore the settings backup too',
  });
export type UpgradeRollback = z.output<typeof UpgradeRollback>;

/** upgrade: back up, approve, dbupgrade when needed, roll the hosts role by role (seed C, D, E). */
export const UpgradeInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    toVersion: Version,
    window: UpgradeWindow.optional(),
    /** Start the disruptive stages outside the window anyway, saying why. */
    force: z.strictObject({ reason: OneLineText(3, 500) }).optional(),
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    /** Approvals given in advance for a scheduled run (gate `upgrade` only; see docs/schedules.md). */
    preApproved: z.array(PreApproval).max(10).default([]),
    rollback: UpgradeRollback,
    /** Hosts of one role upgraded at once; at most the cluster's size. */
    maxUnavailable: z.number().int().min(1).max(16).default(1),
    approvalTimeout: ApprovalTimeout,
    timeouts: z
      .strictObject({
        health: durationIn('1s', '2h').default(TIMEOUTS.health),
        dbUpgrade: durationIn('1s', '12h').default(TIMEOUTS.dbUpgrade),
      })
      .default(TIMEOUTS),
  })
  .superRefine(lockWaitNeedsWait);
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
