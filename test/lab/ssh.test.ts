// The SSH activity layer against the lab's real OpenSSH servers: pooling, pinned host keys, bounded
// output, timeouts, atomic uploads, sudo hosts (a non-root login user), and the host preflight.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostActivities } from '../../activities/host-activities';
import { lifecycleActivities } from '../../activities/lifecycle-activities';
import { HostKeyError, SshPool, type SshTarget } from '../../activities/ssh';
import { TokenCache } from '../../activities/waba-api';
import { hostPublicKey, SSH_DIR } from '../../lab/hosts';
import { type LabInventoryDoc, readLabInventory } from '../../lab/inventory';
import { labState, up } from '../../lab/lab';
import { ssh } from '../../lab/operator';
import { MEDIA_MOUNT } from '../../lab/paths';
import { run, tryRun } from '../../lab/run';
import { inventoryOfDocuments } from '../../src/inventory/load';
import { InventoryStore } from '../../src/inventory/store';
import { CHOWN_GONE_WITH_CONTAINER } from '../../src/model/chown-progress';
import type { ClusterSpec } from '../../src/model/cluster';
import { makeDirCommand } from '../../src/model/host-commands';
import type { ClusterRef } from '../../src/model/inventory';
import { shellCommand } from '../../src/model/shell';
import { createSecretResolver } from '../../src/secrets';
import { labUnavailable } from './availability';

const unavailable = await labUnavailable();

describe.skipIf(unavailable)('SSH activities on the lab', () => {
  const pool = new SshPool(createSecretResolver());
  let target: SshTarget;
  let cluster: ClusterSpec;

  beforeAll(async () => {
    await up({ log: () => {} });
    cluster = onLab().cluster;
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

  describe('a host reached as a non-root user with sudo', () => {
    // Users, /home and /etc/sudoers.d are shared by every lab host (only /root and /run are per host).
    const user = 'wabalabsudo';
    const sudoers = `/etc/sudoers.d/${user}`;
    const dir = '/root/sudo-upload-test';
    const workDir = '/root/sudo-biz';
    const sudoPool = new SshPool(createSecretResolver());
    let sudoTarget: SshTarget;

    beforeAll(async () => {
      if (!(await tryRun('sh', ['-c', 'command -v sudo'])))
        throw new Error('sudo is not installed on this machine: apt-get install sudo (.ci/run installs it)');
      if (!(await tryRun('id', ['-u', user])))
        await run('useradd', ['--create-home', '--shell', '/bin/sh', user]);
      // sshd without PAM refuses a locked account ("!" in shadow) even for keys; "*" is no password.
      await run('usermod', ['-p', '*', user]);
      const home = (await run('getent', ['passwd', user])).split(':')[5] as string;
      mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
      writeFileSync(
        path.join(home, '.ssh/authorized_keys'),
        readFileSync(path.join(SSH_DIR, 'id_ed25519.pub')),
        { mode: 0o600 },
      );
      await run('chown', ['-R', `${user}:`, path.join(home, '.ssh')]);
      writeFileSync(sudoers, `${user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
      await run('visudo', ['-c', '-q', '-f', sudoers]);
      sudoTarget = { ...target, user, sudo: true };
      await pool.exec(target, shellCommand(['rm', '-rf', dir, workDir]));
    });

    afterAll(async () => {
      await sudoPool.close();
      await pool.exec(target, shellCommand(['rm', '-rf', dir, workDir]));
      rmSync(sudoers, { force: true });
      await tryRun('userdel', ['--remove', '--force', user]);
    });

    const inspect = async (file: string) =>
      (
        await pool.exec(
          target,
          `stat -c '%U %a' ${file}; sha256sum ${file} | cut -d' ' -f1; ls -A ${path.dirname(file)}; ` +
            `find /tmp -maxdepth 1 -user ${user} -name 'waba-upload.*' | wc -l`,
        )
      ).stdout.split('\n');

    it('runs commands as root through sudo -n', async () => {
      const r = await sudoPool.exec(sudoTarget, 'id -un; whoami >&2');
      expect(r).toMatchObject({ code: 0, stdout: 'root\n', stderr: 'root\n' });
      expect((await sudoPool.exec({ ...sudoTarget, sudo: false }, 'id -un')).stdout).toBe(`${user}\n`);
    });

    it('uploads into a directory only root may write: root owns the file, with the mode asked for', async () => {
      await sudoPool.exec(sudoTarget, makeDirCommand(dir));
      const file = `${dir}/secret.env`;
      const first = await sudoPool.upload(sudoTarget, Buffer.from('A=1\n'), file, 0o640);
      expect(await inspect(file)).toEqual(['root 640', first, 'secret.env', '0', '']);
      const second = await sudoPool.upload(sudoTarget, Buffer.from('A=2\n'), file, 0o600);
      expect(await inspect(file)).toEqual(['root 600', second, 'secret.env', '0', '']);
      expect((await pool.exec(target, `cat ${file}`)).stdout).toBe('A=2\n');
    });

    it('without sudo the same upload fails, saying why, and leaves the file alone', async () => {
      const file = `${dir}/secret.env`;
      await expect(
        sudoPool.upload({ ...sudoTarget, sudo: false }, Buffer.from('A=3\n'), file, 0o600),
      ).rejects.toThrow(new RegExp(`${user} cannot write .*Permission denied.*"sudo": true on host core1`));
      expect((await pool.exec(target, `cat ${file}`)).stdout).toBe('A=2\n');
      expect((await inspect(file)).slice(2, 4)).toEqual(['secret.env', '0']);
    });

    it('uploadSetupFiles works on a sudo host, and finds nothing to do the second time', async () => {
      // core1 logs in as a non-root user and runs commands through sudo (the inventory says so).
      const { store, ref } = onLab((lab) => {
        lab.workDir = workDir;
        for (const h of lab.hosts) if (h.name === 'core1') Object.assign(h, { user, sudo: true });
      });
      const acts = hostActivities({ inventory: store, secrets: createSecretResolver(), ssh: sudoPool });
      const upload = () => callOutsideWorker(() => acts.uploadSetupFiles({ cluster: ref, host: 'core1' }));
      expect((await upload()).map((f) => f.uploaded)).toEqual([true, true]);
      expect((await upload()).map((f) => f.uploaded)).toEqual([false, false]);
      const owners = await pool.exec(target, `stat -c '%U %a %n' ${workDir} ${workDir}/*`);
      expect(owners.stdout.trim().split('\n')).toEqual([
        `root 755 ${workDir}`,
        `root 600 ${workDir}/db.env`,
        `root 644 ${workDir}/prod-multiconnect-compose.yml`,
      ]);
    });
  });

  it('preflight reports docker and compose, and checks the media mount mode (unless told not to)', async () => {
    const { store, ref: withMedia } = onLab((lab) => {
      (lab as { media: unknown }).media = { hostPath: MEDIA_MOUNT };
    });
    const acts = hostActivities({ inventory: store, secrets: createSecretResolver(), ssh: pool });
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
      // collectLogs and uninstall: the same host passes, without a media mode.
      const unchecked = await callOutsideWorker(() =>
        acts.preflightHost({ cluster: withMedia, host: 'core1', media: false }),
      );
      expect(unchecked).toMatchObject({ host: 'core1', compose: { variant: 'v1' } });
      expect(unchecked.mediaMode).toBeUndefined();
    } finally {
      await ssh(target.address, `chmod 755 ${MEDIA_MOUNT}`);
    }
  });

  it('media chown progress: a container re-created (gone) or stopped under the chown reads as gone, nothing run in it', async () => {
    const { store, ref } = onLab();
    const acts = lifecycleActivities({
      inventory: store,
      secrets: createSecretResolver(),
      ssh: pool,
      tokens: new TokenCache(),
      dispatchers: new Map(),
      requestTimeoutMs: 5000,
      artifactsDir: '/nonexistent',
    });
    const image = (
      await ssh(target.address, "docker images --format '{{.Repository}}:{{.Tag}}' | head -n 1")
    ).trim();
    expect(image).toMatch(/^docker\.whatsapp\.biz\//);
    // A container that exists but does not run (as one stopped under the chown), and an id no container has any more.
    const stopped = (await ssh(target.address, shellCommand(['docker', 'create', image]))).trim();
    try {
      for (const container of [stopped, 'f00dfeedc0de']) {
        const p = await callOutsideWorker(() =>
          acts.mediaChownProgress({ cluster: ref, host: 'core1', container }),
        );
        expect(p).toEqual(CHOWN_GONE_WITH_CONTAINER);
      }
    } finally {
      await ssh(target.address, shellCommand(['docker', 'rm', '-f', stopped]));
    }
  });
});

/** The lab's `lab` cluster, changed by `change`, in an inventory of its own: the store and the run's reference. */
function onLab(change: (lab: LabInventoryDoc['clusters'][string]) => void = () => {}): {
  store: InventoryStore;
  ref: ClusterRef;
  cluster: ClusterSpec;
} {
  const doc = readLabInventory();
  const lab = doc.clusters.lab;
  if (!lab) throw new Error('the lab inventory has no lab cluster');
  change(lab);
  const store = InventoryStore.of(inventoryOfDocuments('ssh-test', [{ file: 'ssh-test', doc }]));
  const found = store.byName('lab');
  if (!found.ok) throw new Error(found.message);
  return { store, ref: { name: 'lab', specHash: found.entry.specHash }, cluster: found.entry.cluster };
}

/** Run an activity function with a mock activity context (heartbeats are no-ops). */
async function callOutsideWorker<T>(fn: () => Promise<T>): Promise<T> {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  return new MockActivityEnvironment().run(fn);
}
