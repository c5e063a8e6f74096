// Seed sections C, D, E: back up, approve, upgrade the schema (MySQL), re-create the containers on
// the new version role by role with a health gate after each batch, roll back when a gate fails.
import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { HostSpec, Role } from '../src/spec/cluster';
import type { HealthSummary } from '../src/spec/health';
import { UpgradeInput } from '../src/spec/lifecycle-inputs';
import { compareVersions } from '../src/spec/version';
import { windowState } from '../src/spec/window';
import type { DbUpgradeResult } from './db-upgrade';
import { failureText } from './lib/failure-text';
import { gatedRun } from './lib/gated-run';
import { HEALTH_GATE_FAILED, waitForHealth } from './lib/health-gate';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { type PlanStep, planQuery, SERVICE_OF_ROLE, upSteps } from './lib/plan';
import { refuseConcurrentRuns } from './lib/run-guard';
import { requireScheduledForPreApproval, validateInput } from './lib/validate';
import type { MediaChownResult } from './media-chown';

export interface UpgradeResult {
  cluster: string;
  fromVersion: string;
  toVersion: string;
  backup: { path: string; sha256: string };
  dbUpgrade: DbUpgradeResult | 'skipped';
  hosts: { host: string; role: Role; from: string; to: string }[];
  gates: { gate: string; outcome: string; at: string; detail?: string }[];
  decisions: unknown[];
  mediaChown: MediaChownResult | 'not needed';
  health: HealthSummary;
}

const ROLES: Role[] = ['webapp', 'master', 'coreapp'];

export function needsDbUpgrade(engine: string, to: string): boolean {
  return engine === 'MYSQL' && compareVersions(to, '2.23.0') >= 0;
}

export function needsMediaChown(from: string, to: string): boolean {
  return (from === '2.29.1' || from === '2.29.2') && compareVersions(to, '2.29.3') >= 0;
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function upgrade(raw: unknown): Promise<UpgradeResult> {
  const input = validateInput('upgrade', UpgradeInput, raw);
  requireScheduledForPreApproval('upgrade', input.preApproved);
  const { cluster, toVersion, rollback } = input;
  const from = cluster.version as string;
  const id = workflowInfo().workflowId;
  const gateLog: UpgradeResult['gates'] = [];
  const { progress, gates, notifier } = gatedRun('upgrade', cluster.name, input, () => ({
    fromVersion: from,
    toVersion,
    healthGates: gateLog,
  }));
  gates.preApprove(input.preApproved);
  const apiReq = { cluster: cluster.name, api: cluster.api };
  const dbUp = needsDbUpgrade(cluster.db?.engine ?? '', toVersion);
  const chown = needsMediaChown(from, toVersion);
  const plan: PlanStep[] = [
    ...(input.window
      ? [
          {
            stage: 'window',
            note: `${input.window.days.join(',')} ${input.window.start}-${input.window.end} ${input.window.timeZone}${input.force ? ` (forced: ${input.force.reason})` : ''}`,
          },
        ]
      : []),
    { stage: 'pre-upgrade health', note: 'registered and healthy' },
    { stage: 'settings backup', note: 'POST /v1/settings/backup, stored on the worker' },
    {
      stage: 'approval',
      note: `gate "upgrade"${input.preApproved.length ? ` (pre-approved by ${input.preApproved.map((p) => `${p.by}: ${p.reason}`).join('; ')})` : ''}`,
    },
    ...(dbUp ? [{ stage: 'dbUpgrade', note: `child workflow: dbupgrade job v${toVersion}` }] : []),
    ...upSteps(cluster, toVersion).map((s) => ({
      ...s,
      note: `batches of ${input.maxUnavailable}, health gate after each`,
    })),
    ...(chown
      ? [
          {
            stage: 'mediaChown',
            note: `child workflow after the Webapps: chown -R root ${input.mediaDir}/{incoming,outgoing,shared}`,
          },
        ]
      : []),
  ];
  setHandler(planQuery, () => plan);

  const waitForWindow = async () => {
    if (!input.window) return;
    if (input.force) {
      progress.host('window', `forced outside the window: ${input.force.reason}`);
      return;
    }
    for (;;) {
      const w = windowState(Date.now(), input.window);
      if (w.inside) return;
      progress.stage(`waiting for window opening at ${new Date(w.opensAt).toISOString()}`);
      notifier.waitingForWindow(w.opensAt);
      await sleep(w.opensAt - Date.now());
    }
  };

  const upgraded: { host: HostSpec; role: Role }[] = [];
  try {
    await refuseConcurrentRuns('upgrade', cluster.name);
    await waitForWindow();
    progress.stage('pre-upgrade health');
    const before = await waitForHealth(
      apiReq,
      'registered and healthy',
      (s) => s.verdict === 'ha-connected' || s.verdict.startsWith('multiconnect-connected'),
      '2m',
    );
    const expected = before.connectedCoreapps;
    progress.stage('preflight');
    const variants = await detectCompose(cluster);
    progress.stage('settings backup');
    const backup = await hostActs.settingsBackup({
      cluster,
      passwordRef: input.backup.passwordRef,
      label: `v${from}-to-v${toVersion}-${workflowInfo().runId.slice(0, 8)}`,
    });
    progress.host('backup', `${backup.path} (sha256 ${backup.sha256.slice(0, 12)}…)`);

    await gates.require(
      'upgrade',
      `upgrade cluster ${cluster.name} from v${from} to v${toVersion}: ${dbUp ? 'dbupgrade job, then ' : ''}webapps, masters, coreapps in batches of ${input.maxUnavailable}; rollback ${rollback}; backup ${backup.path}`,
    );
    await waitForWindow();

    let db: DbUpgradeResult | 'skipped' = 'skipped';
    if (dbUp) {
      progress.stage('dbUpgrade');
      db = await executeChild('dbUpgrade', {
        workflowId: `${id}/dbUpgrade`,
        args: [{ cluster, toVersion, restartApps: false, timeouts: { job: input.timeouts.dbUpgrade } }],
      });
    }

    const rollbackAll = async (why: string): Promise<never> => {
      progress.stage('rollback');
      for (const u of [...upgraded].reverse()) {
        progress.host(u.host.name, `rolling back to v${from}`);
        await hostActs.composeUp({
          cluster,
          host: u.host.name,
          service: SERVICE_OF_ROLE[u.role],
          version: from,
          variant: variants.get(u.host.name) ?? 'v1',
        });
        progress.host(u.host.name, `back on v${from}`);
      }
      throw ApplicationFailure.create({
        type: 'UpgradeRolledBack',
        nonRetryable: true,
        message: `${why}; rolled back ${upgraded.map((u) => u.host.name).join(', ')} to v${from}`,
      });
    };

    const onFailedGate = async (why: string): Promise<never> => {
      if (rollback === 'auto') return rollbackAll(why);
      if (rollback === 'ask') {
        try {
          await gates.require(
            'rollback',
            `${why}. Approve to put ${upgraded.map((u) => u.host.name).join(', ')} back on v${from}; reject to leave them as they are`,
          );
        } catch (err) {
          if (err instanceof ApplicationFailure) {
            throw ApplicationFailure.create({
              type: 'UpgradeFailed',
              nonRetryable: true,
              message: `${why}; rollback not done (${err.message}); hosts left as they are`,
            });
          }
          throw err;
        }
        return rollbackAll(why);
      }
      throw ApplicationFailure.create({
        type: 'UpgradeFailed',
        nonRetryable: true,
        message: `${why}; rollback is off: hosts left as they are`,
      });
    };

    let chownChild: Promise<MediaChownResult> | undefined;
    for (const role of ROLES) {
      const service = SERVICE_OF_ROLE[role];
      for (const batch of batches(hostsWithRole(cluster, role), input.maxUnavailable)) {
        const names = batch.map((h) => h.name).join(', ');
        progress.stage(`upgrade ${service} on ${names}`);
        const ups = await Promise.allSettled(
          batch.map(async (h) => {
            await hostActs.composeUp({
              cluster,
              host: h.name,
              service,
              version: toVersion,
              variant: variants.get(h.name) ?? 'v1',
            });
            upgraded.push({ host: h, role });
            progress.host(h.name, `${service} on v${toVersion}`);
          }),
        );
        const upFailure = firstUpFailure(batch, ups);
        if (upFailure) {
          // The host may be half-way (container removed, new one not up): it is rolled back too.
          const why = `up -d ${service} v${toVersion} on ${upFailure.host.name} failed: ${failureText(upFailure.error)}`;
          for (const h of batch)
            if (!upgraded.some((u) => u.host.name === h.name)) upgraded.push({ host: h, role });
          progress.host(upFailure.host.name, `up -d failed`);
          gateLog.push({
            gate: `up -d ${service} on ${names}`,
            outcome: 'failed',
            at: new Date().toISOString(),
            detail: why,
          });
          await onFailedGate(why);
        }
        const gate = `health after ${service} on ${names}`;
        try {
          await waitForHealth(
            apiReq,
            `${expected} Coreapp(s) connected`,
            (s) => s.connectedCoreapps >= expected && s.verdict !== 'degraded',
            input.timeouts.health,
          );
          gateLog.push({ gate, outcome: 'passed', at: new Date().toISOString() });
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
          gateLog.push({ gate, outcome: 'failed', at: new Date().toISOString(), detail: err.message });
          await onFailedGate(`${gate} failed: ${err.message}`);
        }
      }
      if (role === 'webapp' && chown) {
        progress.stage('mediaChown started');
        const handle = await startChild('mediaChown', {
          workflowId: `${id}/mediaChown`,
          args: [{ cluster: { ...cluster, version: toVersion }, mediaDir: input.mediaDir }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        chownChild = handle.result() as Promise<MediaChownResult>;
        // Awaited at the end; until then a failure of the child must not count as unhandled.
        chownChild.catch(() => undefined);
      }
    }

    progress.stage('final health');
    const health = await waitForHealth(
      apiReq,
      `${expected} Coreapp(s) connected`,
      (s) => s.connectedCoreapps >= expected && s.verdict !== 'degraded',
      input.timeouts.health,
    );
    let mediaChown: UpgradeResult['mediaChown'] = 'not needed';
    if (chownChild) {
      progress.stage('waiting for mediaChown');
      mediaChown = await chownChild;
    }
    progress.stage(`done: v${toVersion}, ${health.verdict}`);
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        fromVersion: from,
        toVersion,
        backup: { path: backup.path, sha256: backup.sha256 },
        dbUpgrade: db,
        hosts: upgraded.map((u) => ({ host: u.host.name, role: u.role, from, to: toVersion })),
        gates: gateLog,
        decisions: gates.decisions(),
        mediaChown,
        health,
      },
      `v${from} → v${toVersion} on ${upgraded.length} hosts${dbUp ? ', database upgraded' : ''}${chownChild ? ', media chown done' : ''}; health ${health.verdict}; backup ${backup.path}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}

/**
 * The first host of a batch whose `up -d` failed, when the failure is one to roll back for (not a
 * cancellation of the run, which must end the run as cancelled).
 */
function firstUpFailure(
  batch: HostSpec[],
  results: PromiseSettledResult<void>[],
): { host: HostSpec; error: unknown } | undefined {
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (isCancellation(r.reason)) throw r.reason;
    const host = batch[i];
    if (host) return { host, error: r.reason };
  }
  return undefined;
}
