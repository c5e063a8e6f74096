// What an upgrade finds on the hosts: the version each role's service runs, read from its containers.
import type { HostSpec, OperableCluster, Role } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import type { ClusterRef } from '../../src/model/inventory';
import { compareVersions, VERSION_PATTERN } from '../../src/model/version';
import { hostActs, hostsWithRole } from '../lib/hosts';
import { SERVICE_OF_ROLE } from '../lib/plan';

/** One role's service on one host, as read before upgrading. */
export interface ServiceOnHost {
  host: HostSpec;
  role: Role;
  service: string;
  /** The version read from its containers' image; `none` without a container. */
  from: string;
  onTarget: boolean;
  /** What a rollback puts it back on: what it ran, or cluster.version when that is not an older version. */
  rollbackTo: string;
}

/** The order roles are upgraded in. */
export const ROLES: Role[] = ['webapp', 'master', 'coreapp'];

/** `docker.whatsapp.biz/coreapp:v2.29.1` -> `2.29.1`; undefined for any other tag. */
export function versionOfImage(image: string): string | undefined {
  const m = /:v(\d+\.\d+\.\d+)$/.exec(image);
  return m?.[1];
}

export function needsDbUpgrade(engine: string, to: string): boolean {
  return engine === 'MYSQL' && compareVersions(to, '2.23.0') >= 0;
}

export function needsMediaChown(from: string, to: string): boolean {
  return (from === '2.29.1' || from === '2.29.2') && compareVersions(to, '2.29.3') >= 0;
}

/**
 * What each role's service runs on each host, read from its containers: a service counts as on the
 * target only when every one of its containers runs the target's image; otherwise its version is
 * the first one that is not the target.
 */
export async function readRunningVersions(
  ref: ClusterRef,
  cluster: OperableCluster,
  variants: Map<string, ComposeVariant>,
  from: string,
  to: string,
): Promise<ServiceOnHost[]> {
  const states = new Map(
    await Promise.all(
      cluster.hosts.map(
        async (h) =>
          [
            h.name,
            await hostActs.composePs({
              cluster: ref,
              host: h.name,
              version: from,
              variant: variants.get(h.name) ?? 'v1',
            }),
          ] as const,
      ),
    ),
  );
  return ROLES.flatMap((role) =>
    hostsWithRole(cluster, role).map((host) => {
      const service = SERVICE_OF_ROLE[role];
      const mine = (states.get(host.name) ?? []).filter((c) => c.service === service);
      const versions = mine.map((c) => versionOfImage(c.image) ?? `unknown (${c.image})`);
      const onTarget = mine.length > 0 && mine.every((c) => c.running) && versions.every((v) => v === to);
      const read = versions.find((v) => v !== to) ?? versions[0] ?? 'none';
      const older = VERSION_PATTERN.test(read) && compareVersions(read, to) < 0;
      return { host, role, service, from: read, onTarget, rollbackTo: older ? read : from };
    }),
  );
}

/** What changed between two readings of the hosts, for the re-opened gate and its notification. */
export function planChange(before: ServiceOnHost[], after: ServiceOnHost[], to: string): string {
  const key = (s: ServiceOnHost) => `${s.host.name}/${s.service}`;
  const changes = after.flatMap((a) => {
    const b = before.find((x) => key(x) === key(a));
    if (b && b.from === a.from && b.onTarget === a.onTarget) return [];
    const shown = (s: ServiceOnHost) =>
      s.onTarget ? `v${to}` : s.from === 'none' ? 'no container' : `v${s.from}`;
    return [`${key(a)} ran ${b ? shown(b) : 'nothing known'} when the gate opened, now ${shown(a)}`];
  });
  return changes.join('; ') || 'the plan changed';
}
