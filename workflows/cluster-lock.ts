// The lock of one cluster: one disruptive run at a time (docs/approvals.md "One disruptive run per cluster").
// A long-lived workflow (`lock/<cluster>`), started by the first run that asks (update-with-start
// from an activity). It grants the lock to one run, queues runs that want to wait (first come,
// first served) and refuses the others; it records who holds it and answers `holder`, `queue` and
// `grants` queries. It frees the lock when the holder's run ends, whichever way: the run says so
// (`release`, from its finally), or the lock finds out (it watches the holder's workflow through
// an activity that describes it every 2 s, so a terminated or timed-out holder is released too).
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type AcquireAnswer,
  type AcquireRequest,
  type ClusterLockInput,
  GRANT_LOG_SIZE,
  type HolderSeen,
  type LockGrant,
  type LockHolder,
  type LockRun,
  type LockWaiter,
} from '../src/model/cluster-lock';
import {
  AcquireRequestSchema,
  ClusterLockInputSchema,
  checkLockMessage,
  LOCK_QUEUE_MAX,
  LockRunSchema,
} from '../src/model/cluster-lock-check';
import { INVALID_INPUT } from '../src/model/errors';
import { clean } from '../src/model/validate';
import {
  acquireUpdate,
  grantedSignal,
  grantsQuery,
  holderQuery,
  leaveUpdate,
  queueQuery,
  releaseUpdate,
  waitingSignal,
} from './api';
import { LOCK_HOLDER_READ, LOCK_WATCH } from './lib/activity-options';
import { failureText } from './lib/failure-text';

const { lockHolderState } = proxyActivities<Activities>(LOCK_HOLDER_READ);
const { watchLockHolder } = proxyActivities<Activities>(LOCK_WATCH);

const DEFAULT_CONTINUE_AFTER_GRANTS = 100;
/** Continue as new well before the server's limits (each grant costs a few dozen events). */
const MAX_HISTORY_EVENTS = 5_000;

/** The same chain of runs: one workflow id and the first run of its chain. */
const sameChain = (a: LockRun, b: LockRun) => a.workflowId === b.workflowId && a.firstRunId === b.firstRunId;
const runOf = (r: LockRun): LockRun => ({
  workflowId: r.workflowId,
  runId: r.runId,
  firstRunId: r.firstRunId,
  runbook: r.runbook,
});
/**
 * Requests come from this project's activities, but anyone with namespace access can send one:
 * anything else is refused in the Update's validator, so it never enters the lock's history.
 */
function validator(what: string, schema: typeof LockRunSchema | typeof AcquireRequestSchema) {
  return (req: unknown) => {
    const checked = checkLockMessage(schema, req);
    if (!checked.ok) throw new Error(`${what}: ${checked.problems}`);
  };
}

export async function clusterLock(raw: ClusterLockInput): Promise<void> {
  // The start input is untrusted too (anyone may start `lock/<cluster>` first): refuse it whole.
  const checked = checkLockMessage(ClusterLockInputSchema, raw);
  if (!checked.ok)
    throw ApplicationFailure.create({
      type: INVALID_INPUT,
      nonRetryable: true,
      message: `the cluster lock's input is refused: ${checked.problems}`,
    });
  const input: ClusterLockInput = checked.value;
  const { cluster } = input;
  let holder: LockHolder | undefined = input.holder;
  const queue: LockWaiter[] = [...(input.queue ?? [])];
  const grants: LockGrant[] = [...(input.grants ?? [])];
  let grantedThisRun = 0;
  const continueAfter = input.continueAfterGrants ?? DEFAULT_CONTINUE_AFTER_GRANTS;
  /** Bumped on every change the main loop must look at. */
  let changes = 0;
  /** Signals to runs still in flight (waited for before continuing as new). */
  const sending = new Set<Promise<void>>();
  let watch: { key: string; scope: CancellationScope } | undefined;
  let verifying: Promise<void> | undefined;

  const now = () => new Date().toISOString();
  const changed = () => {
    changes += 1;
  };

  setHandler(holderQuery, () => holder ?? null);
  setHandler(queueQuery, () => queue);
  setHandler(grantsQuery, () => grants);

  /** Send a signal to a run; a run that is gone is dropped from the queue (or the lock). */
  const send = (to: LockRun, fn: (h: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>) => {
    const sent = fn(getExternalWorkflowHandle(to.workflowId, to.runId))
      .catch((err: unknown) => {
        log.info(`${to.workflowId} did not take the lock's signal: ${failureText(err)}`);
        const i = queue.findIndex((w) => sameChain(w, to));
        if (i >= 0) queue.splice(i, 1);
        if (holder && sameChain(holder, to)) free(`gone: ${clean(failureText(err), 80)}`);
        changed();
      })
      .finally(() => sending.delete(sent));
    sending.add(sent);
  };

  /** Tell every waiting run who holds the lock and its place in the queue. */
  const tellWaiters = () => {
    if (!holder) return;
    const current = holder;
    queue.forEach((w, i) => {
      send(w, (h) => h.signal(waitingSignal, { holder: current, position: i + 1 }));
    });
  };

  const grant = (run: LockRun, queuedSince?: string): LockHolder => {
    const at = now();
    holder = { ...runOf(run), since: at };
    grantedThisRun += 1;
    grants.push({
      workflowId: run.workflowId,
      runId: run.runId,
      runbook: run.runbook,
      grantedAt: at,
      waitedMs: queuedSince ? Date.parse(at) - Date.parse(queuedSince) : 0,
    });
    if (grants.length > GRANT_LOG_SIZE) grants.splice(0, grants.length - GRANT_LOG_SIZE);
    log.info(`lock of cluster ${cluster} granted to ${run.runbook} (workflow ${run.workflowId})`);
    changed();
    return holder;
  };

  /** The holder is done: log it, and hand the lock to the first waiting run. */
  const free = (how: string) => {
    if (!holder) return;
    const h = holder;
    const entry = [...grants].reverse().find((g) => g.workflowId === h.workflowId && !g.releasedAt);
    if (entry) Object.assign(entry, { releasedAt: now(), how });
    log.info(`lock of cluster ${cluster} released by ${h.runbook} (workflow ${h.workflowId}): ${how}`);
    holder = undefined;
    const next = queue.shift();
    if (next) {
      const granted = grant(next, next.since);
      send(next, (x) => x.signal(grantedSignal, granted));
      tellWaiters();
    }
    changed();
  };

  /** What the holder's watch or a look found: free the lock when the holder's run ended. */
  const seen = (h: LockHolder, s: HolderSeen) => {
    if (!holder || !sameChain(holder, h)) return;
    // `released`: the run said it was ending; `closed`: the lock found out (terminated, timed out).
    if (s.kind === 'ended') free(`${holder.ending ? 'released' : 'closed'}: ${s.status}`);
    else if (s.kind === 'continued') {
      holder = { ...holder, runId: s.runId };
      delete holder.ending;
      changed();
    }
  };

  /** One look at the holder before refusing or queueing a run (shared by concurrent requests). */
  const verifyHolder = async () => {
    if (!verifying) {
      const h = holder;
      verifying = (async () => {
        if (!h) return;
        try {
          seen(h, await lockHolderState({ workflowId: h.workflowId, firstRunId: h.firstRunId }));
        } catch (err) {
          // No answer: the holder counts as running (refusing is the safe side).
          log.warn(`cannot look at lock holder ${h.workflowId}: ${failureText(err)}`);
        }
      })().finally(() => {
        verifying = undefined;
      });
    }
    await verifying;
  };

  /** The answer for a run the lock already knows (a retried request, a new run of the holder's id). */
  const known = (req: AcquireRequest): AcquireAnswer | undefined => {
    if (holder && holder.workflowId === req.workflowId) {
      if (holder.firstRunId !== req.firstRunId) {
        // One workflow id has one open chain at a time: the holder's chain has ended.
        free('replaced by a new run of the same workflow id');
        return known(req);
      }
      if (holder.runId !== req.runId) holder = { ...holder, runId: req.runId }; // a reset run
      return { granted: true, holder };
    }
    const i = queue.findIndex((w) => w.workflowId === req.workflowId);
    if (i < 0 || !holder) return undefined;
    const w = queue[i] as LockWaiter;
    if (w.firstRunId !== req.firstRunId) queue[i] = { ...runOf(req), since: now() };
    return { granted: false, holder, position: i + 1 };
  };

  setHandler(
    acquireUpdate,
    async (req) => {
      for (let looked = false; ; looked = true) {
        const answer = known(req);
        if (answer) return answer;
        if (!holder) return { granted: true, holder: grant(req) };
        if (looked) break;
        await verifyHolder();
      }
      // A full queue refuses like a busy cluster: a flood of requests cannot grow the state unbounded.
      if (!req.wait || queue.length >= LOCK_QUEUE_MAX) return { granted: false, holder, position: 0 };
      queue.push({ ...runOf(req), since: now() });
      changed();
      return { granted: false, holder, position: queue.length };
    },
    { validator: validator('acquire', AcquireRequestSchema) },
  );

  setHandler(
    leaveUpdate,
    (run) => {
      if (holder && sameChain(holder, run)) return 'holder';
      const i = queue.findIndex((w) => sameChain(w, run));
      if (i < 0) return 'absent';
      queue.splice(i, 1);
      tellWaiters();
      changed();
      return 'left';
    },
    { validator: validator('leave', LockRunSchema) },
  );

  setHandler(
    releaseUpdate,
    (run) => {
      if (holder && sameChain(holder, run)) {
        // Free once this run has closed; kept if it continues as new (the chain still holds it).
        holder = { ...holder, ending: run.runId };
        changed();
        return 'ending';
      }
      const i = queue.findIndex((w) => sameChain(w, run));
      if (i < 0) return 'absent';
      queue.splice(i, 1);
      tellWaiters();
      changed();
      return 'left';
    },
    { validator: validator('release', LockRunSchema) },
  );

  /** Keep one watch on the current holder (restarted when the holder or its ending run changes). */
  const ensureWatch = () => {
    const h = holder;
    const key = h ? `${h.workflowId} ${h.firstRunId} ${h.ending ?? ''}` : '';
    if (watch?.key === key) return;
    watch?.scope.cancel();
    watch = undefined;
    if (!h) return;
    const scope = new CancellationScope();
    const mine = { key, scope };
    watch = mine;
    scope
      .run(() =>
        watchLockHolder({
          workflowId: h.workflowId,
          firstRunId: h.firstRunId,
          ...(h.ending ? { endingRunId: h.ending } : {}),
        }),
      )
      .then(
        (s) => {
          if (watch === mine) watch = undefined;
          seen(h, s);
          changed();
        },
        (err: unknown) => {
          if (watch === mine) watch = undefined;
          if (!isCancellation(err)) {
            log.warn(`watch of lock holder ${h.workflowId} failed: ${failureText(err)}`);
            changed();
          }
        },
      );
  };

  const shouldContinue = () =>
    grantedThisRun >= continueAfter ||
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > MAX_HISTORY_EVENTS;

  for (;;) {
    ensureWatch();
    const before = changes;
    await condition(() => changes !== before || shouldContinue());
    if (shouldContinue()) break;
  }
  // Hand the state to a fresh run: let running requests finish and signals go out first.
  await condition(() => allHandlersFinished() && sending.size === 0 && !verifying);
  watch?.scope.cancel();
  await continueAsNew<typeof clusterLock>({
    cluster,
    ...(holder ? { holder } : {}),
    queue,
    grants,
    continueAfterGrants: continueAfter,
  });
}
