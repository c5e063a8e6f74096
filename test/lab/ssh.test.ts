// The SSH activity layer against the lab's real OpenSSH servers: pooling, pinned host keys, bounded
// output, timeouts, atomic uploads, and the host preflight (media mount mode).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostActivities } from '../../activities/host-activities';
import { HostKeyError, SshPool, type SshTarget } from '../../activities/ssh';
import { createSecretResolver } from '../../src/secrets';
import { ClusterSpec } from '../../src/spec/cluster';
import { labUnavailable } from './availability';
import { CLUSTER_JSON } from './cluster-json';
import { hostPublicKey } from './hosts';
import { labState, up } from './lab';
import { ssh } from './operator';
import { MEDIA_MOUNT } from './paths';

const unavailable = await labUnavailable();

describe.skipIf(unavailable)('SSH activities on the lab', () => {
  const pool = new SshPool(createSecretResolver());
  let target: SshTarget;
  let cluster: ClusterSpec;

  beforeAll(async () => {
    await up({ log: () => {} });
    cluster = ClusterSpec.parse(JSON.parse(readFileSync(CLUSTER_JSON, 'utf8')));
    const core1 = labState().hosts.find((h) => h.name === 'core1') as { address: string };
    target = {
      host: 'core1',
      address: core1.address,
      port: 22,
      user: 'root',
      sudo: false,
      hostKey: hostPublicKey('core1'),
      privateKeyRef: cluster.ssh?.privateKeyRef as string,
    };
  });
  afterAll(() => pool.close());

  it('reuses one connection per host for many commands, more at once than sshd MaxSessions allows', async () => {
    const before = pool.counters.handshakes;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => pool.exec(target, `echo ${i}; echo err${i} >&2; exit ${i % 3}`)),
    );
    expect(results.map((r) => r.code)).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
    expect(results[4]).toMatchObject({ stdout: '4\n', stderr: 'err4\n', truncated: false });
    expect(pool.counters.handshakes - before).toBeLessThanOrEqual(1);
  });

  it('bounds the output it keeps and honours a timeout', async () => {
    const big = await pool.exec(target, 'head -c 1000000 /dev/zero | tr "\\0" x');
    expect(big.truncated).toBe(true);
    expect(big.stdout.length).toBe(256 * 1024);
    await expect(pool.exec(target, 'sleep 30', 1000)).rejects.toThrow('did not finish within 1 s');
  });

  it('refuses a host whose key is not the pinned one, before running anything', async () => {
    const wrong = { ...target, hostKey: hostPublicKey('web1') };
    const fresh = new SshPool(createSecretResolver());
    await expect(fresh.exec(wrong, 'touch /root/should-not-exist')).rejects.toBeInstanceOf(HostKeyError);
    await fresh.close();
    expect((await ssh(target.address, 'ls /root/should-not-exist 2>/dev/null || echo absent')).trim()).toBe(
      'absent',
    );
  });

  it('uploads atomically: a temp name, a checksum, then a rename', async () => {
    const content = Buffer.from(`payload ${Date.now()}\n`.repeat(1000));
    await pool.exec(target, 'mkdir -p /root/upload-test');
    const sum = await pool.upload(target, content, '/root/upload-test/file.txt', 0o600);
    const remote = await pool.exec(
      target,
      'sha256sum /root/upload-test/file.txt | cut -d" " -f1; stat -c %a /root/upload-test/file.txt; ls /root/upload-test',
    );
    expect(remote.stdout.split('\n')).toEqual([sum, '600', 'file.txt', '']);
  });

  it('preflight reports docker and compose, and checks the media mount mode', async () => {
    const acts = hostActivities({ secrets: createSecretResolver(), ssh: pool });
    const withMedia = { ...cluster, media: { hostPath: MEDIA_MOUNT } };
    const result = await callOutsideWorker(() => acts.preflightHost({ cluster: withMedia, host: 'core1' }));
    expect(result).toMatchObject({
      host: 'core1',
      compose: { variant: 'v1' },
      mediaMode: '755',
    });
    await ssh(target.address, `chmod 777 ${MEDIA_MOUNT}`);
    try {
      await expect(
        callOutsideWorker(() => acts.preflightHost({ cluster: withMedia, host: 'core1' })),
      ).rejects.toThrow('must be mode 755');
    } finally {
      await ssh(target.address, `chmod 755 ${MEDIA_MOUNT}`);
    }
  });
});

/** Run an activity function with a mock activity context (heartbeats are no-ops). */
async function callOutsideWorker<T>(fn: () => Promise<T>): Promise<T> {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  return new MockActivityEnvironment().run(fn);
}
