// Take a schedule's action now, unless a run of the same disruptive runbook is open on the cluster.
import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { InputError } from '../errors';
import { RUNBOOKS } from '../runbooks';
import { CLUSTER_NAME, memoOf } from './memo';

export type Triggered =
  | { started: true; workflowId: string; runId: string }
  | { started: false; reason: string };

/**
 * Take the schedule's action now. Refused while a run of the same disruptive runbook is open on the
 * cluster (started by hand or by a schedule: found by its WabaCluster/WabaRunbook search
 * attributes), and taken under the overlap policy SKIP. Waits (at most `waitMs`) for the server to
 * take or skip the action.
 */
export async function triggerSchedule(
  client: Client,
  scheduleId: string,
  waitMs = 15_000,
): Promise<Triggered> {
  const handle = client.schedule.getHandle(scheduleId);
  const described = await handle.describe();
  const { runbook, cluster } = memoOf(described.memo);
  if (runbook && cluster && RUNBOOKS[runbook]?.disruptive && CLUSTER_NAME.test(cluster)) {
    const open = await openRun(client, cluster, runbook);
    if (open) {
      throw new InputError(
        `a ${runbook} run is already in progress on cluster ${cluster} (workflow ${open}); wait for it to finish or cancel it before starting another`,
      );
    }
  }
  const before = described.info;
  const seen = new Set(before.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = (await handle.describe()).info;
    const fresh = now.recentActions.find((a) => !seen.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      return {
        started: true,
        workflowId: fresh.action.workflow.workflowId,
        runId: fresh.action.workflow.firstExecutionRunId,
      };
    }
    if (now.numActionsSkippedOverlap > before.numActionsSkippedOverlap) {
      const running = now.runningActions.map((a) => a.workflow.workflowId).join(', ');
      return {
        started: false,
        reason: `skipped: a run started by this schedule is still open (${running || 'see describe'})`,
      };
    }
    if (Date.now() > deadline) {
      return { started: false, reason: `the server took no action within ${waitMs / 1000}s; see describe` };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The id of an open run of `runbook` on `cluster`, if any (visibility: eventually consistent). */
async function openRun(client: Client, cluster: string, runbook: string): Promise<string | undefined> {
  const query = `WabaCluster = '${cluster}' AND WabaRunbook = '${runbook}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query, pageSize: 1 })) return wf.workflowId;
  return undefined;
}
