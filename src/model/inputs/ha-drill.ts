import { z } from 'zod';
import { Name } from '../common';
import { durationIn, durationMs, durationMsOrNaN } from '../duration';
import {
  ApprovalTimeout,
  approvalTimeoutIssues,
  ClusterLockFields,
  ClusterName,
  type InputIssue,
  lockWaitNeedsWait,
  memberHost,
  Preview,
  RequestedBy,
  type Resolved,
  SchemaRef,
  StartRequest,
} from './common';

/** `connected` (the Coreapp connected when the drill starts) or the name of a Coreapp host. */
export const DrillTarget = z.union([z.literal('connected'), Name], {
  error: 'expected "connected" or the name of a Coreapp host',
});

const TIMEOUTS = { takeover: '3m', rejoin: '5m', health: '5m' };

/** haDrill: stop the connected Coreapp, measure the standby's takeover, start it again. */
export const HaDrillInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    target: DrillTarget,
    /** How fast a standby must take over for the drill to pass, e.g. `45s`. */
    takeoverSlo: durationIn('1s', '10m'),
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    approvalTimeout: ApprovalTimeout,
    /** takeover: give up (and start the stopped Coreapp again); rejoin: back as a standby; health: final. */
    timeouts: z
      .strictObject({
        takeover: durationIn('1s', '30m').default(TIMEOUTS.takeover),
        rejoin: durationIn('1s', '1h').default(TIMEOUTS.rejoin),
        health: durationIn('1s', '2h').default(TIMEOUTS.health),
      })
      .default(TIMEOUTS),
  })
  .superRefine((input, ctx) => {
    if (durationMsOrNaN(input.timeouts.takeover) < durationMsOrNaN(input.takeoverSlo)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeouts', 'takeover'],
        message: `must be at least takeoverSlo (${input.takeoverSlo}), or a slow takeover could not be measured`,
      });
    }
  })
  .superRefine(lockWaitNeedsWait);
export type HaDrillInput = z.infer<typeof HaDrillInput>;

export function haDrillIssues(input: HaDrillInput, r: Resolved): InputIssue[] {
  const issues: InputIssue[] = approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
  if (input.target !== 'connected') {
    const found = memberHost(r, input.target, 'coreapp');
    if ('why' in found) issues.push({ path: ['target'], message: found.why });
  }
  return issues;
}
