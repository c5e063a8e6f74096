// The first SSH stage of every runbook: the host key of each host, compared with the pinned one in
// a key exchange of its own, before any command runs anywhere. A wrong or unpinned key on any host
// fails the run (non-retryable) naming the hosts; nothing has been run on any of them.
import { Client } from 'ssh2';
import { HOST_KEY_MISMATCH, nonRetryable } from '../src/model/errors';
import { type ClusterRequest, type HostDeps, remote, sshTarget } from './remote';
import { HostKeyError, hostKeyMismatch, pinnedKeyOf, SshConnectError, type SshTarget } from './ssh';

/**
 * A fresh connection up to the key exchange only: the presented key is checked against the pin and
 * the connection is closed before authentication (no login, no command). Not the pooled one: that
 * one logs in, and this stage must leave no trace on any host before every key has been checked.
 */
function checkKey(t: SshTarget, timeoutMs = 15_000): Promise<void> {
  const pinned = pinnedKeyOf(t);
  return new Promise<void>((resolve, reject) => {
    const client = new Client();
    let presented: Buffer | undefined;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      setImmediate(() => client.end());
      if (error) reject(error);
      else resolve();
    };
    const mismatch = (key: Buffer) => hostKeyMismatch(t, key);
    client
      .on('error', (err) =>
        settle(
          presented && !presented.equals(pinned)
            ? mismatch(presented)
            : new SshConnectError(`ssh to ${t.host} (${t.address}:${t.port}): ${err.message}`),
        ),
      )
      .on('close', () =>
        settle(
          new SshConnectError(`ssh to ${t.host} (${t.address}:${t.port}): closed before the key exchange`),
        ),
      )
      .connect({
        host: t.address,
        port: t.port,
        username: t.user,
        readyTimeout: timeoutMs,
        // No authentication is offered: the check ends with the key.
        authHandler: [],
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          presented = key;
          const ok = key.equals(pinned);
          verify(ok);
          settle(ok ? undefined : mismatch(key));
        },
      });
    client.setNoDelay(true); // as the pool's connections (activities/ssh.ts): no delayed-ACK waits
  });
}

export function hostKeyActivities(deps: HostDeps) {
  const { onCluster } = remote(deps);
  return {
    /** The key of every given host against its pin; a mismatch or a missing pin names the hosts. */
    checkHostKeys: onCluster(
      'host key check',
      async ({ hosts }: ClusterRequest & { hosts: string[]; host?: string }, cluster) => {
        // A host without a pinned key fails here (HostKeyMissing), before any connection is opened.
        const targets = hosts.map((h) => sshTarget(cluster, h));
        const outcomes = await Promise.allSettled(targets.map((t) => checkKey(t)));
        const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        const mismatches = errors.filter((e): e is HostKeyError => e instanceof HostKeyError);
        if (mismatches.length > 0)
          throw nonRetryable(HOST_KEY_MISMATCH, mismatches.map((e) => e.message).join('; '));
        // An unreachable host and the like: retryable (the guard adds what was being done).
        if (errors.length > 0) throw errors[0];
        return { checked: hosts };
      },
    ),
  };
}
