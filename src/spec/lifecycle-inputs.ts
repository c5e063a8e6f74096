import { z } from 'zod';
import { ApprovalPolicy, Duration, durationMs, Identity, PreApproval, preApprovalIssues } from './approvals';
import { AbsolutePath, Name, SecretRef } from './common';
import { OperableCluster } from './runbook-inputs';
import { compareVersions, VERSION_PATTERN } from './version';
import { MaintenanceWindow, recurringWindowProblems } from './window';

export const Version = z.string().regex(VERSION_PATTERN, 'expected a version like 2.29.3');

export const UpgradeInput = z
  .strictObject({
    cluster: OperableCluster,
    toVersion: Version,
    /** The settings backup is encrypted by the product with this password (by reference). */
    backup: z.strictObject({ passwordRef: SecretRef }),
    window: MaintenanceWindow.optional(),
    /** Start the disruptive stages outside the window anyway, saying why. */
    force: z.strictObject({ reason: z.string().min(3) }).optional(),
    approvals: ApprovalPolicy,
    requestedBy: Identity,
    /** Approvals given in advance for a scheduled run (gate `upgrade` only; see README). */
    preApproved: z.array(PreApproval).max(10).default([]),
    rollback: z.enum(['auto', 'ask', 'off']).default('ask'),
    maxUnavailable: z.number().int().min(1).default(1),
    mediaDir: AbsolutePath.default('/usr/local/wamedia'),
    timeouts: z
      .strictObject({ health: Duration.default('10m'), dbUpgrade: Duration.default('30m') })
      .default({ health: '10m', dbUpgrade: '30m' }),
  })
  .superRefine((input, ctx) => {
    for (const issue of preApprovalIssues(input.preApproved, input.approvals, input.requestedBy, ['upgrade']))
      ctx.addIssue({ code: 'custom', ...issue });
    const from = input.cluster.version;
    if (
      from &&
      VERSION_PATTERN.test(from) &&
      VERSION_PATTERN.test(input.toVersion) &&
      compareVersions(input.toVersion, from) <= 0
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['toVersion'],
        message: `must be newer than the cluster's current version ${from}`,
      });
    }
  });
export type UpgradeInput = z.infer<typeof UpgradeInput>;

export const DbUpgradeInput = z.strictObject({
  cluster: OperableCluster,
  toVersion: Version,
  /** Where the job runs; default the first master host. */
  host: Name.optional(),
  /** false maps to EXIT_ON_SUCCESS=FALSE: the job stays up after success, read from its log. */
  exitOnSuccess: z.boolean().default(true),
  /** Restart the Coreapp and Webapp containers on the new version afterwards (seed D4). */
  restartApps: z.boolean().default(true),
  timeouts: z.strictObject({ job: Duration.default('30m') }).default({ job: '30m' }),
});
export type DbUpgradeInput = z.infer<typeof DbUpgradeInput>;

/** mediaChown's input fields that make its recurring window. */
export const MEDIA_WINDOW_FIELDS = { end: 'windowEnd', every: 'resumeAfter' };

/**
 * The chown's window opens at `notBefore` (or the run's start), closes at `windowEnd` and recurs
 * every `resumeAfter`; the run's start is checked in the workflow, `notBefore` here too.
 */
export const MediaChownInput = z
  .strictObject({
    cluster: OperableCluster,
    mediaDir: AbsolutePath.default('/usr/local/wamedia'),
    /** Stop cleanly at this instant (ISO 8601); a follow-up run resumes in the next window. */
    windowEnd: z.iso.datetime({ offset: true }).optional(),
    /** The window's period: it reopens this long after it opened. Longer than the window. */
    resumeAfter: Duration.default('24h'),
    /** When this run's window opens (set for follow-up runs): do not start before it. */
    notBefore: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((input, ctx) => {
    if (!input.windowEnd || !input.notBefore || !Duration.safeParse(input.resumeAfter).success) return;
    const opening = { opensAt: Date.parse(input.notBefore), closesAt: Date.parse(input.windowEnd) };
    for (const p of recurringWindowProblems(opening, durationMs(input.resumeAfter), MEDIA_WINDOW_FIELDS))
      ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  });
export type MediaChownInput = z.infer<typeof MediaChownInput>;

export const UninstallInput = z.strictObject({
  cluster: OperableCluster,
  removeVolumes: z.boolean().default(false),
  approvals: ApprovalPolicy,
  requestedBy: Identity,
});
export type UninstallInput = z.infer<typeof UninstallInput>;

export const CollectLogsInput = z.strictObject({
  cluster: OperableCluster,
  services: z
    .array(z.enum(['waweb', 'master', 'wacore']))
    .min(1)
    .optional(),
  /** docker-compose logs --since: a duration like 2h or an RFC 3339 timestamp. */
  since: z
    .string()
    .regex(/^(\d+[smh]|\d{4}-\d\d-\d\dT[\d:.]+Z?)$/, 'expected a duration like 2h or a timestamp')
    .optional(),
  maxBytesPerService: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(5 * 1024 * 1024),
});
export type CollectLogsInput = z.infer<typeof CollectLogsInput>;
