import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { DISRUPTIVE_RUNBOOKS } from '../../src/spec/runbooks';

export const CONCURRENT_RUN = 'ConcurrentRun';

const { openDisruptiveRuns } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/**
 * First step of a disruptive runbook: refuse, before touching anything, when another disruptive run
 * is open on the cluster. The CLI checks the same before starting; this catches what it cannot see
 * (a schedule firing while a manual run is open, a start from the Web UI). Children of a runbook
 * and continued runs were checked by their first run.
 */
export async function refuseConcurrentRuns(runbook: string, cluster: string, preview = false): Promise<void> {
  const info = workflowInfo();
  // A dry run changes nothing: it neither waits for others nor stops them.
  if (preview || info.parent || info.continuedFromExecutionRunId) return;
  const open = await openDisruptiveRuns({
    cluster,
    runbooks: [...DISRUPTIVE_RUNBOOKS],
    self: info.workflowId,
  });
  if (open.length === 0) return;
  throw ApplicationFailure.create({
    type: CONCURRENT_RUN,
    nonRetryable: true,
    message:
      `another run is changing cluster ${cluster}: ${open.map((o) => `${o.runbook} (workflow ${o.workflowId})`).join(', ')}; ` +
      `this ${runbook} run stopped before doing anything. Wait for it to finish or cancel it, then start again`,
    details: [open],
  });
}
