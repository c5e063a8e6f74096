// Activity options shared by the runbooks: one place for retries, timeouts and heartbeats.
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { durationMs } from '../../src/model/duration';

/**
 * Every activity that can run for more than a moment heartbeats (activities/remote.ts beats every
 * second; the SDK sends one at most every 0.8 x this timeout). When a worker dies mid-step, the server
 * notices within this long and retries the step on another worker: a crash costs seconds of a
 * maintenance window, not the step's whole start-to-close timeout.
 */
export const HEARTBEAT_TIMEOUT = '5s';

/** Transient failures (a node restarting, an SSH hiccup): retried a few times with backoff. */
export const RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
};

/** SSH and compose steps on one host (uploads, `up -d`, `ps`). */
export const HOST_STEP: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: RETRY,
};

/** Long jobs (log collection). */
export const LONG_STEP: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: RETRY,
};

/** Calls to the Business API (login, register, shards): bounded by their HTTP timeouts. */
export const API_STEP: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: RETRY,
};

/** One health reading (healthCheck): quick, retried while the Webapp restarts. */
export const HEALTH_READ: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
};

/** One health reading per poll, runs started before the waits moved into activities: no retry, the next poll is the retry. */
export const LEGACY_HEALTH_POLL: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
};

/** Resolving the cluster from the worker's inventory (a file read, a secret resolved). */
export const RESOLVE_STEP: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
};

/** Bounded on purpose: a dead webhook costs a run at most three short attempts, then a log line. */
export const NOTIFY_STEP: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
};

/**
 * Asking the schedule named by TemporalScheduledById whether it started this run (one describe, a
 * few seconds more when the run is not listed yet); a busy server's slow describe is tried again.
 */
export const SCHEDULE_CHECK: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
};

/** Asking a cluster's lock for it, or leaving its queue (an update to the lock workflow). */
export const LOCK_ASK: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10 },
};

/** Bounded: a lock that cannot be told still finds out by itself (it watches its holder). */
export const LOCK_RELEASE: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '4s', maximumAttempts: 3 },
};

/** The lock workflow's look at its holder's run (one describe). */
export const LOCK_HOLDER_READ: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '2s', maximumAttempts: 3 },
};

/** Runs as long as the holder holds; heartbeats, so a worker restart moves it to another worker. */
export const LOCK_WATCH: ActivityOptions = {
  startToCloseTimeout: '1d',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', maximumInterval: '10s' },
  cancellationType: ActivityCancellationType.TRY_CANCEL,
};

/** Past the deadline, a waiting activity still needs time for its last poll (an HTTP or `ps` timeout). */
const WAIT_MARGIN_MS = 60_000;

/**
 * Options of an activity that waits up to `deadline` by polling: it heartbeats on every poll, so a
 * dead worker is noticed within the heartbeat timeout; a retried attempt gets what is left of the
 * deadline (the request carries it as an instant).
 */
export function waitOptions(deadline: string): ActivityOptions {
  return {
    startToCloseTimeout: durationMs(deadline) + WAIT_MARGIN_MS,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 3 },
  };
}

/** The dbupgrade job's wait: the whole of it, retries after a worker crash included, within `timeout`. */
export function jobWaitOptions(timeout: string): ActivityOptions {
  return {
    scheduleToCloseTimeout: timeout,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
  };
}
