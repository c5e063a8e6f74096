import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { summarizeHealth } from '../src/model/health';
import { HealthCheckInput } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { HealthCheckResult } from '../src/model/results';
import { HEALTH_READ } from './lib/activity-options';
import { defineRunbook } from './lib/define-runbook';
import { resolveStep } from './lib/plan';

const { wabaHealth } = proxyActivities<Activities>(HEALTH_READ);

/** Read-only: log in to the Webapp, read GET /v1/health, return one row per node and a verdict. */
export const healthCheck = defineRunbook(
  { schema: HealthCheckInput },
  async (run, input): Promise<HealthCheckResult> => {
    // Step 1: the cluster from the inventory.
    const { cluster, ref, resolution } = await run.resolve();
    run.showPlan([
      resolveStep(input.cluster, resolution),
      { stage: 'health', api: 'GET /v1/health', note: `at ${cluster.api.baseUrl}` },
    ]);

    // Step 2: read the health, one row per node.
    run.progress.stage('health');
    const body = await wabaHealth({ cluster: ref });
    const summary = summarizeHealth(body);
    for (const node of summary.nodes) {
      run.progress.host(node.host, node.gatewayStatus ?? `error ${node.errorCode ?? '?'}`);
    }
    run.progress.stage(`done: ${summary.verdict}`);
    return await run.succeeded(
      {
        cluster: cluster.name,
        checkedAt: new Date().toISOString(),
        inventory: inventoryOf(resolution),
        ...summary,
      },
      `${summary.verdict}${summary.reasons.length ? `: ${summary.reasons.join('; ')}` : ''}`,
    );
  },
);
