// Activity interceptor: the cluster and host an activity works on, on each of its log lines.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { clusterNameOf } from '../src/spec/runbooks';

/** `{ cluster, host }` from an activity input of the usual `{ cluster: { name }, host }` shape. */
function contextOf(input: unknown): Record<string, string> {
  const { host } = (input ?? {}) as { host?: unknown };
  const out: Record<string, string> = {};
  const cluster = clusterNameOf(input);
  if (cluster) out.cluster = cluster;
  if (typeof host === 'string') out.host = host.slice(0, 64);
  return out;
}

export const activityLogContext: ActivityInterceptorsFactory = () => {
  let context: Record<string, string> = {};
  return {
    inbound: {
      execute(input, next) {
        context = contextOf(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return { ...next(input), ...context };
      },
    },
  };
};
