// What every host activity shares: the SSH target from the spec, running a command (checking its
// exit code), and a wrapper that heartbeats while the activity runs and classifies its errors.
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { SecretResolver } from '../src/secrets';
import type { ClusterSpec } from '../src/spec/cluster';
import { classify } from './failures';
import type { ExecResult, SshPool, SshTarget } from './ssh';

export interface HostDeps {
  secrets: SecretResolver;
  ssh: SshPool;
}

export interface HostRequest {
  cluster: ClusterSpec;
  host: string;
}

export const fail = (type: string, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

export function sshTarget(cluster: ClusterSpec, name: string): SshTarget {
  const host = cluster.hosts.find((h) => h.name === name);
  if (!host) throw fail('UnknownHost', `no host named ${name} in cluster ${cluster.name}`);
  const hostKey = cluster.ssh?.knownHosts[name];
  if (!cluster.ssh || !hostKey)
    throw fail('HostKeyMissing', `cluster.ssh.knownHosts has no pinned key for ${name}; nothing was run`);
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

  /** Heartbeat every 5 s (a dead worker is noticed within the heartbeat timeout); classify errors. */
  const guarded =
    <A extends { host?: string }, R>(what: string, fn: (a: A) => Promise<R>) =>
    async (a: A): Promise<R> => {
      const beat = setInterval(() => heartbeat(what), 5000);
      heartbeat(what);
      try {
        return await fn(a);
      } catch (err) {
        throw classify(err, `${what}${a.host ? ` on ${a.host}` : ''}`);
      } finally {
        clearInterval(beat);
      }
    };

  return { exec, run, guarded };
}
