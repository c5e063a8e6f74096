// Seed section E: after upgrading from 2.29.1/2.29.2 to 2.29.3+, give the media files back to root,
// in the background, inside the Webapp container; resumable across maintenance windows.
import {
  ApplicationFailure,
  ContinueAsNew,
  continueAsNew,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { chownPollMs, type MediaChownProgress } from '../src/model/chown-progress';
import { mediaDirOf, type OperableCluster } from '../src/model/cluster';
import { durationMs } from '../src/model/duration';
import { INVALID_INPUT, MEDIA_CHOWN_FAILED } from '../src/model/errors';
import { MEDIA_WINDOW_FIELDS, type MediaChownInput, MediaChownInput as Schema } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp } from '../src/model/results';
import { shellQuote } from '../src/model/shell';
import {
  type MaintenanceWindow,
  nextOpening,
  type Opening,
  recurringWindowProblems,
  windowState,
} from '../src/model/window';
import { type PlanStep, planQuery } from './api';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { plainRun } from './lib/gated-run';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep } from './lib/plan';
import { validateInput } from './lib/validate';

export interface MediaChownResult {
  cluster: string;
  inventory: InventoryStamp;
  host: string;
  total: number;
  changed: number;
  /** Always `completed`: when the window closes the run continues as new instead of returning. */
  outcome: 'completed';
  /** Runs it took (1 + follow-ups after each window closed). */
  runs: number;
}

export async function mediaChown(raw: unknown, runs = 1): Promise<MediaChownResult> {
  const input = validateInput('mediaChown', Schema, raw) as MediaChownInput;
  const window = chownWindow(input);
  const { progress, notifier, resolve } = plainRun('mediaChown', input);
  let plan: PlanStep[] = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);
  try {
    const resolved = await resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const mediaDir = mediaDirOf(cluster);
    // Every operable cluster has a webapp host (the inventory's requirements).
    const web = hostsWithRole(cluster, 'webapp')[0] as (typeof cluster.hosts)[number];
    const dirs = ['incoming', 'outgoing', 'shared'].map((d) => `${mediaDir}/${d}`);
    const w = input.window;
    plan = [
      resolveStep(cluster.name, resolved.resolution),
      ...(w
        ? [
            {
              stage: 'window',
              note: `${w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}: the chown runs only inside it, stops when it closes and resumes at the next opening`,
            },
          ]
        : []),
      {
        stage: 'chown',
        host: web.name,
        command: `docker exec -d <waweb container> chown -R root ${dirs.map(shellQuote).join(' ')}`,
        note: 'only files not yet owned by root; detached',
      },
    ];
    const done = (r: Omit<MediaChownResult, 'cluster' | 'inventory'>): MediaChownResult => ({
      cluster: cluster.name,
      inventory: inventoryOf(resolved.resolution),
      ...r,
    });
    await holdClusterLock(progress, 'mediaChown', cluster.name, input);
    if (input.notBefore && Date.parse(input.notBefore) > Date.now()) {
      progress.stage(`waiting until ${input.notBefore} to resume`);
      notifier.waitingForWindow(input.notBefore);
      await sleep(Date.parse(input.notBefore) - Date.now());
    }
    // A maintenance window (an upgrade's): wait for an opening; this run stops when it closes.
    const opening: Opening | undefined = input.window
      ? await maintenanceOpening(input.window, progress, notifier)
      : window;
    const resumeInNextWindow = async (left: string): Promise<never> => {
      if (input.window) {
        // The follow-up run waits for the window's next opening (the same input).
        const next = windowState(Date.now(), input.window);
        progress.stage(
          `window closed: ${left}; resuming at the next opening ${new Date(next.opensAt).toISOString()}`,
        );
        return await continueAsNew<typeof mediaChown>(input, runs + 1);
      }
      // The window recurs every resumeAfter: the follow-up run waits for the next opening, as long as this one.
      if (!window) throw new Error('no window to resume in');
      const next = nextOpening(window, durationMs(input.resumeAfter), Date.now());
      const notBefore = new Date(next.opensAt).toISOString();
      const windowEnd = new Date(next.closesAt).toISOString();
      progress.stage(`window closed: ${left}; resuming in the window ${notBefore} to ${windowEnd}`);
      return await continueAsNew<typeof mediaChown>({ ...input, notBefore, windowEnd }, runs + 1);
    };
    // A follow-up that starts after its window already closed (a worker down for long) waits for the next.
    if (window && Date.now() >= window.closesAt) return await resumeInNextWindow('not started');
    const version = cluster.version;
    const variant = (await detectCompose(ref, cluster, [web])).get(web.name) ?? 'v1';
    progress.stage('chown');
    let job = await hostActs.startMediaChown({ cluster: ref, host: web.name, version, variant });
    const first = job.before;
    if (first.remaining === 0) {
      // Counted just now: nothing to change (a re-run). A chown the activity started has nothing to do.
      progress.host(web.name, `${first.total}/${first.total} files owned by root`);
      progress.stage('done: nothing to change, every media file was already owned by root');
      return await notifier.succeeded(
        done({ host: web.name, total: first.total, changed: 0, outcome: 'completed', runs }),
        `nothing to change: every media file on ${web.name} was already owned by root (${first.total} files)`,
      );
    }
    const startedAt = Date.now();
    // Polled less often the larger the tree (2 s to 60 s); each poll reads what the chown reported.
    const pollMs = chownPollMs(first.total);
    let restarts = 0;
    let last: MediaChownProgress = await hostActs.mediaChownProgress({
      cluster: ref,
      host: web.name,
      container: job.container,
    });
    for (;;) {
      if (last.exitCode !== null) break;
      if (opening && Date.now() >= opening.closesAt) {
        await hostActs.stopMediaChown({ cluster: ref, host: web.name, container: job.container });
        return await resumeInNextWindow(`${last.remaining} files left`);
      }
      if (last.state === 'gone') {
        // No exit code and no process: the container restarted under it. Start it again (it
        // resumes where it left off), a few times at most.
        if (restarts >= MAX_RESTARTS)
          throw ApplicationFailure.create({
            type: MEDIA_CHOWN_FAILED,
            nonRetryable: true,
            message: `the chown on ${web.name} stopped without an exit code ${restarts + 1} times (the Webapp container restarted?); ${last.remaining} files not owned by root`,
          });
        restarts++;
        progress.host(web.name, `chown stopped without an exit code: starting it again (${restarts})`);
        job = await hostActs.startMediaChown({ cluster: ref, host: web.name, version, variant });
        if (job.before.remaining === 0) {
          last = { total: job.before.total, remaining: 0, done: job.before.total, exitCode: 0 };
          break;
        }
      } else {
        await sleep(opening ? Math.max(1, Math.min(pollMs, opening.closesAt - Date.now())) : pollMs);
      }
      last = await hostActs.mediaChownProgress({ cluster: ref, host: web.name, container: job.container });
      const rate = (first.remaining - last.remaining) / Math.max(1, (Date.now() - startedAt) / 1000);
      const eta = rate > 0 ? `${Math.ceil(last.remaining / rate)} s left` : 'estimating';
      progress.host(web.name, `${last.done}/${last.total} files owned by root, ${eta}`);
    }
    if (last.exitCode !== 0 || last.remaining > 0) {
      throw ApplicationFailure.create({
        type: MEDIA_CHOWN_FAILED,
        nonRetryable: true,
        message: `chown on ${web.name} exited ${last.exitCode} with ${last.remaining} files not owned by root`,
      });
    }
    progress.stage('done: every media file is owned by root');
    return await notifier.succeeded(
      done({ host: web.name, total: last.total, changed: first.remaining, outcome: 'completed', runs }),
      `every media file on ${web.name} is owned by root (${first.remaining} of ${last.total} changed)`,
    );
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}

/** A chown that vanished without an exit code is started again at most this often per run. */
const MAX_RESTARTS = 3;

/**
 * The opening of the maintenance window the chown may run in: the current one, or the next one
 * after waiting for it (durable timers; `status` says when it opens).
 */
async function maintenanceOpening(
  window: MaintenanceWindow,
  progress: ReturnType<typeof plainRun>['progress'],
  notifier: ReturnType<typeof plainRun>['notifier'],
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
function chownWindow(input: MediaChownInput): Opening | undefined {
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
