import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { summarizeHealth } from '../src/spec/health';
import { HealthCheckInput } from '../src/spec/inputs';
import type { HealthCheckResult } from '../src/spec/results';
import { RunNotifier } from './lib/notify';
import { Progress } from './lib/progress';
import { validateInput } from './lib/validate';

const { wabaHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});

/** Read-only: log in to the Webapp, read GET /v1/health, return one row per node and a verdict. */
export async function healthCheck(input: unknown): Promise<HealthCheckResult> {
  const { cluster } = validateInput('healthCheck', HealthCheckInput, input);
  const progress = new Progress('healthCheck', cluster.name);
  const notifier = new RunNotifier('healthCheck', cluster.name);
  progress.stage('health');
  try {
    const body = await wabaHealth({ cluster: cluster.name, api: cluster.api });
    const summary = summarizeHealth(body);
    for (const node of summary.nodes) {
      progress.host(node.host, node.gatewayStatus ?? `error ${node.errorCode ?? '?'}`);
    }
    progress.stage(`done: ${summary.verdict}`);
    return await notifier.succeeded(
      { cluster: cluster.name, checkedAt: new Date().toISOString(), ...summary },
      `${summary.verdict}${summary.reasons.length ? `: ${summary.reasons.join('; ')}` : ''}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}
