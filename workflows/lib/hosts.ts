import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PreflightResult } from '../../activities/host-activities';
import type { ClusterSpec, HostSpec, Role } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import type { ClusterRef } from '../../src/model/inventory';
import { HOST_STEP, LONG_STEP } from './activity-options';

/** Host activities heartbeat while they run, so a dead worker's activity is retried within seconds. */
export const hostActs = proxyActivities<Activities>(HOST_STEP);
/** Long jobs (log collection). */
export const longActs = proxyActivities<Activities>(LONG_STEP);

export const hostsWithRole = (cluster: ClusterSpec, role: Role): HostSpec[] =>
  cluster.hosts.filter((h) => h.roles.includes(role));

/**
 * Every runbook's first SSH stages: the host keys of all the given hosts (a handshake each, nothing
 * run; a wrong key anywhere fails the run before any command runs anywhere), then preflight of each
 * host in parallel (Docker, compose, and unless `media` is false the media mount mode). `stage`
 * names each stage as it starts.
 */
export async function preflightHosts(
  ref: ClusterRef,
  cluster: ClusterSpec,
  hosts: HostSpec[] = cluster.hosts,
  stage: (name: 'host keys' | 'preflight') => void = () => {},
  media = true,
): Promise<PreflightResult[]> {
  if (hosts.length === 0) return [];
  stage('host keys');
  await hostActs.checkHostKeys({ cluster: ref, hosts: hosts.map((h) => h.name) });
  stage('preflight');
  // The flag is sent only when off: what runs already recorded schedule stays the same.
  const args = (host: string) => (media ? { cluster: ref, host } : { cluster: ref, host, media: false });
  return Promise.all(hosts.map((h) => hostActs.preflightHost(args(h.name))));
}

/**
 * Preflight the given hosts (host keys first) and remember which compose each has. `media: false`
 * for runbooks that must work on a cluster whose media mount is wrong (collectLogs, uninstall).
 */
export async function detectCompose(
  ref: ClusterRef,
  cluster: ClusterSpec,
  hosts: HostSpec[] = cluster.hosts,
  opts: { media?: boolean } = {},
): Promise<Map<string, ComposeVariant>> {
  const results = await preflightHosts(ref, cluster, hosts, undefined, opts.media ?? true);
  return new Map(results.map((r) => [r.host, r.compose.variant]));
}
