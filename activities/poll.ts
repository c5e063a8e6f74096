// The loop of an activity that waits for something by polling (a health gate, containers running):
// polls at the backoff schedule of src/model/poll.ts (or a fixed interval), returns at the first poll
// that says done, heartbeats with the latest details on every poll (and every second while a poll
// takes long), stops at once when the activity is cancelled, and fails once the deadline has passed.
import { Context } from '@temporalio/activity';
import { pollDelayMs } from '../src/model/poll';

/** What the loop needs from its surroundings: the activity's context, or fakes in unit tests. */
export interface PollDeps {
  now(): number;
  /** Resolves after `ms`; rejects when the activity is cancelled. */
  sleep(ms: number): Promise<void>;
  heartbeat(details: unknown): void;
  /** Rejects when the activity is cancelled (never resolves). */
  cancelled: Promise<never>;
  /** How often the last details are sent again while a poll is slow (default 1 s; 0: never). */
  keepAliveMs?: number;
}

/** The running activity's context as PollDeps. */
export function activityPollDeps(): PollDeps {
  const ctx = Context.current();
  return {
    now: () => Date.now(),
    sleep: (ms) => ctx.sleep(ms),
    heartbeat: (details) => ctx.heartbeat(details),
    cancelled: ctx.cancelled,
  };
}

/** One poll: `{ done }` to stop with a value, or `{ details }` to heartbeat and poll again. */
export type PollOutcome<T> = { done: T; details: unknown } | { done?: undefined; details: unknown };

/**
 * Poll until `once` says done. At least one poll happens, even past `until`; after a poll that is not
 * done at or past `until`, `expired()` is thrown. The pause before the last poll is shortened so it
 * happens at the deadline, not up to an interval after it.
 */
export async function pollUntil<T>(
  once: (poll: number) => Promise<PollOutcome<T>>,
  opts: { until: number; everyMs?: number; expired: () => Error },
  deps: PollDeps,
): Promise<T> {
  const started = deps.now();
  let last: unknown;
  const keepAliveMs = deps.keepAliveMs ?? 1_000;
  const keepAlive = keepAliveMs > 0 ? setInterval(() => deps.heartbeat(last), keepAliveMs) : undefined;
  // A cancellation that arrives while nothing awaits it is still seen at the next race.
  deps.cancelled.catch(() => undefined);
  try {
    for (let poll = 1; ; poll++) {
      const outcome = await Promise.race([once(poll), deps.cancelled]);
      last = outcome.details;
      deps.heartbeat(last);
      if (outcome.done !== undefined) return outcome.done;
      const now = deps.now();
      if (now >= opts.until) throw opts.expired();
      const pause = opts.everyMs ?? pollDelayMs(now - started);
      await Promise.race([deps.sleep(Math.max(0, Math.min(pause, opts.until - now))), deps.cancelled]);
    }
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
}
