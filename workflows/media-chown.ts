// Seed section E: after upgrading from 2.29.1/2.29.2 to 2.29.3+, give the media files back to root,
// in the background, inside the Webapp container; resumable across maintenance windows.
import { ApplicationFailure, CancellationScope, isCancellation, patched, sleep } from '@temporalio/workflow';
import { chownPollMs, type MediaChownProgress } from '../src/model/chown-progress';
import { type HostSpec, mediaDirOf, type OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { MEDIA_CHOWN_FAILED } from '../src/model/errors';
import { type MediaChownInput, MediaChownInput as Schema } from '../src/model/inputs';
import { type ClusterRef, inventoryOf, type Resolution } from '../src/model/inventory';
import type { InventoryStamp } from '../src/model/results';
import { shellQuote } from '../src/model/shell';
import type { Opening } from '../src/model/window';
import type { PlanStep } from './api';
import { defineRunbook } from './lib/define-runbook';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep } from './lib/plan';
import type { Progress } from './lib/progress';
import { chownWindow, maintenanceOpening, resumeInNextWindow } from './media-chown/window';

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

/** A chown that vanished without an exit code is started again at most this often per run. */
const MAX_RESTARTS = 3;

/**
 * Runs started before a cancelled mediaChown stopped its chown left it running in the container
 * (e.g. under an upgrade that was rolled back); the marker says this run stops it.
 */
export const CHOWN_STOPS_ON_CANCEL_PATCH = 'media-chown-stops-on-cancel';

/** More continued runs than this is not a chown that resumes night after night: a bad argument. */
const MAX_RUNS = 10_000;

export const mediaChown = defineRunbook(
  // The window's bounds are checked with the schema: a bad one fails before anything shows.
  {
    schema: Schema,
    check: (input) => void chownWindow(input as MediaChownInput),
    // `runs` counts the continued runs (continue-as-new passes it); a start by hand may omit it.
    extraArgs: ([runs, ...more]) =>
      more.length > 0 ||
      (runs !== undefined &&
        !(Number.isSafeInteger(runs) && (runs as number) >= 1 && (runs as number) <= MAX_RUNS))
        ? `mediaChown takes the input and, optionally, the count of its runs (a whole number from 1 to ${MAX_RUNS})`
        : undefined,
  },
  async (run, valid, runs: number = 1): Promise<MediaChownResult> => {
    const { progress, notifier } = run;
    const input = valid as MediaChownInput;
    const window = chownWindow(input);
    // Step 1: the cluster and its (first) Webapp host, where the chown runs.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    // Every operable cluster has a webapp host (the inventory's requirements).
    const web = hostsWithRole(cluster, 'webapp')[0] as HostSpec;
    run.showPlan(chownPlan(input, cluster, web, resolved.resolution));
    const done = (r: Omit<MediaChownResult, 'cluster' | 'inventory'>): MediaChownResult => ({
      cluster: cluster.name,
      inventory: inventoryOf(resolved.resolution),
      ...r,
    });
    await run.holdClusterLock(cluster.name);

    // Step 2: wait for this run's window (a follow-up's `notBefore`, a maintenance window's opening).
    if (input.notBefore && Date.parse(input.notBefore) > Date.now()) {
      progress.stage(`waiting until ${input.notBefore} to resume`);
      notifier.waitingForWindow(input.notBefore);
      await sleep(Date.parse(input.notBefore) - Date.now());
    }
    // A maintenance window (an upgrade's): wait for an opening; this run stops when it closes.
    const opening: Opening | undefined = input.window
      ? await maintenanceOpening(input.window, progress, notifier)
      : window;
    const resume = (left: string) => resumeInNextWindow(input, window, runs, progress, left);
    // A follow-up that starts after its window already closed (a worker down for long) waits for the next.
    if (window && Date.now() >= window.closesAt) return await resume('not started');

    // Step 3: start the chown (detached), unless every file is owned by root already.
    const version = cluster.version;
    const variant = (await detectCompose(ref, cluster, [web])).get(web.name) ?? 'v1';
    progress.stage('chown');
    const job = await hostActs.startMediaChown({ cluster: ref, host: web.name, version, variant });
    const first = job.before;
    if (first.remaining === 0) {
      // Counted just now: nothing to change (a re-run). A chown the activity started has nothing to do.
      progress.host(web.name, `${first.total}/${first.total} files owned by root`);
      progress.stage('done: nothing to change, every media file was already owned by root');
      return await run.succeeded(
        done({ host: web.name, total: first.total, changed: 0, outcome: 'completed', runs }),
        `nothing to change: every media file on ${web.name} was already owned by root (${first.total} files)`,
      );
    }

    // Step 4: follow it to its end, or stop it when the window closes (a follow-up run resumes it).
    // A cancelled run (its upgrade failed or was cancelled) stops the chown too: a chown to root is
    // for >= 2.29.3 only, and a rollback puts the older Webapp back.
    const following = { container: job.container };
    let last: MediaChownProgress;
    try {
      last = await followChown({ ref, web, version, variant, opening, progress, resume, following }, job);
    } catch (err) {
      if (isCancellation(err) && patched(CHOWN_STOPS_ON_CANCEL_PATCH)) {
        progress.stage('cancelled: stopping the chown');
        await CancellationScope.nonCancellable(() =>
          hostActs.stopMediaChown({ cluster: ref, host: web.name, container: following.container }),
        );
        progress.stage('cancelled: chown stopped, what it did stays done');
      }
      throw err;
    }
    if (last.exitCode !== 0 || last.remaining > 0) {
      throw ApplicationFailure.create({
        type: MEDIA_CHOWN_FAILED,
        nonRetryable: true,
        message: `chown on ${web.name} exited ${last.exitCode} with ${last.remaining} files not owned by root`,
      });
    }
    progress.stage('done: every media file is owned by root');
    return await run.succeeded(
      done({ host: web.name, total: last.total, changed: first.remaining, outcome: 'completed', runs }),
      `every media file on ${web.name} is owned by root (${first.remaining} of ${last.total} changed)`,
    );
  },
);

function chownPlan(
  input: MediaChownInput,
  cluster: OperableCluster,
  web: HostSpec,
  resolution: Resolution,
): PlanStep[] {
  const dirs = ['incoming', 'outgoing', 'shared'].map((d) => `${mediaDirOf(cluster)}/${d}`);
  const w = input.window;
  return [
    resolveStep(cluster.name, resolution),
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
}

interface ChownJob {
  container: string;
  before: { total: number; remaining: number };
}

/**
 * Poll the chown until it exits: less often the larger the tree (2 s to 60 s), each poll reading
 * what it reported; started again (it resumes) when the container restarted under it; stopped,
 * and the run continued as new, when the window closes.
 */
async function followChown(
  on: {
    ref: ClusterRef;
    web: HostSpec;
    version: string;
    variant: ComposeVariant;
    opening: Opening | undefined;
    progress: Progress;
    resume: (left: string) => Promise<never>;
    /** The container the chown runs in now (it changes when the chown is started again). */
    following: { container: string };
  },
  started: ChownJob,
): Promise<MediaChownProgress> {
  const { ref, web, version, variant, opening, progress } = on;
  let job = started;
  const first = job.before;
  const startedAt = Date.now();
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
      return await on.resume(`${last.remaining} files left`);
    }
    if (last.state === 'gone') {
      // No exit code and no process: the container restarted under it. Start it again (it
      // resumes where it left off), a few times at most.
      if (restarts >= MAX_RESTARTS)
        throw ApplicationFailure.create({
          type: MEDIA_CHOWN_FAILED,
          nonRetryable: true,
          message: `the chown on ${web.name} stopped without an exit code ${restarts + 1} times (the Webapp container restarted?); ${last.container === false ? job.before.remaining : last.remaining} files not owned by root`,
        });
      restarts++;
      const why =
        last.container === false
          ? `its container ${job.container.slice(0, 12)} is gone`
          : 'it stopped without an exit code';
      progress.host(web.name, `chown: ${why}: starting it again (${restarts})`);
      job = await hostActs.startMediaChown({ cluster: ref, host: web.name, version, variant });
      on.following.container = job.container;
      if (job.before.remaining === 0) {
        last = { total: job.before.total, remaining: 0, done: job.before.total, exitCode: 0 };
        break;
      }
    } else {
      await sleep(opening ? Math.max(1, Math.min(pollMs, opening.closesAt - Date.now())) : pollMs);
    }
    last = await hostActs.mediaChownProgress({ cluster: ref, host: web.name, container: job.container });
    if (last.state === 'gone') continue;
    const rate = (first.remaining - last.remaining) / Math.max(1, (Date.now() - startedAt) / 1000);
    const eta = rate > 0 ? `${Math.ceil(last.remaining / rate)} s left` : 'estimating';
    progress.host(web.name, `${last.done}/${last.total} files owned by root, ${eta}`);
  }
  return last;
}
