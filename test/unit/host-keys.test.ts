// checkHostKeys against a real OpenSSH server started for the test (own host key, own port): the
// pinned key is accepted without logging in, another key is a non-retryable HostKeyMismatch, an
// unpinned host is refused before any connection, a closed port is retryable.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostKeyActivities } from '../../activities/host-keys';
import { SshPool } from '../../activities/ssh';
import { freePort } from '../../src/free-port';
import type { ClusterRef } from '../../src/model/inventory';
import { testInventoryStore } from '../support/inventory';

const SSHD = '/usr/sbin/sshd';

describe.skipIf(!existsSync(SSHD))('checkHostKeys (a real sshd)', () => {
  let dir: string;
  let port: number;
  let pid: number | undefined;
  const log = () => readFileSync(path.join(dir, 'sshd.log'), 'utf8');
  const pub = (name: string) =>
    readFileSync(path.join(dir, `${name}.pub`), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
  const secrets = async () => 'not used: no login is attempted';
  /** Cluster `t` of an inventory of its own: one host h1 on `p`, pinned to `pin` (no ssh section without). */
  const cluster = (pin: string | undefined, p = port) => {
    const entry = {
      hosts: [{ name: 'h1', address: '127.0.0.1', port: p, roles: ['webapp'] }],
      api: {
        baseUrl: 'https://127.0.0.1:9',
        passwordRef: 'env:UNUSED',
        tls: { pinnedSha256: 'AB'.repeat(32) },
      },
      ...(pin ? { ssh: { privateKeyRef: 'env:UNUSED', knownHosts: { h1: pin } } } : {}),
    };
    const inventory = testInventoryStore({ t: entry });
    const found = inventory.byName('t');
    if (!found.ok) throw new Error(found.message);
    const { checkHostKeys } = hostKeyActivities({ inventory, secrets, ssh: new SshPool(secrets) });
    return { checkHostKeys, ref: { name: 't', specHash: found.entry.specHash } as ClusterRef };
  };
  /** sshd logs a connection's end after the client has gone: wait (at most 5 s) for the n-th one. */
  const disconnects = async (n: number) => {
    const deadline = Date.now() + 5000;
    while ((log().match(/Disconnected from|Connection closed by/g)?.length ?? 0) < n) {
      if (Date.now() > deadline) throw new Error(`sshd logged fewer than ${n} disconnects:\n${log()}`);
      await sleep(50);
    }
    return log();
  };
  const run = ({ checkHostKeys, ref }: ReturnType<typeof cluster>) =>
    new MockActivityEnvironment().run(checkHostKeys, { cluster: ref, hosts: ['h1'] }).then(
      (v) => ({ ok: v }),
      (e: unknown) => ({ error: e as Error }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'waba-hostkeys-'));
    for (const k of ['host', 'other'])
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
    port = await freePort();
    writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(dir, 'host')}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        'LogLevel VERBOSE',
        'PasswordAuthentication no',
        'UsePAM no',
      ].join('\n'),
    );
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation
    const child = spawn(SSHD, ['-D', '-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')], {
      stdio: 'ignore',
    });
    pid = child.pid;
    const deadline = Date.now() + 10_000;
    while (!(existsSync(path.join(dir, 'sshd.log')) && log().includes('Server listening'))) {
      if (Date.now() > deadline) throw new Error('sshd did not start within 10 s');
      await sleep(100);
    }
  });
  afterAll(() => {
    if (pid) process.kill(pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the pinned key: accepted, and the connection ends before authentication (no login)', async () => {
    const r = await run(cluster(pub('host')));
    expect(r).toEqual({ ok: { checked: ['h1'] } });
    const text = await disconnects(1);
    expect(text).toMatch(/Disconnected from .* \[preauth\]/);
    expect(text).not.toContain('Accepted');
  });

  it('the key exchange runs without Nagle (TCP_NODELAY), as the pooled connections do', async () => {
    const spy = vi.spyOn(Client.prototype, 'setNoDelay');
    try {
      expect(await run(cluster(pub('host')))).toEqual({ ok: { checked: ['h1'] } });
      expect(spy.mock.calls).toEqual([[true]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('another key: HostKeyMismatch, non-retryable, naming the host and both fingerprints', async () => {
    const r = await run(cluster(pub('other')));
    const failure = (r as { error: Error }).error;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('HostKeyMismatch');
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /^host key of h1 \(127\.0\.0\.1\) does not match ssh\.knownHosts\.h1: pinned ssh-ed25519 SHA256:\S+, presented SHA256:\S+; nothing was run$/,
    );
    expect(await disconnects(2)).not.toContain('Accepted');
  });

  it('no pinned key (a cluster without ssh in the inventory): HostKeyMissing before any connection', async () => {
    const connections = log().match(/Connection from/g)?.length ?? 0;
    const r = await run(cluster(undefined));
    expect((r as { error: ApplicationFailure }).error.type).toBe('HostKeyMissing');
    expect(log().match(/Connection from/g)?.length ?? 0).toBe(connections);
  });

  it('nothing listening: a retryable error naming the host', async () => {
    const r = await run(cluster(pub('host'), await freePort()));
    const error = (r as { error: Error }).error;
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error.message).toMatch(/^host key check: ssh to h1 \(127\.0\.0\.1:\d+\): connect ECONNREFUSED/);
  });
});
