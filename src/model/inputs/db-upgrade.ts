import { z } from 'zod';
import { Name, Version } from '../common';
import { durationIn } from '../duration';
import { compareVersions } from '../version';
import {
  ClusterLockFields,
  ClusterName,
  type InputIssue,
  lockWaitNeedsWait,
  memberHost,
  type Resolved,
  SchemaRef,
} from './common';

/** dbUpgrade: the zero-downtime MySQL database upgrade job, then the apps on the new version (seed D). */
export const DbUpgradeInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    toVersion: Version,
    /** Where the job runs (a member host of the cluster); default the first master host. */
    host: Name.optional(),
    /** false maps to EXIT_ON_SUCCESS=FALSE: the job stays up after success, read from its log. */
    exitOnSuccess: z.boolean().default(true),
    /** Restart the Coreapp and Webapp containers on the new version afterwards (seed D4). */
    restartApps: z.boolean().default(true),
    timeouts: z.strictObject({ job: durationIn('1s', '12h').default('30m') }).default({ job: '30m' }),
  })
  .superRefine(lockWaitNeedsWait);
export type DbUpgradeInput = z.infer<typeof DbUpgradeInput>;

export function dbUpgradeIssues(input: DbUpgradeInput, r: Resolved): InputIssue[] {
  const issues: InputIssue[] = [];
  const from = r.cluster.version;
  if (from && compareVersions(input.toVersion, from) <= 0)
    issues.push({
      path: ['toVersion'],
      message: `must be newer than v${from}, the version cluster ${r.cluster.name} runs (inventory); no downgrades`,
    });
  if (input.host) {
    const found = memberHost(r, input.host);
    if ('why' in found) issues.push({ path: ['host'], message: found.why });
  }
  return issues;
}
