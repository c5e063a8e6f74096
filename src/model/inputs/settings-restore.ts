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

/** A Temporal run id (a UUID), or its first 8 characters as a backup's file name ends with. */
const RunId = z
  .string()
  .regex(
    /^[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$/,
    'expected the run id of the upgrade that took the backup (a UUID, or its first 8 characters)',
  );
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256: 64 lowercase hex digits');

/** Which stored backup: exactly one of the run id that took it and its checksum. */
export const BackupChoice = z
  .strictObject({
    runId: RunId.optional().meta({ description: 'the run id of the upgrade that took the backup' }),
    sha256: Sha256.optional().meta({
      description: "the backup's sha256 (an upgrade result's backup.sha256)",
    }),
  })
  .superRefine((b, ctx) => {
    if ((b.runId === undefined) === (b.sha256 === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of runId and sha256' });
  });

/** settingsRestore: a stored settings backup, verified, restored after approval; Coreapps restarted. */
export const SettingsRestoreInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    backup: BackupChoice,
    restartCoreapps: z.boolean().default(true).meta({
      description:
        'restart the Coreapps after the restore (a registered app stops until restarted) and wait for health; false: restart them by hand',
    }),
    requestedBy: RequestedBy,
    request: StartRequest,
    preview: Preview,
    approvalTimeout: ApprovalTimeout,
    timeouts: z.strictObject({ health: durationIn('1s', '2h').default('10m') }).default({ health: '10m' }),
  })
  .superRefine(lockWaitNeedsWait);
export type SettingsRestoreInput = z.infer<typeof SettingsRestoreInput>;

export const settingsRestoreIssues = (input: SettingsRestoreInput, r: Resolved): InputIssue[] =>
  approvalTimeoutIssues(input.approvalTimeout, r, durationMs);
