// Reference §3.8: put a cluster's application settings back from a settings backup an upgrade took
// and the worker stored: found by run id or checksum, verified, approved, restored, Coreapps
// restarted (a registered app stops after a restore), health.
import type { FoundBackup } from '../activities/settings-backups';
import type { OperableCluster } from '../src/model/cluster';
import type { HealthSummary } from '../src/model/health';
import { RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { defineRunbook } from './lib/define-runbook';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep } from './lib/plan';
import { restoreSettings } from './lib/settings-restore';
import { restorePlan } from './settings-restore/plan';

export interface SettingsRestoreResult {
  cluster: string;
  inventory: InventoryStamp;
  backup: FoundBackup;
  restartedCoreapps: string[];
  /** The health after the restart; absent with restartCoreapps: false. */
  health?: HealthSummary;
  decisions: unknown[];
}

export const settingsRestore = defineRunbook(
  { ...RUNBOOK_INPUTS.settingsRestore, gated: true },
  async (run, input): Promise<SettingsRestoreResult | PreviewResult> => {
    const { progress, gates } = run;
    // Step 1: the cluster, the plan, the lock (a restore stops the app: disruptive).
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const coreapps = hostsWithRole(cluster, 'coreapp');
    const plan = (found?: FoundBackup, variants: Map<string, 'v1' | 'v2'> = new Map()) => [
      resolveStep(cluster.name, resolved.resolution),
      ...restorePlan(input, cluster, found, variants),
    ];
    run.showPlan(plan());
    await run.holdClusterLock(cluster.name);

    // Step 2: the backup, found on the worker and its sha256 verified; the Coreapps' compose.
    progress.stage('find backup');
    const found = await hostActs.findSettingsBackup({ cluster: ref, ...input.backup });
    progress.host('backup', `${found.path} (sha256 ${found.sha256.slice(0, 12)}…, v${found.version})`);
    const variants = input.restartCoreapps ? await detectCompose(ref, cluster, coreapps) : new Map();
    const steps = plan(found, variants);
    run.showPlan(steps);
    if (input.preview) return run.preview('restore', steps, resolved);

    // Step 3: approval of exactly this backup.
    await gates.require(
      'restore',
      `restore the settings of cluster ${cluster.name} from ${found.path} (sha256 ${found.sha256}, taken on v${found.version})${input.restartCoreapps ? `, then restart wacore on ${coreapps.map((h) => h.name).join(', ')}` : '; the Coreapps are left to restart by hand'}`,
      steps,
    );

    // Step 4: restore (verified again as it is read), restart, health.
    const health = await restoreSettings({
      ref,
      cluster,
      backup: found,
      progress,
      restartCoreapps: input.restartCoreapps,
      variants,
      versionOf: () => cluster.version,
      health: {
        what: 'registered and healthy after the settings restore',
        condition: { verdictIn: ['ha-connected', 'multiconnect-connected'] },
        deadline: input.timeouts.health,
      },
    });
    progress.stage(health ? `done: ${health.verdict}` : 'done: restart the Coreapps by hand');
    return await run.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolved.resolution),
        backup: found,
        restartedCoreapps: input.restartCoreapps ? coreapps.map((h) => h.name) : [],
        ...(health ? { health } : {}),
        decisions: gates.decisions(),
      },
      `settings restored from ${found.path}${health ? `; Coreapps restarted; health ${health.verdict}` : '; restart the Coreapps by hand (docker restart)'}`,
    );
  },
);
