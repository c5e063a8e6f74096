// Read-only: the prerequisites stage of haSetup, multiconnectExpand and upgrade, alone. The run
// succeeds with a report whatever it finds (`ok` says whether those runbooks would pass).
import type { ClusterSpec } from '../src/model/cluster';
import { RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import { findingText } from '../src/model/prerequisites';
import type { PreflightCheckResult } from '../src/model/results';
import { defineRunbook } from './lib/define-runbook';
import { hostActs } from './lib/hosts';
import { hostKeySteps, resolveStep } from './lib/plan';
import { prerequisiteSteps, probePrerequisites, showPrerequisites } from './lib/prerequisites';

export const preflightCheck = defineRunbook(
  RUNBOOK_INPUTS.preflightCheck,
  async (run): Promise<PreflightCheckResult> => {
    // Step 1: the cluster from the inventory (db and ssh required there).
    const { cluster: spec, ref, resolution } = await run.resolve();
    const cluster = spec as ClusterSpec & { db: NonNullable<ClusterSpec['db']> };
    run.showPlan([
      resolveStep(cluster.name, resolution),
      ...hostKeySteps(cluster.hosts),
      ...prerequisiteSteps(cluster, cluster.hosts),
    ]);

    // Step 2: host keys (a wrong key stops the run before any command), then the probes.
    run.progress.stage('host keys');
    await hostActs.checkHostKeys({ cluster: ref, hosts: cluster.hosts.map((h) => h.name) });
    run.progress.stage('prerequisites');
    const { report, probes } = await probePrerequisites(ref, cluster, cluster.hosts);
    showPrerequisites(run.progress, report);
    const ok = report.failures.length === 0;
    run.progress.stage(ok ? 'done: ok' : 'done: failed');
    return await run.succeeded(
      {
        cluster: cluster.name,
        checkedAt: new Date().toISOString(),
        inventory: inventoryOf(resolution),
        ok,
        ...report,
        probes,
      },
      ok
        ? `prerequisites met${report.warnings.length ? ` (${report.warnings.length} warning(s))` : ''}`
        : `${report.failures.length} prerequisite(s) failed: ${report.failures.map(findingText).join('; ')}`,
    );
  },
);
