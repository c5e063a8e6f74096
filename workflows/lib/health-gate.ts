import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../src/spec/duration';
import { type HealthSummary, summarizeHealth } from '../../src/spec/health';
import type { ClusterRef } from '../../src/spec/inventory';
import { failureText } from './failure-text';

// One attempt per poll: the gate's own loop is the retry (every second at first), so a Webapp that
// is restarting is asked again in 1 s, not after an activity backoff.
const { wabaHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

export const HEALTH_GATE_FAILED = 'HealthGateFailed';

/**
 * Poll GET /v1/health (every `every`, default {@link pollInterval}) until `ok` holds, within `deadline`; fail with the last verdict
 * and reasons. Transient API errors while nodes restart count as "not yet".
 */
export async function waitForHealth(
  req: { cluster: ClusterRef },
  what: string,
  ok: (s: HealthSummary) => boolean,
  deadline: string,
  onPoll?: (s: HealthSummary) => void,
  every?: string,
): Promise<HealthSummary> {
  const started = Date.now();
  const until = started + durationMs(deadline);
  let last: HealthSummary | undefined;
  let lastError = '';
  for (;;) {
    try {
      last = summarizeHealth(await wabaHealth(req));
      onPoll?.(last);
      if (ok(last)) return last;
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
    await sleep(every ?? pollInterval(Date.now() - started));
  }
}

/**
 * Nodes usually settle within seconds of a restart: poll every second at first, so a run notices at
 * once, then every 3 s, so a long wait does not fill the history with polls.
 */
export function pollInterval(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 1_000 : 3_000;
}
