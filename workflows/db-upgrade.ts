// Seed section D: the zero-downtime MySQL database upgrade job, then the app containers on the new version.
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DbUpgradeInput } from '../src/spec/lifecycle-inputs';
import { runSummary } from '../src/spec/summary';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { RunNotifier } from './lib/notify';
import { type PlanStep, planQuery, upSteps } from './lib/plan';
import { Progress } from './lib/progress';
import { refuseConcurrentRuns } from './lib/run-guard';
import { validateInput } from './lib/validate';

export interface DbUpgradeResult {
  cluster: string;
  host: string;
  toVersion: string;
  container: string;
  exitCode: number;
  restarted: string[];
}

export async function dbUpgrade(raw: unknown): Promise<DbUpgradeResult> {
  const input = validateInput('dbUpgrade', DbUpgradeInput, raw);
  const { cluster, toVersion } = input;
  const progress = new Progress('dbUpgrade', cluster.name, runSummary('dbUpgrade', input));
  const notifier = new RunNotifier('dbUpgrade', cluster.name);
  const host = input.host ?? hostsWithRole(cluster, 'master')[0]?.name;
  if (!host || !cluster.hosts.some((h) => h.name === host)) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message: `invalid dbUpgrade input: host: ${input.host ?? '(default: first master)'} is not a host of cluster ${cluster.name}`,
    });
  }
  const appHosts = {
    ...cluster,
    hosts: [...hostsWithRole(cluster, 'webapp'), ...hostsWithRole(cluster, 'coreapp')],
  };
  const plan: PlanStep[] = [
    { stage: 'upload', host, note: `${cluster.workDir}/dbupgrade-compose.yml and db.env` },
    {
      stage: 'start job',
      host,
      note: `dbupgrade v${toVersion}${input.exitOnSuccess ? '' : ' with EXIT_ON_SUCCESS=FALSE'}`,
    },
    {
      stage: 'wait',
      host,
      note: input.exitOnSuccess
        ? 'docker wait: exit code 0 = success'
        : 'the job log says the upgrade is complete',
    },
    ...(input.restartApps ? upSteps(appHosts, toVersion, ['webapp', 'coreapp']) : []),
  ];
  setHandler(planQuery, () => plan);
  try {
    await refuseConcurrentRuns('dbUpgrade', cluster.name);
    progress.stage('preflight');
    const variants = await detectCompose(
      cluster,
      cluster.hosts.filter((h) => h.name === host || (input.restartApps && appHosts.hosts.includes(h))),
    );
    const variant = variants.get(host) ?? 'v1';
    progress.stage('upload');
    await hostActs.uploadDbUpgradeFiles({ cluster, host });
    progress.stage('start job');
    const job = await hostActs.startDbUpgrade({
      cluster,
      host,
      version: toVersion,
      variant,
      exitOnSuccess: input.exitOnSuccess,
    });
    progress.host(host, `dbupgrade ${job.container}${job.started ? '' : ' (re-attached)'}`);
    progress.stage('wait for the job');
    // The whole wait, retries after a worker crash included, is bounded by timeouts.job.
    const { waitDbUpgrade } = proxyActivities<Activities>({
      scheduleToCloseTimeout: input.timeouts.job,
      heartbeatTimeout: '30s',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
    });
    let outcome: { exitCode: number; lastLines: string[] };
    try {
      outcome = await waitDbUpgrade({
        cluster,
        host,
        container: job.container,
        exitOnSuccess: input.exitOnSuccess,
      });
    } catch (err) {
      if (!(err instanceof ActivityFailure && err.cause instanceof TimeoutFailure)) throw err;
      await hostActs.removeDbUpgrade({ cluster, host });
      throw ApplicationFailure.create({
        type: 'DbUpgradeTimedOut',
        nonRetryable: true,
        message: `the dbupgrade job of v${toVersion} on ${host} did not finish within ${input.timeouts.job}; it was removed, app containers left untouched`,
      });
    }
    if (outcome.exitCode !== 0) {
      await hostActs.removeDbUpgrade({ cluster, host });
      throw ApplicationFailure.create({
        type: 'DbUpgradeFailed',
        nonRetryable: true,
        message: `the dbupgrade job of v${toVersion} on ${host} exited ${outcome.exitCode}; app containers left untouched. Last lines:\n${outcome.lastLines.join('\n')}`,
      });
    }
    // With EXIT_ON_SUCCESS=FALSE the job does not exit: its log said it is complete.
    const succeeded = input.exitOnSuccess ? 'exited 0' : 'logged completion (EXIT_ON_SUCCESS=FALSE)';
    progress.host(host, `dbupgrade ${succeeded}`);
    await hostActs.removeDbUpgrade({ cluster, host });
    const restarted: string[] = [];
    if (input.restartApps) {
      for (const role of ['webapp', 'coreapp'] as const) {
        const service = role === 'webapp' ? 'waweb' : 'wacore';
        progress.stage(`restart ${service}`);
        await Promise.all(
          hostsWithRole(cluster, role).map(async (h) => {
            await hostActs.composeUp({
              cluster,
              host: h.name,
              service,
              version: toVersion,
              variant: variants.get(h.name) ?? 'v1',
            });
            restarted.push(`${h.name}/${service}`);
            progress.host(h.name, `${service} on v${toVersion}`);
          }),
        );
      }
    }
    progress.stage('done');
    return await notifier.succeeded(
      { cluster: cluster.name, host, toVersion, container: job.container, exitCode: 0, restarted },
      `dbupgrade job v${toVersion} on ${host} ${succeeded}${restarted.length ? `; restarted ${restarted.join(', ')}` : ''}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}
