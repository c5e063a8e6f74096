// Activity options shared by the runbooks: one place for retries, timeouts and heartbeats.
import type { ActivityOptions } from '@temporalio/workflow';

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
