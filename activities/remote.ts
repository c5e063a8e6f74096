// What every cluster activity shares: the cluster spec from the worker's inventory (never from the
// activity's arguments: they name the cluster and the hash its run recorded), the SSH target of a
// host, running a command (checking its exit code), and a wrapper that heartbeats while the
// activity runs and classifies its errors.
import { heartbeat } from '@temporalio/activity';
import type { InventoryStore } from '../src/inventory/store';
import type { ClusterSpec } from '../src/model/cluster';
import { HOST_KEY_MISSING, nonRetryable, UNKNOWN_HOST } from '../src/model/errors';
import type { ClusterRef } from '../src/model/inventory';
import type { SecretResolver } from '../src/secrets';
import { classify } from './failures';
import type { ExecResult, SshPool, SshTarget } from './ssh';

export interface ClusterDeps {
  inventory: InventoryStore;
  secrets: SecretResolver;
}

export interface HostDeps extends ClusterDeps {
  ssh: SshPool;
}

/** What a cluster activity is given: the run's cluster reference. */
export interface ClusterRequest {
  cluster: ClusterRef;
}

export interface HostRequest extends ClusterRequest {
  host: string;
}

/** The spec the run resolved, from the inventory as it is now; refused when it changed or is gone. */
export function specOf(inventory: InventoryStore, ref: ClusterRef): ClusterSpec {
  const found = inventory.byRef(ref);
  if (!found.ok) throw nonRetryable(found.kind, found.message);
  return found.entry.cluster;
}

/** The SSH target of a host of the cluster (members and spare hosts alike), its key pinned. */
export function sshTarget(cluster: ClusterSpec, name: string): SshTarget {
  const host = [...cluster.hosts, ...cluster.spareHosts].find((h) => h.name === name);
  if (!host) throw nonRetryable(UNKNOWN_HOST, `no host named ${name} in cluster ${cluster.name}`);
  const hostKey = cluster.ssh?.knownHosts[name];
  if (!cluster.ssh || !hostKey)
    throw nonRetryable(
      HOST_KEY_MISSING,
      `cluster.ssh.knownHosts has no pinned key for ${name}; nothing was run`,
    );
  return {
    host: name,
    address: host.address,
    port: host.port,
    user: host.user,
    sudo: host.sudo,
    hostKey,
    privateKeyRef: cluster.ssh.privateKeyRef,
  };
}

/**
 * Heartbeat every second while `fn` runs (the SDK forwards at most one per 0.8 x the heartbeat
 * timeout, workflows/lib/activity-options.ts): a dead worker is noticed within that timeout.
 */
export async function beating<R>(what: string, fn: () => Promise<R>): Promise<R> {
  const beat = setInterval(() => heartbeat(what), HEARTBEAT_EVERY_MS);
  heartbeat(what);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}
const HEARTBEAT_EVERY_MS = 1000;

/** {@link beating}, and errors classified (retryable or not, naming the host). */
export const guarded =
  <A extends { host?: string }, R>(what: string, fn: (a: A) => Promise<R>) =>
  async (a: A): Promise<R> => {
    try {
      return await beating(what, () => fn(a));
    } catch (err) {
      throw classify(err, `${what}${a.host ? ` on ${a.host}` : ''}`);
    }
  };

/** `guarded`, with the run's cluster spec looked up in the inventory first. */
export const onCluster =
  (inventory: InventoryStore) =>
  <A extends ClusterRequest & { host?: string }, R>(
    what: string,
    fn: (a: A, cluster: ClusterSpec) => Promise<R>,
  ) =>
    guarded(what, (a: A) => fn(a, specOf(inventory, a.cluster)));

export function remote(deps: HostDeps) {
  const exec = (
    cluster: ClusterSpec,
    host: string,
    command: string,
    timeoutMs?: number,
  ): Promise<ExecResult> => deps.ssh.exec(sshTarget(cluster, host), command, timeoutMs);

  /** Run a command that must succeed; the error names the host, the step and the output's tail. */
  async function run(
    cluster: ClusterSpec,
    host: string,
    command: string,
    what: string,
    timeoutMs?: number,
  ): Promise<string> {
    const r = await exec(cluster, host, command, timeoutMs);
    if (r.code !== 0)
      throw new Error(`${what} on ${host} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-800)}`);
    return r.stdout;
  }

  return { exec, run, guarded, onCluster: onCluster(deps.inventory) };
}
