/**
 * The cluster lock: one disruptive run per cluster at a time (docs/approvals.md "One disruptive run
 * per cluster"). A long-lived `clusterLock` workflow per cluster holds the lock's state; runs ask
 * it through activities (update-with-start), it answers waiting runs with signals. This file holds
 * the shapes both sides share (its messages are in workflows/api.ts). Workflow-safe: types, names
 * and pure functions only.
 */
import { clean } from './validate';

export const CLUSTER_LOCK_WORKFLOW = 'clusterLock';

/** How a run waits for a busy cluster (the input's `whenBusy` and `lockWait`). */
export const LOCK_WAIT = { default: '1h', min: '1s', max: '24h' } as const;

/**
 * A run as the lock knows it. `firstRunId` names its chain of runs: a run continued as new keeps it
 * (and the lock); a new run under the same workflow id starts a new chain.
 */
export interface LockRun {
  workflowId: string;
  runId: string;
  firstRunId: string;
  runbook: string;
}

export interface LockHolder extends LockRun {
  /** When it got the lock (ISO 8601, the lock's workflow time). */
  since: string;
  /** The run id that said it is ending (`release`): the lock is free once that run has closed. */
  ending?: string;
}

export interface LockWaiter extends LockRun {
  /** When it joined the queue. */
  since: string;
}

/** One grant of the lock, in the `grants` query (the last {@link GRANT_LOG_SIZE}). */
export interface LockGrant {
  workflowId: string;
  runId: string;
  runbook: string;
  grantedAt: string;
  /** How long it waited in the queue (0: the lock was free). */
  waitedMs: number;
  releasedAt?: string;
  /** `released` (the run ended and said so), `closed: TERMINATED` (found out), `replaced`, ... */
  how?: string;
}

export const GRANT_LOG_SIZE = 50;

export interface AcquireRequest extends LockRun {
  /** true: queue when busy (whenBusy "wait"); false: refuse. */
  wait: boolean;
}

export type AcquireAnswer =
  | { granted: true; holder: LockHolder }
  /** `position`: 1 = next in the queue; 0 = refused (not queued). */
  | { granted: false; holder: LockHolder; position: number };

/** What the lock sends a queued run whenever the holder or its place changes. */
export interface WaitingNotice {
  holder: LockHolder;
  position: number;
}

export type LeaveAnswer = 'left' | 'holder' | 'absent';
export type ReleaseAnswer = 'ending' | 'left' | 'absent';

/** The lock workflow's input: its cluster and, after a continue-as-new, the state it carries. */
export interface ClusterLockInput {
  cluster: string;
  holder?: LockHolder;
  queue?: LockWaiter[];
  grants?: LockGrant[];
  /** Continue as new after this many grants in one run (default 100; tests use fewer). */
  continueAfterGrants?: number;
}

/** What the lock's liveness activities find out about a holder. */
export type HolderSeen =
  | { kind: 'running'; runId: string }
  | { kind: 'continued'; runId: string }
  | { kind: 'ended'; status: string };

/** How long a workflow id may be in a message about the lock (ids may be up to 1000 characters). */
export const LOCK_RUN_TEXT_ID_MAX = 200;

/**
 * `upgrade (workflow prod/upgrade)`: how messages name a run. Cleaned and cut (TRUST.md rule 9):
 * the text reaches errors, `status`, the WabaStep search attribute and the chat, and a lock
 * started by older code may still hold a run it never checked.
 */
export const lockRunText = (r: Pick<LockRun, 'runbook' | 'workflowId'>) =>
  `${clean(String(r.runbook), 40)} (workflow ${clean(String(r.workflowId), LOCK_RUN_TEXT_ID_MAX)})`;
