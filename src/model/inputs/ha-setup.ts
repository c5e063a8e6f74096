import { z } from 'zod';
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

const TIMEOUTS = { code: '30m', health: '10m', containers: '5m' };

/** haSetup: set up the cluster at the inventory's version and register its number (seed A). */
export const HaSetupInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    /** How the registration code is delivered. */
    method: z.enum(['sms', 'voice']).default('sms'),
    approvalTimeout: ApprovalTimeout,
    /** How long to wait for the verification code, for health to converge, for containers to run. */
    timeouts: z
      .strictObject({
        code: durationIn('1s', '24h').default(TIMEOUTS.code),
        health: durationIn('1s', '2h').default(TIMEOUTS.health),
        containers: durationIn('1s', '1h').default(TIMEOUTS.containers),
      })
      .default(TIMEOUTS),
  })
  .superRefine(lockWaitNeedsWait);
export type HaSetupInput = z.infer<typeof HaSetupInput>;

export const haSetupIssues = (input: HaSetupInput, r: Resolved): InputIssue[] =>
  approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
