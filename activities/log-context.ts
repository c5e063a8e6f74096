// Activity interceptor: the cluster and host an activity works on, on each of its log lines.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** `{ cluster, host }` from an activity input of the usual `{ cluster: { name }, host }` shape. */
function contextOf(input: unknown): Record<string, string> {
  const { cluster, host } = (input ?? {}) as { cluster?: { name?: unknown }; host?: unknown };
  const out: Record<string, string> = {};
  if (typeof cluster?.name === 'string') out.cluster = cluster.name.slice(0, 64);
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
