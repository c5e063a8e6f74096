// Activity interceptor: the cluster and host an activity works on, on each of its log lines.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * `{ cluster, host }` from an activity input of the usual shapes: `{ cluster: { name, specHash },
 * host }` (cluster activities) or `{ cluster: "<name>" }` (resolveCluster).
 */
function contextOf(input: unknown): Record<string, string> {
  const { host, cluster: c } = (input ?? {}) as { host?: unknown; cluster?: unknown };
  const out: Record<string, string> = {};
  const cluster = typeof c === 'string' ? c : (c as { name?: unknown } | undefined)?.name;
  if (typeof cluster === 'string') out.cluster = cluster.slice(0, 64);
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
