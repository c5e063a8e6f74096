// Seed section D: the zero-downtime MySQL database upgrade job, then the app containers on the new version.
import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ClusterSpec, OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { DB_UPGRADE_FAILED, DB_UPGRADE_TIMED_OUT } from '../src/model/errors';
import { type DbUpgradeInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { type ClusterRef, inventoryOf, type Resolution } from '../src/model/inventory';
import type { InventoryStamp } from '../src/model/results';
import type { PlanStep } from './api';
import { jobWaitOptions } from './lib/activity-options';
import { defineRunbook } from './lib/define-runbook';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep, upSteps } from './lib/plan';
import type { Progress } from './lib/progress';

export interface DbUpgradeResult {
  cluster: string;
  inventory: InventoryStamp;
  host: string;
  toVersion: string;
  container: string;
  exitCode: number;
  restarted: string[];
}

export const dbUpgrade = defineRunbook(
  RUNBOOK_INPUTS.dbUpgrade,
  async (run, input): Promise<DbUpgradeResult> => {
    const { progress } = run;
    const { toVersion } = input;
    // Step 1: the cluster; the job's host (checked against the cluster; default the first master).
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const host = input.host ?? (hostsWithRole(cluster, 'master')[0]?.name as string);
    const appHosts = {
      ...cluster,
      hosts: [...hostsWithRole(cluster, 'webapp'), ...hostsWithRole(cluster, 'coreapp')],
    };
    run.showPlan(dbUpgradePlan(input, cluster, host, appHosts, resolved.resolution));
    await run.holdClusterLock(cluster.name);

    // Step 2: preflight of the job's host (and of the app hosts when they restart).
    progress.stage('preflight');
    const variants = await detectCompose(
      ref,
      cluster,
      cluster.hosts.filter((h) => h.name === host || (input.restartApps && appHosts.hosts.includes(h))),
    );
    const variant = variants.get(host) ?? 'v1';

    // Step 3: upload the job's files and start it (or re-attach to a job already running).
    progress.stage('upload');
    await hostActs.uploadDbUpgradeFiles({ cluster: ref, host });
    progress.stage('start job');
    const job = await hostActs.startDbUpgrade({
      cluster: ref,
      host,
      version: toVersion,
      variant,
      exitOnSuccess: input.exitOnSuccess,
    });
    progress.host(host, `dbupgrade ${job.container}${job.started ? '' : ' (re-attached)'}`);

    // Step 4: wait for the job; a failed or late job is removed and the apps left untouched.
    progress.stage('wait for the job');
    await waitForJob(ref, input, host, job.container);
    // With EXIT_ON_SUCCESS=FALSE the job does not exit: its log said it is complete.
    const succeeded = input.exitOnSuccess ? 'exited 0' : 'logged completion (EXIT_ON_SUCCESS=FALSE)';
    progress.host(host, `dbupgrade ${succeeded}`);
    await hostActs.removeDbUpgrade({ cluster: ref, host });

    // Step 5: the app containers on the new version, when asked for.
    const restarted = input.restartApps ? await restartApps(ref, cluster, toVersion, variants, progress) : [];
    progress.stage('done');
    return await run.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolved.resolution),
        host,
        toVersion,
        container: job.container,
        exitCode: 0,
        restarted,
      },
      `dbupgrade job v${toVersion} on ${host} ${succeeded}${restarted.length ? `; restarted ${restarted.join(', ')}` : ''}`,
    );
  },
);

function dbUpgradePlan(
  input: DbUpgradeInput,
  cluster: OperableCluster,
  host: string,
  appHosts: ClusterSpec,
  resolution: Resolution,
): PlanStep[] {
  const { toVersion } = input;
  return [
    resolveStep(cluster.name, resolution),
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
}

/** The job's end within timeouts.job; anything but success removes the job and fails the run. */
async function waitForJob(ref: ClusterRef, input: DbUpgradeInput, host: string, container: string) {
  const { toVersion } = input;
  // The whole wait, retries after a worker crash included, is bounded by timeouts.job.
  const { waitDbUpgrade } = proxyActivities<Activities>(jobWaitOptions(input.timeouts.job));
  let outcome: { exitCode: number; lastLines: string[] };
  try {
    outcome = await waitDbUpgrade({ cluster: ref, host, container, exitOnSuccess: input.exitOnSuccess });
  } catch (err) {
    if (!(err instanceof ActivityFailure && err.cause instanceof TimeoutFailure)) throw err;
    await hostActs.removeDbUpgrade({ cluster: ref, host });
    throw ApplicationFailure.create({
      type: DB_UPGRADE_TIMED_OUT,
      nonRetryable: true,
      message: `the dbupgrade job of v${toVersion} on ${host} did not finish within ${input.timeouts.job}; it was removed, app containers left untouched`,
    });
  }
  if (outcome.exitCode !== 0) {
    await hostActs.removeDbUpgrade({ cluster: ref, host });
    throw ApplicationFailure.create({
      type: DB_UPGRADE_FAILED,
      nonRetryable: true,
      message: `the dbupgrade job of v${toVersion} on ${host} exited ${outcome.exitCode}; app containers left untouched. Last lines:\n${outcome.lastLines.join('\n')}`,
    });
  }
}

/** `up -d` of waweb, then wacore, on the new version; hosts of one role in parallel. */
async function restartApps(
  ref: ClusterRef,
  cluster: OperableCluster,
  toVersion: string,
  variants: Map<string, ComposeVariant>,
  progress: Progress,
): Promise<string[]> {
  const restarted: string[] = [];
  for (const role of ['webapp', 'coreapp'] as const) {
    const service = role === 'webapp' ? 'waweb' : 'wacore';
    progress.stage(`restart ${service}`);
    await Promise.all(
      hostsWithRole(cluster, role).map(async (h) => {
        await hostActs.composeUp({
          cluster: ref,
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
  return restarted;
}
