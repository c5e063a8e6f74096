// A health gate inside one activity: GET /v1/health at the poll schedule until the condition holds.
// Shared by the real activity (waitWabaHealth, activities/waba-activities.ts) and the tests' fake
// cluster, which reads its own scripted health instead of the API.
import { ApplicationFailure } from '@temporalio/common';
import { HEALTH_GATE_FAILED, nonRetryable } from '../src/model/errors';
import { type HealthBody, type HealthSummary, summarizeHealth } from '../src/model/health';
import {
  type HealthReading,
  type HealthWaitRequest,
  type HealthWaitResult,
  healthHolds,
  MAX_SEEN,
} from '../src/model/health-condition';
import { type PollDeps, pollUntil } from './poll';

/** The same reading as before, node for node (a new one goes into `seen`). */
const sameReading = (a: HealthSummary, b: HealthSummary) =>
  a.verdict === b.verdict && JSON.stringify([a.reasons, a.nodes]) === JSON.stringify([b.reasons, b.nodes]);

/**
 * Poll `read` (one GET /v1/health) until `r.condition` holds. An error that is not non-retryable
 * (a node restarting, the Webapp not answering yet) counts as "not yet"; a non-retryable one (trust,
 * credentials, inventory) fails at once. Past `r.until`: HealthGateFailed with the last verdict and
 * its reasons, or the last error when no answer came.
 */
export async function waitHealth(
  r: HealthWaitRequest,
  read: () => Promise<HealthBody>,
  deps: PollDeps,
): Promise<HealthWaitResult> {
  let last: HealthSummary | undefined;
  let lastError = '';
  let polls = 0;
  const seen: HealthReading[] = [];
  const note = (at: number, summary: HealthSummary) => {
    const previous = seen[seen.length - 1];
    if (previous && sameReading(previous.summary, summary)) return;
    // Past the cap, the last slot holds the latest reading.
    if (seen.length >= MAX_SEEN) seen.pop();
    seen.push({ at, summary });
  };
  return pollUntil<HealthWaitResult>(
    async (poll) => {
      polls = poll;
      try {
        const summary = summarizeHealth(await read());
        const at = deps.now();
        last = summary;
        lastError = '';
        if (r.record) note(at, summary);
        const details = { poll, what: r.what, summary };
        if (!healthHolds(r.condition, summary)) return { details };
        return {
          done: { summary, metAt: at, polls, ...(r.record ? { seen } : {}) },
          details,
        };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
        lastError = `wabaHealth: ${err instanceof Error ? err.message : String(err)}`;
        return { details: { poll, what: r.what, error: lastError, ...(last ? { summary: last } : {}) } };
      }
    },
    {
      until: r.until,
      ...(r.everyMs !== undefined ? { everyMs: r.everyMs } : {}),
      expired: () => {
        const why = last
          ? `last verdict ${last.verdict}${last.reasons.length ? ` (${last.reasons.join('; ')})` : ''}`
          : `no answer (${lastError})`;
        return nonRetryable(
          HEALTH_GATE_FAILED,
          `health did not reach "${r.what}" within ${r.deadline}: ${why}`,
        );
      },
    },
    deps,
  );
}
