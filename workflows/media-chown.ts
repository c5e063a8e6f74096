// Seed section E: after upgrading from 2.29.1/2.29.2 to 2.29.3+, give the media files back to root,
// in the background, inside the Webapp container; resumable across maintenance windows.
import { ApplicationFailure, continueAsNew, setHandler, sleep } from '@temporalio/workflow';
import { durationMs } from '../src/spec/approvals';
import { type MediaChownInput, MediaChownInput as Schema } from '../src/spec/lifecycle-inputs';
import { shellQuote } from '../src/spec/shell';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { RunNotifier } from './lib/notify';
import { planQuery } from './lib/plan';
import { Progress } from './lib/progress';
import { refuseConcurrentRuns } from './lib/run-guard';
import { validateInput } from './lib/validate';

export interface MediaChownResult {
  cluster: string;
  host: string;
  total: number;
  changed: number;
  /** `completed`, or `paused` when the window ended (a follow-up run continues). */
  outcome: 'completed';
  runs: number;
}

export async function mediaChown(raw: unknown, runs = 1): Promise<MediaChownResult> {
  const input = validateInput('mediaChown', Schema, raw) as MediaChownInput;
  const { cluster, mediaDir } = input;
  const progress = new Progress('mediaChown', cluster.name);
  const notifier = new RunNotifier('mediaChown', cluster.name);
  const web = hostsWithRole(cluster, 'webapp')[0];
  if (!web)
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message: 'the cluster has no webapp host',
    });
  const dirs = ['incoming', 'outgoing', 'shared'].map((d) => `${mediaDir}/${d}`);
  setHandler(planQuery, () => [
    {
      stage: 'chown',
      host: web.name,
      command: `docker exec -d <waweb container> chown -R root ${dirs.map(shellQuote).join(' ')}`,
      note: 'only files not yet owned by root; detached',
    },
  ]);
  try {
    await refuseConcurrentRuns('mediaChown', cluster.name);
    if (input.notBefore && Date.parse(input.notBefore) > Date.now()) {
      progress.stage(`waiting until ${input.notBefore} to resume`);
      notifier.waitingForWindow(input.notBefore);
      await sleep(Date.parse(input.notBefore) - Date.now());
    }
    const version = cluster.version as string;
    const variant = (await detectCompose(cluster, [web])).get(web.name) ?? 'v1';
    progress.stage('chown');
    const job = await hostActs.startMediaChown({ cluster, host: web.name, version, variant, mediaDir });
    const first = job.before;
    const startedAt = Date.now();
    let last = await hostActs.mediaChownProgress({
      cluster,
      host: web.name,
      container: job.container,
      mediaDir,
    });
    for (;;) {
      if (last.exitCode !== null) break;
      if (input.windowEnd && Date.now() >= Date.parse(input.windowEnd)) {
        await hostActs.stopMediaChown({ cluster, host: web.name, container: job.container });
        const resumeAt = new Date(Date.now() + durationMs(input.resumeAfter)).toISOString();
        const nextEnd = new Date(Date.parse(input.windowEnd) + durationMs(input.resumeAfter)).toISOString();
        progress.stage(`window ended: ${last.remaining} files left; resuming at ${resumeAt}`);
        return await continueAsNew<typeof mediaChown>(
          { ...input, notBefore: resumeAt, windowEnd: nextEnd },
          runs + 1,
        );
      }
      await sleep('5s');
      last = await hostActs.mediaChownProgress({
        cluster,
        host: web.name,
        container: job.container,
        mediaDir,
      });
      const rate = (first.remaining - last.remaining) / Math.max(1, (Date.now() - startedAt) / 1000);
      const eta = rate > 0 ? `${Math.ceil(last.remaining / rate)} s left` : 'estimating';
      progress.host(web.name, `${last.done}/${last.total} files owned by root, ${eta}`);
    }
    if (last.exitCode !== 0 || last.remaining > 0) {
      throw ApplicationFailure.create({
        type: 'MediaChownFailed',
        nonRetryable: true,
        message: `chown on ${web.name} exited ${last.exitCode} with ${last.remaining} files not owned by root`,
      });
    }
    progress.stage('done: every media file is owned by root');
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        host: web.name,
        total: last.total,
        changed: first.remaining,
        outcome: 'completed' as const,
        runs,
      },
      `every media file on ${web.name} is owned by root (${first.remaining} of ${last.total} changed)`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}
