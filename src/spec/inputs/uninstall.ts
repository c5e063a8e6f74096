import { z } from 'zod';
import { durationMs } from '../duration';
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

/** uninstall: `down` on every host, data only with removeVolumes and a second approval (seed F). */
export const UninstallInput = z.strictObject({
  $schema: SchemaRef,
  cluster: ClusterName,
  removeVolumes: z.boolean().default(false),
  requestedBy: RequestedBy,
  request: StartRequest,
  preview: Preview,
  approvalTimeout: ApprovalTimeout,
});
export type UninstallInput = z.infer<typeof UninstallInput>;

export const uninstallIssues = (input: UninstallInput, r: Resolved): InputIssue[] =>
  approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
