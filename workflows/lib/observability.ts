// Workflow interceptors for every runbook: per-runbook run counters for Prometheus, and the
// cluster and current step on every workflow log line. No commands: histories do not change.
import {
  ContinueAsNew,
  isCancellation,
  metricMeter,
  TemporalFailure,
  type WorkflowInterceptorsFactory,
  workflowInfo,
} from '@temporalio/workflow';
import { clusterNameOf, isRunbook } from '../../src/model/runbooks';
import { runContext, setRunContext } from './run-context';

/** A run counter (made when used: only inside a workflow context). */
const counter = (name: string, description: string) => metricMeter.createCounter(name, 'runs', description);

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const cluster = clusterNameOf(input.args[0]);
        if (cluster) setRunContext({ cluster });
        // The cluster lock (workflows/cluster-lock.ts) is not a run: it is not counted as one.
        if (!isRunbook(workflowInfo().workflowType)) return next(input);
        const tags = { runbook: workflowInfo().workflowType, cluster: cluster ?? 'unknown' };
        // A continued run (mediaChown's batches) is the same run to an operator: count it once.
        if (!workflowInfo().continuedFromExecutionRunId)
          counter('waba_runs_started', 'Runbook runs started').add(1, tags);
        try {
          const result = await next(input);
          counter('waba_runs_succeeded', 'Runbook runs that completed').add(1, tags);
          return result;
        } catch (err) {
          // Only Temporal failures fail the run; other errors fail (and retry) the workflow task.
          if (!(err instanceof ContinueAsNew) && (err instanceof TemporalFailure || isCancellation(err)))
            counter('waba_runs_failed', 'Runbook runs that failed or were cancelled').add(1, {
              ...tags,
              cancelled: isCancellation(err) ? 'true' : 'false',
            });
          throw err;
        }
      },
    },
  ],
  outbound: [
    {
      getLogAttributes(input, next) {
        return { ...next(input), ...runContext() };
      },
    },
  ],
});
