// The windows a mediaChown runs in: a maintenance window (an upgrade's), or one that opened at the
// run's start and recurs every `resumeAfter`; when it closes, the run continues as new.
import { ApplicationFailure, continueAsNew, sleep, workflowInfo } from '@temporalio/workflow';
import { durationMs } from '../../src/model/duration';
import { INVALID_INPUT } from '../../src/model/errors';
import { MEDIA_WINDOW_FIELDS, type MediaChownInput } from '../../src/model/inputs';
import {
  type MaintenanceWindow,
  nextOpening,
  type Opening,
  recurringWindowProblems,
  windowState,
} from '../../src/model/window';
import type { RunNotifier } from '../lib/notify';
import type { Progress } from '../lib/progress';

/** The mediaChown workflow, as continueAsNew starts it again. */
type MediaChownWorkflow = (raw: unknown, runs?: number) => Promise<unknown>;

/**
 * The opening of the maintenance window the chown may run in: the current one, or the next one
 * after waiting for it (durable timers; `status` says when it opens).
 */
export async function maintenanceOpening(
  window: MaintenanceWindow,
  progress: Progress,
  notifier: RunNotifier,
): Promise<Opening> {
  for (;;) {
    const w = windowState(Date.now(), window);
    if (w.inside) return { opensAt: w.opensAt, closesAt: w.closesAt };
    progress.stage(`waiting for window opening at ${new Date(w.opensAt).toISOString()}`);
    notifier.waitingForWindow(w.opensAt);
    await sleep(w.opensAt - Date.now());
  }
}

/**
 * This run's window, when `windowEnd` is given: it opened at `notBefore` (a follow-up) or at the
 * run's start (deterministic: the start event's time), and recurs every `resumeAfter`, which must
 * be longer than it.
 */
export function chownWindow(input: MediaChownInput): Opening | undefined {
  if (!input.windowEnd) return undefined;
  const opening = {
    opensAt: input.notBefore ? Date.parse(input.notBefore) : workflowInfo().runStartTime.getTime(),
    closesAt: Date.parse(input.windowEnd),
  };
  const problems = recurringWindowProblems(opening, durationMs(input.resumeAfter), MEDIA_WINDOW_FIELDS).map(
    (p) => `${p.path}: ${p.message}`,
  );
  if (problems.length === 0) return opening;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid mediaChown input: ${problems.join('; ')}`,
    details: [problems],
  });
}

/**
 * The window closed with `left` still to do: a follow-up run (continue-as-new, `runs` + 1) waits
 * for the next opening: of the maintenance window, or of `window` recurring every resumeAfter.
 */
export async function resumeInNextWindow(
  input: MediaChownInput,
  window: Opening | undefined,
  runs: number,
  progress: Progress,
  left: string,
): Promise<never> {
  if (input.window) {
    // The follow-up run waits for the window's next opening (the same input).
    const next = windowState(Date.now(), input.window);
    progress.stage(
      `window closed: ${left}; resuming at the next opening ${new Date(next.opensAt).toISOString()}`,
    );
    return await continueAsNew<MediaChownWorkflow>(input, runs + 1);
  }
  // The window recurs every resumeAfter: the follow-up run waits for the next opening, as long as this one.
  if (!window) throw new Error('no window to resume in');
  const next = nextOpening(window, durationMs(input.resumeAfter), Date.now());
  const notBefore = new Date(next.opensAt).toISOString();
  const windowEnd = new Date(next.closesAt).toISOString();
  progress.stage(`window closed: ${left}; resuming in the window ${notBefore} to ${windowEnd}`);
  return await continueAsNew<MediaChownWorkflow>({ ...input, notBefore, windowEnd }, runs + 1);
}
