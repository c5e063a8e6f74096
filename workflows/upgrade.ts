// Seed sections C, D, E: back up, approve, upgrade the schema (MySQL), re-create the containers on
// the new version role by role with a health gate after each batch, roll back when a gate fails.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { OperableCluster, Role } from '../src/model/cluster';
import type { HealthSummary } from '../src/model/health';
import { RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import type { DbUpgradeResult } from './db-upgrade';
import { defineRunbook } from './lib/define-runbook';
import { waitForHealth } from './lib/health-gate';
import { detectCompose, hostActs } from './lib/hosts';
import { resolveStep } from './lib/plan';
import { prerequisiteSteps, prerequisitesPatched, requirePrerequisites } from './lib/prerequisites';
import { requireScheduledForPreApproval } from './lib/validate';
import type { MediaChownResult } from './media-chown';
import { type BatchContext, type GateOutcome, upgradeRole } from './upgrade/batches';
import { startMediaChown, upgradeDatabase } from './upgrade/children';
import { upgradePlan } from './upgrade/plan';
import { approvedSurvey, PLAN_BINDS_HOSTS_PATCH, surveyHosts } from './upgrade/survey';
import { needsDbUpgrade, needsMediaChown, ROLES, type ServiceOnHost } from './upgrade/versions';
import { UpgradeWindow } from './upgrade/window';

export { PLAN_BINDS_HOSTS_PATCH } from './upgrade/survey';
export { needsDbUpgrade, needsMediaChown, versionOfImage } from './upgrade/versions';
export { type Parked, WINDOW_ON_CLOSE_PATCH } from './upgrade/window';

export interface UpgradeResult {
  cluster: string;
  inventory: InventoryStamp;
  fromVersion: string;
  toVersion: string;
  backup: { path: string; sha256: string };
  dbUpgrade: DbUpgradeResult | 'skipped';
  /** One line per host and role (a host with two roles has two), in upgrade order. */
  hosts: HostOutcome[];
  gates: GateOutcome[];
  decisions: unknown[];
  mediaChown: MediaChownResult | 'not needed';
  health: HealthSummary;
}

/** What a host ran for one role before this run, and what the run did about it. */
export interface HostOutcome {
  host: string;
  role: Role;
  service: string;
  /** The version its containers of the service ran before (read from their image), or `none`. */
  from: string;
  to: string;
  /** `already on target`: it ran `to` before this run (e.g. a re-run after a partial upgrade): left alone. */
  action: 'upgraded' | 'already on target';
}

export const upgrade = defineRunbook(
  {
    ...RUNBOOK_INPUTS.upgrade,
    gated: true,
    check: (input, runbook) => requireScheduledForPreApproval(runbook, input.preApproved),
  },
  async (run, input): Promise<UpgradeResult | PreviewResult> => {
    const { progress, gates } = run;
    const { toVersion, rollback } = input;
    const id = workflowInfo().workflowId;
    const gateLog: GateOutcome[] = [];
    let from: string | undefined;
    const window = new UpgradeWindow(input, progress, run.notifier);
    run.showInStatus(() => ({ fromVersion: from, toVersion, healthGates: gateLog, parked: window.parked }));
    /** Hosts (and roles) this run changed, in order: what a rollback puts back. */
    const upgraded: ServiceOnHost[] = [];

    // Step 1: the cluster, the approvals given in advance, and what the upgrade involves.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const apiReq = { cluster: ref };
    from = cluster.version;
    const fromVersion = from;
    gates.preApprove(input.preApproved);
    const dbUp = needsDbUpgrade(cluster.db.engine, toVersion);
    const chown = needsMediaChown(fromVersion, toVersion);
    const prerequisites = prerequisitesPatched();
    const prereqSteps = prerequisites ? prerequisiteSteps(cluster, cluster.hosts) : [];
    const bindsPlan = patched(PLAN_BINDS_HOSTS_PATCH);
    const plan = () => [
      resolveStep(cluster.name, resolved.resolution),
      ...upgradePlan(input, cluster, dbUp, chown, window.onClosePolicy, prereqSteps, bindsPlan),
    ];
    run.showPlan(plan());
    await run.holdClusterLock(cluster.name);

    // Step 2: the window, the health before, preflight, and what every host runs now.
    if (!input.preview) await window.waitForOpening();
    progress.stage('pre-upgrade health');
    const before = await waitForHealth(
      apiReq,
      'registered and healthy',
      { verdictIn: ['ha-connected', 'multiconnect-connected'] },
      '2m',
    );
    progress.stage('preflight');
    const variants = await detectCompose(ref, cluster);
    // The seed's prerequisites (database host, reach, version; media modes): before the backup and any restart.
    if (prerequisites) await requirePrerequisites(ref, cluster, cluster.hosts, progress);
    const survey = () =>
      surveyHosts({ progress, ref, cluster, variants, fromVersion, toVersion, plan, bindsHosts: bindsPlan });
    const first = await survey();
    run.showPlan(first.steps);
    if (input.preview) return run.preview('upgrade', first.steps, resolved);

    // Step 3: the settings backup, then approval of what the hosts run (again if it changed).
    progress.stage('settings backup');
    const backup = await hostActs.settingsBackup({
      cluster: ref,
      label: `v${fromVersion}-to-v${toVersion}-${workflowInfo().runId.slice(0, 8)}`,
    });
    progress.host('backup', `${backup.path} (sha256 ${backup.sha256.slice(0, 12)}…)`);
    const { services, doneText } = await approvedSurvey({
      gates,
      window,
      specHash: resolved.resolution.specHash,
      cluster: cluster.name,
      toVersion,
      first,
      survey,
      gateText: (s) =>
        `upgrade cluster ${cluster.name} from v${fromVersion} to v${toVersion}: ${dbUp ? 'dbupgrade job, then ' : ''}webapps, masters, coreapps in batches of ${input.maxUnavailable}; rollback ${rollback.mode}${rollback.restoreSettings ? ' with settings restore' : ''}; backup ${backup.path}${s.doneText}`,
      showPlan: (steps) => run.showPlan(steps),
    });
    const done = services.filter((s) => s.onTarget);

    // Step 4: the database schema (MySQL), a child workflow.
    const db = dbUp ? await upgradeDatabase(input, cluster.name, id, progress) : 'skipped';

    // Step 5: role by role, in batches with a health gate after each; the media chown after the Webapps.
    const batches: BatchContext = {
      input,
      cluster,
      ref,
      apiReq,
      variants,
      gates,
      progress,
      rollback,
      backup,
      healthTimeout: input.timeouts.health,
      upgraded,
      doneText,
      expected: before.connectedCoreapps,
      gateLog,
      window,
    };
    let chownChild: Promise<MediaChownResult> | undefined;
    for (const role of ROLES) {
      await upgradeRole(batches, role, services);
      if (role === 'webapp' && chown) {
        const child = await startMediaChown(input, cluster.name, id, progress);
        chownChild = child.result;
        batches.stopBackground = () => child.stop();
      }
    }

    // Step 6: the final health, and the media chown's end.
    progress.stage('final health');
    const health = await waitForHealth(
      apiReq,
      `${before.connectedCoreapps} Coreapp(s) connected`,
      { minConnectedCoreapps: before.connectedCoreapps, verdictNotIn: ['degraded'] },
      input.timeouts.health,
    );
    let mediaChown: UpgradeResult['mediaChown'] = 'not needed';
    if (chownChild) {
      progress.stage('waiting for mediaChown');
      mediaChown = await chownChild;
    }
    progress.stage(`done: v${toVersion}, ${health.verdict}`);
    return await run.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolved.resolution),
        fromVersion,
        toVersion,
        backup: { path: backup.path, sha256: backup.sha256 },
        dbUpgrade: db,
        hosts: services.map((s) => outcomeOf(s, toVersion)),
        gates: gateLog,
        decisions: gates.decisions(),
        mediaChown,
        health,
      },
      `v${fromVersion} → v${toVersion} on ${upgraded.length} hosts${done.length ? ` (${done.length} already on it)` : ''}${dbUp ? ', database upgraded' : ''}${chownChild ? ', media chown done' : ''}; health ${health.verdict}; backup ${backup.path}`,
    );
  },
);

function outcomeOf(s: ServiceOnHost, to: string): HostOutcome {
  const action = s.onTarget ? 'already on target' : 'upgraded';
  return { host: s.host.name, role: s.role, service: s.service, from: s.from, to, action };
}
