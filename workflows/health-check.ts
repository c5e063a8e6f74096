import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { summarizeHealth } from '../src/model/health';
import { HealthCheckInput } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { HealthCheckResult } from '../src/model/results';
import { planQuery } from './api';
import { plainRun } from './lib/gated-run';
import { resolveStep } from './lib/plan';
import { validateInput } from './lib/validate';

const { wabaHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});

/** Read-only: log in to the Webapp, read GET /v1/health, return one row per node and a verdict. */
export async function healthCheck(raw: unknown): Promise<HealthCheckResult> {
  const input = validateInput('healthCheck', HealthCheckInput, raw);
  const { progress, notifier, resolve } = plainRun('healthCheck', input);
  let plan = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);
  try {
    const { cluster, ref, resolution } = await resolve();
    plan = [
      resolveStep(input.cluster, resolution),
      { stage: 'health', api: 'GET /v1/health', note: `at ${cluster.api.baseUrl}` },
    ];
    progress.stage('health');
    const body = await wabaHealth({ cluster: ref });
    const summary = summarizeHealth(body);
    for (const node of summary.nodes) {
      progress.host(node.host, node.gatewayStatus ?? `error ${node.errorCode ?? '?'}`);
    }
    progress.stage(`done: ${summary.verdict}`);
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        checkedAt: new Date().toISOString(),
        inventory: inventoryOf(resolution),
        ...summary,
      },
      `${summary.verdict}${summary.reasons.length ? `: ${summary.reasons.join('; ')}` : ''}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}
