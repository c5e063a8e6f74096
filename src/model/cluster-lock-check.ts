/**
 * Strict shapes of every message the cluster lock takes or sends (TRUST.md rules 4 and 9): anyone
 * with namespace access can send the lock an Update, a run a Signal, or start the lock workflow, so
 * each one is checked here before it counts. Workflow-safe: pure.
 */
import { z } from 'zod';
import { GRANT_LOG_SIZE } from './cluster-lock';
import { ClusterName } from './inputs/common';
import { DISRUPTIVE_RUNBOOKS } from './runbooks';
import { check, clean, hasUnsafeCharacters } from './validate';

/** Temporal's default limit on a workflow id (limit.maxIDLength). */
export const LOCK_ID_MAX = 1000;
/** More runs than this waiting for one cluster is a flood, not a queue: the next one is refused. */
export const LOCK_QUEUE_MAX = 100;
export const CONTINUE_AFTER_GRANTS_MAX = 1000;
/**
 * A queued run gives up after 24 h (LOCK_WAIT.max), but one that could not leave stays queued until
 * the lock reaches it; generous, since a grant log the next run refuses would stop the lock.
 */
const WAITED_MS_MAX = 366 * 24 * 3600 * 1000;
/** How a grant ended (`released: COMPLETED`, `gone: ...`). */
export const GRANT_HOW_MAX = 200;
/** A problem list quoted in an error or a log line. */
const PROBLEMS_MAX = 500;

/** Invisible characters beyond C0/C1/bidi (zero-width, line separators, BOM) that can disguise an id. */
const INVISIBLE = /[\u200b-\u200f\u2028\u2029\ufeff]/;

const plainText = (max: number, what: string) =>
  z
    .string({ error: `expected ${what}` })
    .min(1, `expected ${what}`)
    .max(max, `expected ${what} of at most ${max} characters`)
    .refine(
      (s) => !hasUnsafeCharacters(s) && !INVISIBLE.test(s) && s.trim() === s,
      `expected ${what}: no control, invisible or bidirectional characters, no surrounding spaces`,
    );

const WorkflowId = plainText(LOCK_ID_MAX, 'a workflow id');
/** Temporal's run ids are UUIDs. */
const RunId = z
  .string({ error: 'expected a run id (a UUID)' })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a run id (a UUID)');
/** Only disruptive runbooks take the lock. */
const Runbook = z.enum(DISRUPTIVE_RUNBOOKS, { error: 'expected the name of a disruptive runbook' });
/** The lock's own clock: `new Date().toISOString()`. */
const Timestamp = z
  .string({ error: 'expected an ISO 8601 UTC time' })
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected an ISO 8601 UTC time');
const count = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`);

const runFields = { workflowId: WorkflowId, runId: RunId, firstRunId: RunId, runbook: Runbook };
export const LockRunSchema = z.strictObject(runFields);
export const AcquireRequestSchema = z.strictObject({
  ...runFields,
  wait: z.boolean({ error: 'expected true or false' }),
});
export const LockHolderSchema = z.strictObject({ ...runFields, since: Timestamp, ending: RunId.optional() });
const LockWaiterSchema = z.strictObject({ ...runFields, since: Timestamp });
const LockGrantSchema = z.strictObject({
  workflowId: WorkflowId,
  runId: RunId,
  runbook: Runbook,
  grantedAt: Timestamp,
  waitedMs: count(0, WAITED_MS_MAX),
  releasedAt: Timestamp.optional(),
  how: plainText(GRANT_HOW_MAX, 'how the grant ended').optional(),
});
export const WaitingNoticeSchema = z.strictObject({
  holder: LockHolderSchema,
  position: count(1, LOCK_QUEUE_MAX),
});
export const ClusterLockInputSchema = z.strictObject({
  cluster: ClusterName,
  holder: LockHolderSchema.optional(),
  queue: z.array(LockWaiterSchema).max(LOCK_QUEUE_MAX).optional(),
  grants: z.array(LockGrantSchema).max(GRANT_LOG_SIZE).optional(),
  continueAfterGrants: count(1, CONTINUE_AFTER_GRANTS_MAX).optional(),
});

/** The value when it fits `schema`; otherwise one cleaned, bounded line naming every bad field. */
export function checkLockMessage<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { ok: true; value: z.output<S> } | { ok: false; problems: string } {
  const checked = check(schema, value);
  return checked.ok ? checked : { ok: false, problems: clean(checked.problems.join('; '), PROBLEMS_MAX) };
}
