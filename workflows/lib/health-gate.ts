import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  sleep,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../src/model/duration';
import { HEALTH_GATE_FAILED } from '../../src/model/errors';
import { type HealthSummary, summarizeHealth } from '../../src/model/health';
import { type HealthCondition, type HealthWaitResult, healthHolds } from '../../src/model/health-condition';
import type { ClusterRef } from '../../src/model/inventory';
import { LEGACY_HEALTH_POLL, waitOptions } from './activity-options';
import { failureText } from './failure-text';

/**
 * Runs started before the waits moved into activities polled from the workflow (`wabaHealth`, `ps`,
 * then a timer); they replay that way. Runs started since wait in one heartbeating activity each.
 */
export const POLL_IN_ACTIVITY_PATCH = 'waits-poll-in-activity';

/** Did a waiting activity run out of time (every attempt timed out, e.g. its worker kept dying)? */
export const timedOut = (err: unknown): boolean =>
  err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;

/**
 * Wait until the cluster's health satisfies `condition`, within `deadline`; fail with HealthGateFailed
 * naming the last verdict and its reasons. Transient API errors while nodes restart count as "not
 * yet"; a non-retryable one (trust, credentials) fails at once. One `waitWabaHealth` activity polls
 * (src/model/poll.ts: every 250 ms at first, every `every` when given) and returns at the first
 * reading that satisfies it. `onPoll` sees the readings that changed, with the time each was read.
 */
export async function waitForHealth(
  req: { cluster: ClusterRef },
  what: string,
  condition: HealthCondition,
  deadline: string,
  onPoll?: (s: HealthSummary, at: number) => void,
  every?: string,
): Promise<HealthSummary> {
  return (await healthGate(req, what, condition, deadline, onPoll, every)).summary;
}

/** {@link waitForHealth}, with when the satisfying reading was taken (`metAt`) and the polls. */
export async function healthGate(
  req: { cluster: ClusterRef },
  what: string,
  condition: HealthCondition,
  deadline: string,
  onPoll?: (s: HealthSummary, at: number) => void,
  every?: string,
): Promise<HealthWaitResult> {
  if (!patched(POLL_IN_ACTIVITY_PATCH))
    return pollFromWorkflow(req, what, condition, deadline, onPoll, every);
  const until = Date.now() + durationMs(deadline);
  const { waitWabaHealth } = proxyActivities<Activities>(waitOptions(deadline));
  let result: HealthWaitResult;
  try {
    result = await waitWabaHealth({
      cluster: req.cluster,
      what,
      condition,
      deadline,
      until,
      ...(every ? { everyMs: durationMs(every) } : {}),
      ...(onPoll ? { record: true } : {}),
    });
  } catch (err) {
    // The gate's own failure, as the run reports it (not wrapped in "Activity task failed").
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === HEALTH_GATE_FAILED)
      throw ApplicationFailure.create({
        type: HEALTH_GATE_FAILED,
        nonRetryable: true,
        message: cause.message,
      });
    if (timedOut(err) && Date.now() >= until)
      throw ApplicationFailure.create({
        type: HEALTH_GATE_FAILED,
        nonRetryable: true,
        message: `health did not reach "${what}" within ${deadline}: no answer (${failureText(err)})`,
      });
    throw err;
  }
  for (const r of result.seen ?? []) onPoll?.(r.summary, r.at);
  return result;
}

/** Runs started before POLL_IN_ACTIVITY_PATCH: one `wabaHealth` per poll, a timer in between. */
const { wabaHealth } = proxyActivities<Activities>(LEGACY_HEALTH_POLL);

async function pollFromWorkflow(
  req: { cluster: ClusterRef },
  what: string,
  condition: HealthCondition,
  deadline: string,
  onPoll?: (s: HealthSummary, at: number) => void,
  every?: string,
): Promise<HealthWaitResult> {
  const started = Date.now();
  const until = started + durationMs(deadline);
  let last: HealthSummary | undefined;
  let lastError = '';
  for (let polls = 1; ; polls++) {
    try {
      last = summarizeHealth(await wabaHealth(req));
      onPoll?.(last, Date.now());
      if (healthHolds(condition, last)) return { summary: last, metAt: Date.now(), polls };
    } catch (err) {
      if (err instanceof Error && (err as { cause?: { nonRetryable?: boolean } }).cause?.nonRetryable)
        throw err;
      lastError = failureText(err);
    }
    if (Date.now() >= until) {
      const seen = last
        ? `last verdict ${last.verdict}${last.reasons.length ? ` (${last.reasons.join('; ')})` : ''}`
        : `no answer (${lastError})`;
      throw ApplicationFailure.create({
        type: HEALTH_GATE_FAILED,
        nonRetryable: true,
        message: `health did not reach "${what}" within ${deadline}: ${seen}`,
      });
    }
    await sleep(every ?? legacyPollInterval(Date.now() - started));
  }
}

/** The schedule of runs started before POLL_IN_ACTIVITY_PATCH: every second for 30 s, then every 3 s. */
export function legacyPollInterval(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 1_000 : 3_000;
}
