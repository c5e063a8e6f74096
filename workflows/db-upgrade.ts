// Seed section D: the zero-downtime MySQL database upgrade job, then the app containers on the new version.
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperableCluster } from '../src/model/cluster';
import { DB_UPGRADE_FAILED, DB_UPGRADE_TIMED_OUT } from '../src/model/errors';
import { DbUpgradeInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp } from '../src/model/results';
import { type PlanStep, planQuery } from './api';
import { HEARTBEAT_TIMEOUT } from './lib/activity-options';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { plainRun } from './lib/gated-run';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep, upSteps } from './lib/plan';
import { validateInput } from './lib/validate';

export interface DbUpgradeResult {
  cluster: string;
  inventory: InventoryStamp;
  host: string;
  toVersion: string;
  container: string;
  exitCode: number;
  restarted: string[];
}

export async function dbUpgrade(raw: unknown): Promise<DbUpgradeResult> {
  const input = validateInput('dbUpgrade', DbUpgradeInput, raw);
  const { toVersion } = input;
  const { progress, notifier, resolve } = plainRun('dbUpgrade', input);
  let plan: PlanStep[] = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);
  try {
    const resolved = await resolve(RUNBOOK_INPUTS.dbUpgrade.issues);
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    // The input's host was checked against the cluster; the default is the first master.
    const host = input.host ?? (hostsWithRole(cluster, 'master')[0]?.name as string);
    const appHosts = {
      ...cluster,
      hosts: [...hostsWithRole(cluster, 'webapp'), ...hostsWithRole(cluster, 'coreapp')],
    };
    plan = [
      resolveStep(cluster.name, resolved.resolution),
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
    await holdClusterLock(progress, 'dbUpgrade', cluster.name, input);
    progress.stage('preflight');
    const variants = await detectCompose(
      ref,
      cluster,
      cluster.hosts.filter((h) => h.name === host || (input.restartApps && appHosts.hosts.includes(h))),
    );
    const variant = variants.get(host) ?? 'v1';
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
    progress.stage('wait for the job');
    // The whole wait, retries after a worker crash included, is bounded by timeouts.job.
    const { waitDbUpgrade } = proxyActivities<Activities>({
      scheduleToCloseTimeout: input.timeouts.job,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
    });
    let outcome: { exitCode: number; lastLines: string[] };
    try {
      outcome = await waitDbUpgrade({
        cluster: ref,
        host,
        container: job.container,
        exitOnSuccess: input.exitOnSuccess,
      });
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
    // With EXIT_ON_SUCCESS=FALSE the job does not exit: its log said it is complete.
    const succeeded = input.exitOnSuccess ? 'exited 0' : 'logged completion (EXIT_ON_SUCCESS=FALSE)';
    progress.host(host, `dbupgrade ${succeeded}`);
    await hostActs.removeDbUpgrade({ cluster: ref, host });
    const restarted: string[] = [];
    if (input.restartApps) {
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
    }
    progress.stage('done');
    return await notifier.succeeded(
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
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}
