// The plan of an upgrade run: every stage, with the `up -d` of every host in upgrade order.
import { mediaDirOf, type OperableCluster } from '../../src/model/cluster';
import type { UpgradeInput } from '../../src/model/inputs';
import type { PlanStep } from '../api';
import { upSteps } from '../lib/plan';

/**
 * The stages after the cluster's resolution. `knowsOnClose` says whether the window's onClose
 * policy applies (it records a patch marker: called only where the plan text depends on it).
 */
export function upgradePlan(
  input: UpgradeInput,
  cluster: OperableCluster,
  dbUp: boolean,
  chown: boolean,
  knowsOnClose: () => boolean,
  /** The prerequisites stage's steps (runs since PREREQUISITES_PATCH), after the health before. */
  prerequisites: PlanStep[] = [],
  /** Runs since PLAN_BINDS_HOSTS_PATCH: the plan says what a failed batch leads to, and the timeouts. */
  bindsFailure = false,
): PlanStep[] {
  const { toVersion } = input;
  return [
    ...(input.window
      ? [
          {
            stage: 'window',
            note: `${input.window.days.join(',')} ${input.window.start}-${input.window.end} ${input.window.timeZone}${input.force ? ` (forced: ${input.force.reason})` : knowsOnClose() ? `; when it closes: ${input.window.onClose === 'park' ? 'park (no new batch; resume at the next opening)' : 'finish (run on to the last batch)'}` : ''}`,
          },
        ]
      : []),
    { stage: 'pre-upgrade health', note: 'registered and healthy' },
    ...prerequisites,
    { stage: 'settings backup', note: 'POST /v1/settings/backup, stored on the worker' },
    {
      stage: 'approval',
      // What approvers sign is this plan; approvals given in advance are in `status` and the result.
      note: 'gate "upgrade"',
    },
    ...(dbUp ? [{ stage: 'dbUpgrade', note: `child workflow: dbupgrade job v${toVersion}` }] : []),
    ...upSteps(cluster, toVersion).map((s) => ({
      ...s,
      note: `batches of ${input.maxUnavailable}, health gate after each`,
    })),
    ...(bindsFailure ? [{ stage: 'on a failed batch', note: failedBatchNote(input) }] : []),
    ...(chown
      ? [
          {
            stage: 'mediaChown',
            note: `child workflow after the Webapps: chown -R root ${mediaDirOf(cluster)}/{incoming,outgoing,shared}`,
          },
        ]
      : []),
  ];
}

/**
 * What a failed batch (its `up -d`, or its health gate past `timeouts.health`) leads to. It is part
 * of what approvers sign: an input that changes it (rollback auto instead of ask, a 1s gate) is
 * another plan, and approvals given for the first one do not count for it.
 */
export function failedBatchNote(input: UpgradeInput): string {
  const { rollback, timeouts } = input;
  const restore = rollback.restoreSettings
    ? ', then the settings backup restored and the Coreapps restarted'
    : '';
  const what = {
    auto: `rollback auto: every host upgraded so far put back on what it ran${restore}`,
    ask: `rollback ask: gate "rollback" asks before every host upgraded so far is put back on what it ran${restore}`,
    off: 'rollback off: the run stops, hosts left as they are',
  }[rollback.mode];
  return `${what}; health gate timeout ${timeouts.health}, dbupgrade job timeout ${timeouts.dbUpgrade}`;
}
