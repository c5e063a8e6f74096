import { z } from 'zod';
import { durationMs } from '../duration';
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

/** uninstall: `down` on every host, data only with removeVolumes and a second approval (seed F). */
export const UninstallInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    removeVolumes: z.boolean().default(false),
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    approvalTimeout: ApprovalTimeout,
  })
  .superRefine(lockWaitNeedsWait);
export type UninstallInput = z.infer<typeof UninstallInput>;

export const uninstallIssues = (input: UninstallInput, r: Resolved): InputIssue[] =>
  approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
