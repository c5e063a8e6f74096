import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ClusterSpec, HostSpec, Role } from '../../src/spec/cluster';
import type { ComposeVariant } from '../../src/spec/commands';

const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
/** Host activities heartbeat while they run, so a dead worker's activity is retried within 30 s. */
export const hostActs = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry,
});
/** Long jobs (docker wait on the dbupgrade job, log collection). */
export const longActs = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '30s',
  retry,
});

export const hostsWithRole = (cluster: ClusterSpec, role: Role): HostSpec[] =>
  cluster.hosts.filter((h) => h.roles.includes(role));

/** Preflight the given hosts (SSH, Docker, compose) and remember which compose each has. */
export async function detectCompose(
  cluster: ClusterSpec,
  hosts: HostSpec[] = cluster.hosts,
): Promise<Map<string, ComposeVariant>> {
  const results = await Promise.all(hosts.map((h) => hostActs.preflightHost({ cluster, host: h.name })));
  return new Map(results.map((r) => [r.host, r.compose.variant]));
}
