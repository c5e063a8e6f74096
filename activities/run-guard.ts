// Which other disruptive runs are open on a cluster, from the server's visibility, through the
// worker's own client: the workflow-side half of "one disruptive run per cluster at a time".
import { Context } from '@temporalio/activity';
import { isPreviewId } from '../src/spec/runbooks';

export interface OpenRun {
  workflowId: string;
  runbook: string;
}

export interface OpenRunsRequest {
  cluster: string;
  /** Workflow types that count as disruptive. */
  runbooks: string[];
  /** The asking run's workflow id: itself and its children (`<id>/...`) do not count. */
  self: string;
}

/** At most this many are named in the refusal; one is enough to refuse. */
const MAX_LISTED = 5;

export function runGuardActivities() {
  return {
    async openDisruptiveRuns(a: OpenRunsRequest): Promise<OpenRun[]> {
      // Cluster names are schema-checked (no quotes); escape anyway, it is a query string.
      const cluster = a.cluster.replace(/['\\]/g, '\\$&');
      const query = `WabaCluster = '${cluster}' AND ExecutionStatus = 'Running'`;
      const open: OpenRun[] = [];
      for await (const run of Context.current().client.workflow.list({ query })) {
        if (run.workflowId === a.self || run.workflowId.startsWith(`${a.self}/`)) continue;
        if (!a.runbooks.includes(run.type)) continue;
        if (isPreviewId(run.workflowId)) continue; // a dry run changes nothing
        open.push({ workflowId: run.workflowId, runbook: run.type });
        if (open.length >= MAX_LISTED) break;
      }
      return open;
    },
  };
}
