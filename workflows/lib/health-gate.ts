import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../src/spec/approvals';
import type { ApiSpec } from '../../src/spec/cluster';
import { type HealthSummary, summarizeHealth } from '../../src/spec/health';
import { failureText } from './failure-text';

const { wabaHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

export const HEALTH_GATE_FAILED = 'HealthGateFailed';

/**
 * Poll GET /v1/health every `every` until `ok` holds, within `deadline`; fail with the last verdict
 * and reasons. Transient API errors while nodes restart count as "not yet".
 */
export async function waitForHealth(
  req: { cluster: string; api: ApiSpec },
  what: string,
  ok: (s: HealthSummary) => boolean,
  deadline: string,
  onPoll?: (s: HealthSummary) => void,
  every = '3s',
): Promise<HealthSummary> {
  const until = Date.now() + durationMs(deadline);
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
    await sleep(every);
  }
}
