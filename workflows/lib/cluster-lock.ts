// One disruptive run per cluster, the runs' side: hold the cluster's lock (workflows/cluster-lock.ts)
// from before the first step that touches the cluster until the run ends.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  type AcquireAnswer,
  type LeaveAnswer,
  LOCK_RUN_TEXT_ID_MAX,
  LOCK_WAIT,
  type LockHolder,
  type LockRun,
  lockRunText,
} from '../../src/model/cluster-lock';
import { checkLockMessage, LockHolderSchema, WaitingNoticeSchema } from '../../src/model/cluster-lock-check';
import { durationMs } from '../../src/model/duration';
import { CONCURRENT_RUN } from '../../src/model/errors';
import type { RunbookName } from '../../src/model/runbooks';
import { clean } from '../../src/model/validate';
import { grantedSignal, waitingSignal } from '../api';
import { LOCK_ASK, LOCK_RELEASE } from './activity-options';
import { failureText } from './failure-text';
import type { RunNotifier } from './notify';
import type { Progress } from './progress';

const { acquireClusterLock, leaveClusterLock } = proxyActivities<Activities>(LOCK_ASK);
const { releaseClusterLock: release } = proxyActivities<Activities>(LOCK_RELEASE);

/** Runs started before a wait for the lock was notified to chat sent nothing; the marker says it does. */
export const LOCK_WAIT_NOTIFY_PATCH = 'notify-waiting-for-lock';

/**
 * Anyone with namespace access can signal `clusterLockGranted`, so a waiting run asks the lock
 * itself (the same acquire request again) before it believes a grant. Runs started before took the
 * signal at its word and asked nothing: the marker says this run asks.
 */
export const LOCK_GRANT_CONFIRM_PATCH = 'confirm-lock-grant';

/** The lock this run holds (module state is per run), released when the run ends. */
let held: { cluster: string; runbook: string } | undefined;

/** The input fields that say what a run does when its cluster is busy (src/model/inputs/common.ts). */
export interface ClusterLockOptions {
  /** A dry run changes nothing: it takes no lock. */
  preview?: boolean;
  /** `refuse` (default): stop at once with ConcurrentRun; `wait`: queue for at most `lockWait`. */
  whenBusy?: 'refuse' | 'wait';
  lockWait?: string;
}

/**
 * Before the first step that touches the cluster: take the cluster's lock, or stop with
 * `ConcurrentRun` while another disruptive run holds it, or (whenBusy "wait") wait for it, first
 * come first served, for at most `lockWait`, showing "waiting for <run> on cluster <c>" as the
 * stage. Children of a run share their parent's lock, a run continued as new keeps its first run's
 * lock, and a dry run takes none. A run that queues tells the chat once (`notifier`). Pair with
 * {@link releaseClusterLock} in the run's `finally`.
 */
export async function holdClusterLock(
  progress: Progress,
  runbook: RunbookName,
  cluster: string,
  opts: ClusterLockOptions = {},
  notifier?: RunNotifier,
): Promise<void> {
  const info = workflowInfo();
  if (opts.preview || info.parent) return;
  if (info.continuedFromExecutionRunId) {
    held = { cluster, runbook };
    return;
  }
  const me: LockRun = {
    workflowId: info.workflowId,
    runId: info.runId,
    firstRunId: info.firstExecutionRunId,
    runbook,
  };
  const wait = opts.whenBusy === 'wait';
  let granted = false;
  let holder: LockHolder | undefined;
  const showWaiting = (h: LockHolder, position: number) => {
    holder = h;
    if (granted) return;
    const ahead = position > 1 ? `; ${position - 1} other run${position > 2 ? 's' : ''} before this one` : '';
    progress.stage(`waiting for ${lockRunText(h)} on cluster ${cluster}${ahead}`);
  };
  // Set before asking: the lock may grant (signal) before the answer arrives. A bad or foreign
  // signal is logged and ignored: throwing in a signal handler would fail the workflow task.
  setHandler(grantedSignal, (g) => {
    const problem = grantProblem(g, me);
    if (problem) log.warn(`ignored a clusterLockGranted signal: ${problem}`);
    else granted = true;
  });
  setHandler(waitingSignal, (n) => {
    const checked = checkLockMessage(WaitingNoticeSchema, n);
    if (checked.ok) showWaiting(checked.value.holder, checked.value.position);
    else log.warn(`ignored a clusterLockWaiting signal: ${checked.problems}`);
  });

  const ask = () => acquireClusterLock({ cluster, request: { ...me, wait } });
  let answer: AcquireAnswer;
  try {
    answer = await ask();
  } catch (err) {
    if (isCancellation(err)) await leaveOnCancel(cluster, me);
    throw err;
  }
  if (answer.granted) {
    held = { cluster, runbook };
    return;
  }
  if (!wait) throw busy(cluster, runbook, answer.holder);
  if (!granted) showWaiting(answer.holder, answer.position);
  const lockWait = opts.lockWait ?? LOCK_WAIT.default;
  if (!granted && notifier && patched(LOCK_WAIT_NOTIFY_PATCH))
    notifier.waitingForLock(lockRunText(answer.holder), answer.position - 1, lockWait);
  const waitedFrom = Date.now();
  const deadline = waitedFrom + durationMs(lockWait);
  const waitForGrant = (ms: number) => (ms > 0 ? condition(() => granted, ms) : Promise.resolve(granted));
  /** A grant counts once the lock itself says this run holds it (a forged signal gets no further). */
  const confirmed = async (): Promise<boolean> => {
    if (!patched(LOCK_GRANT_CONFIRM_PATCH)) return true;
    granted = false; // a grant signalled while asking is looked at again
    const again = await ask();
    if (again.granted) return true;
    log.warn(`a clusterLockGranted signal the lock of cluster ${cluster} does not confirm: still waiting`);
    if (again.position === 0) throw busy(cluster, runbook, again.holder);
    showWaiting(again.holder, again.position);
    return false;
  };
  let inTime: boolean;
  try {
    inTime = await waitForGrant(durationMs(lockWait));
    while (inTime && !(await confirmed())) inTime = await waitForGrant(deadline - Date.now());
  } catch (err) {
    // Cancelled, or the lock could not be asked: leave the queue (a grant meanwhile is released).
    await leaveOnCancel(cluster, me);
    throw err;
  }
  if (!inTime && (await leave(cluster, me)) !== 'holder')
    throw busy(cluster, runbook, holder ?? answer.holder, lockWait);
  held = { cluster, runbook };
  progress.stage(
    `lock of cluster ${cluster} granted after waiting ${Math.round((Date.now() - waitedFrom) / 1000)} s`,
  );
}

/**
 * In the run's `finally`: the run is ending, the lock may go to the next run once this run has
 * closed (a run continued as new keeps it). Never throws: the lock also finds out by itself.
 */
export async function releaseClusterLock(): Promise<void> {
  const h = held;
  if (!h) return;
  held = undefined;
  const info = workflowInfo();
  const run: LockRun = {
    workflowId: info.workflowId,
    runId: info.runId,
    firstRunId: info.firstExecutionRunId,
    runbook: h.runbook,
  };
  try {
    // Also when the run is being cancelled.
    await CancellationScope.nonCancellable(() => release({ cluster: h.cluster, run }));
  } catch (err) {
    log.warn(`could not release the lock of cluster ${h.cluster} (it frees itself): ${failureText(err)}`);
  }
}

/** Why a `clusterLockGranted` payload is not a grant of this run's request; undefined when it is. */
function grantProblem(g: unknown, me: LockRun): string | undefined {
  const checked = checkLockMessage(LockHolderSchema, g);
  if (!checked.ok) return checked.problems;
  const h = checked.value;
  const mine = h.workflowId === me.workflowId && h.runId === me.runId && h.firstRunId === me.firstRunId;
  return mine && h.runbook === me.runbook ? undefined : `it grants ${lockRunText(h)}, not this run`;
}

/** Cancelled while asking or waiting: leave the queue; a lock granted meanwhile is freed by the finally. */
async function leaveOnCancel(cluster: string, run: LockRun): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    if ((await leave(cluster, run)) === 'holder') held = { cluster, runbook: run.runbook };
  });
}

async function leave(cluster: string, run: LockRun): Promise<LeaveAnswer> {
  try {
    return await leaveClusterLock({ cluster, run });
  } catch (err) {
    log.warn(`could not leave the queue of cluster ${cluster}: ${failureText(err)}`);
    return 'absent';
  }
}

function busy(cluster: string, runbook: string, holder: LockHolder, waited?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: CONCURRENT_RUN,
    nonRetryable: true,
    message:
      `another run is changing cluster ${cluster}: ${lockRunText(holder)}` +
      (waited ? `, still after waiting ${waited} (lockWait)` : '') +
      `; this ${runbook} run stopped before doing anything. Wait for it to finish or cancel it, then start again`,
    // Cleaned and cut like the message: a lock started by older code may hold an unchecked run.
    details: [
      [
        {
          workflowId: clean(String(holder.workflowId), LOCK_RUN_TEXT_ID_MAX),
          runbook: clean(String(holder.runbook), 40),
        },
      ],
    ],
  });
}
