// The activities of the cluster lock (workflows/cluster-lock.ts): the runs' side (acquire with
// update-with-start, leave the queue, release) and the lock's side (is the holder still running?),
// all through the worker's own client. A workflow cannot update another workflow, hence activities.
import { Context } from '@temporalio/activity';
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { DEFAULT_TASK_QUEUE } from '../src/config';
import {
  type AcquireAnswer,
  type AcquireRequest,
  CLUSTER_LOCK_WORKFLOW,
  type ClusterLockInput,
  type HolderSeen,
  type LeaveAnswer,
  type LockRun,
  type ReleaseAnswer,
} from '../src/model/cluster-lock';
import { LOCK_REQUEST_REFUSED, nonRetryable } from '../src/model/errors';
import { acquireUpdate, leaveUpdate, releaseUpdate } from '../workflows/api';

/**
 * The lock's workflow id: `lock/<cluster>` on the default task queue. Workers on another task queue
 * have their own inventory, so their cluster names are their own: `lock/<cluster>@<task queue>`
 * (every test worker polls a fresh task queue, so tests never share a lock).
 */
export function clusterLockId(cluster: string, taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? `lock/${cluster}` : `lock/${cluster}@${taskQueue}`;
}

/** How often the lock looks at a holder that has not said it is ending, and at one that has. */
export const HOLDER_POLL_MS = 2_000;
export const ENDING_POLL_MS = 200;

export interface HolderRef {
  workflowId: string;
  firstRunId: string;
  /** The run that said it is ending: report when it has closed, or continued as new. */
  endingRunId?: string;
}

/**
 * One look at the holder's workflow id (its latest run): ended (closed, gone, or a new chain under
 * the same id), continued (the ending run continued as new), or running.
 */
async function seeHolder(client: Client, h: HolderRef): Promise<HolderSeen> {
  let d: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>;
  try {
    d = await client.workflow.getHandle(h.workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'ended', status: 'NOT_FOUND' };
    throw err;
  }
  const first = d.raw.workflowExecutionInfo?.firstRunId;
  if (first && first !== h.firstRunId) return { kind: 'ended', status: 'REPLACED' };
  if (d.status.name !== 'RUNNING') return { kind: 'ended', status: d.status.name };
  if (h.endingRunId && d.runId !== h.endingRunId) return { kind: 'continued', runId: d.runId };
  return { kind: 'running', runId: d.runId };
}

export function clusterLockActivities() {
  const lockHandle = (cluster: string) => {
    const { client, info } = Context.current();
    return client.workflow.getHandle(clusterLockId(cluster, info.taskQueue));
  };
  /** An update of a lock that does not exist (never started, or terminated) finds nothing to do. */
  const updateLock = async <T>(
    cluster: string,
    update: UpdateDefinition<T, [LockRun]>,
    run: LockRun,
    absent: T,
  ): Promise<T> => {
    try {
      return await lockHandle(cluster).executeUpdate(update, { args: [run] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return absent;
      throw refused(cluster, err);
    }
  };
  return {
    /** Join the cluster's lock (started here when it is not running): granted, queued or refused. */
    async acquireClusterLock(a: { cluster: string; request: AcquireRequest }): Promise<AcquireAnswer> {
      const { client, info } = Context.current();
      const input: ClusterLockInput = { cluster: a.cluster };
      try {
        return await client.workflow.executeUpdateWithStart(acquireUpdate, {
          args: [a.request],
          startWorkflowOperation: new WithStartWorkflowOperation<(i: ClusterLockInput) => Promise<void>>(
            CLUSTER_LOCK_WORKFLOW,
            {
              workflowId: clusterLockId(a.cluster, info.taskQueue),
              taskQueue: info.taskQueue,
              args: [input],
              workflowIdConflictPolicy: 'USE_EXISTING',
              staticSummary: `lock of cluster ${a.cluster}: one disruptive run at a time`,
            },
          ),
        });
      } catch (err) {
        throw refused(a.cluster, err);
      }
    },

    /** Leave the queue (a wait that timed out or was cancelled); `holder` when granted meanwhile. */
    async leaveClusterLock(a: { cluster: string; run: LockRun }): Promise<LeaveAnswer> {
      return updateLock(a.cluster, leaveUpdate, a.run, 'absent');
    },

    /** The run is ending: the lock is free once this run has closed (kept when it continues as new). */
    async releaseClusterLock(a: { cluster: string; run: LockRun }): Promise<ReleaseAnswer> {
      return updateLock(a.cluster, releaseUpdate, a.run, 'absent');
    },

    /** The lock's side: one look at its holder (before refusing or queueing someone). */
    async lockHolderState(h: HolderRef): Promise<HolderSeen> {
      return seeHolder(Context.current().client, h);
    },

    /**
     * The lock's side: watch its holder until it ends (or, for an ending run, continues as new),
     * looking every {@link HOLDER_POLL_MS} (ending: {@link ENDING_POLL_MS}). Heartbeats; a worker
     * restart or a cancel (the holder released) ends the watch.
     */
    async watchLockHolder(h: HolderRef): Promise<HolderSeen> {
      const ctx = Context.current();
      const every = h.endingRunId ? ENDING_POLL_MS : HOLDER_POLL_MS;
      for (;;) {
        try {
          const seen = await seeHolder(ctx.client, h);
          if (seen.kind !== 'running') return seen;
        } catch (err) {
          // The server did not answer this time: look again at the next tick.
          ctx.log.warn(`cannot describe lock holder ${h.workflowId}: ${String(err).slice(0, 200)}`);
        }
        ctx.heartbeat();
        await ctx.sleep(every);
      }
    },
  };
}

/** A request the lock's validator refused is a bug, not a hiccup: do not retry it. */
function refused(cluster: string, err: unknown): unknown {
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  return nonRetryable(
    LOCK_REQUEST_REFUSED,
    `the lock of cluster ${cluster} refused the request: ${err.cause?.message ?? err.message}`,
  );
}
