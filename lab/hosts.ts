// Lab hosts: a network namespace per host (own address), plus a private mount namespace with its own
// /root and /run, in which the host's OpenSSH server and Docker daemon run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellQuote } from '../src/model/shell';
import { killAll, labProcesses, removeCgroups } from './lab-processes';
import { BRIDGE, BRIDGE_ADDRESS, hostDir, LAB_DIR, MEDIA_MOUNT, netnsName, vethName } from './paths';
import { alive, run, tryRun } from './run';

export const SSH_DIR = path.join(LAB_DIR, 'ssh');
const NFS_DIR = path.join(LAB_DIR, 'nfs');

export async function ensureBridge(): Promise<void> {
  if (!(await tryRun('ip', ['link', 'show', BRIDGE]))) {
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
  }
  await run('ip', ['link', 'set', BRIDGE, 'up']);
}

/** A namespace with a veth to the bridge and the given address (idempotent). */
export async function ensureNetns(name: string, address: string): Promise<void> {
  const ns = netnsName(name);
  const veth = vethName(name);
  if (!existsSync(`/var/run/netns/${ns}`)) await run('ip', ['netns', 'add', ns]);
  if (!(await tryRun('ip', ['link', 'show', veth]))) {
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['link', 'set', veth, 'master', BRIDGE]);
  }
  await run('ip', ['link', 'set', veth, 'up']);
  const inNs = (args: string[]) => run('ip', ['-n', ns, ...args]);
  if (!(await inNs(['addr', 'show', 'dev', 'eth0'])).includes(`${address}/24`)) {
    await inNs(['addr', 'add', `${address}/24`, 'dev', 'eth0']);
  }
  await inNs(['link', 'set', 'eth0', 'up']);
  await inNs(['link', 'set', 'lo', 'up']);
  // No default route: lab hosts reach only each other and the worker on the bridge.
}

export async function ensureSshKeys(): Promise<void> {
  mkdirSync(SSH_DIR, { recursive: true, mode: 0o700 });
  const key = path.join(SSH_DIR, 'id_ed25519');
  if (!existsSync(key))
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'waba-runbooks-lab', '-f', key]);
}

function pidFrom(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 && alive(pid) ? pid : undefined;
}

export const dockerdPid = (name: string) => pidFrom(path.join(hostDir(name), 'run', 'docker.pid'));
export const sshdPid = (name: string) => pidFrom(path.join(hostDir(name), 'run', 'sshd.pid'));

/** Run a command inside a host (its network and mount namespaces), like a root shell on that machine. */
export async function inHost(name: string, argv: string[], input?: string): Promise<string> {
  const pid = dockerdPid(name) ?? sshdPid(name);
  if (!pid)
    throw new Error(
      `lab host ${name} is not running (no dockerd or sshd pid); run scripts/lab start-host ${name}`,
    );
  return run('nsenter', ['--target', String(pid), '--mount', '--net', '--', ...argv], {
    input,
    timeoutMs: 300_000,
  });
}

function hostInitScript(name: string, address: string): string {
  const dir = hostDir(name);
  const q = shellQuote;
  return `#!/bin/sh
# Runs inside the lab host's network namespace and a fresh private mount namespace.
set -e
mount --bind ${q(path.join(dir, 'home'))} /root
mount --bind ${q(path.join(dir, 'run'))} /run
mkdir -p /run/sshd ${q(MEDIA_MOUNT)}
mount --bind ${q(NFS_DIR)} ${q(MEDIA_MOUNT)}
dockerd --data-root ${q(path.join(dir, 'docker'))} --exec-root /run/docker --pidfile /run/docker.pid \\
  -H unix:///run/docker.sock --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent ${q(`/waba-lab-${name}`)} \\
  --iptables=true --ip-forward=true >>${q(path.join(dir, 'dockerd.log'))} 2>&1 &
/usr/sbin/sshd -f ${q(path.join(dir, 'sshd_config'))} -E ${q(path.join(dir, 'sshd.log'))}
# address ${address}
`;
}

function sshdConfig(name: string, address: string): string {
  const dir = hostDir(name);
  return `# sshd of lab host ${name}: key authentication only
ListenAddress ${address}
Port 22
HostKey ${path.join(dir, 'ssh_host_ed25519_key')}
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
StrictModes yes
PrintMotd no
Subsystem sftp internal-sftp
`;
}

/** Prepare a host's files (home with authorized_keys, run dir, host key, configs). Idempotent. */
export async function prepareHost(name: string, address: string): Promise<void> {
  const dir = hostDir(name);
  for (const d of ['home/.ssh', 'run', 'docker']) mkdirSync(path.join(dir, d), { recursive: true });
  mkdirSync(NFS_DIR, { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKey))
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `lab-${name}`, '-f', hostKey]);
  writeFileSync(
    path.join(dir, 'home/.ssh/authorized_keys'),
    readFileSync(path.join(SSH_DIR, 'id_ed25519.pub')),
    { mode: 0o600 },
  );
  await run('chmod', ['700', path.join(dir, 'home'), path.join(dir, 'home/.ssh')]);
  writeFileSync(path.join(dir, 'sshd_config'), sshdConfig(name, address));
  writeFileSync(path.join(dir, 'init.sh'), hostInitScript(name, address), { mode: 0o755 });
}

export function hostPublicKey(name: string): string {
  const [type, key] = readFileSync(path.join(hostDir(name), 'ssh_host_ed25519_key.pub'), 'utf8')
    .trim()
    .split(/\s+/);
  return `${type} ${key}`;
}

/** Start sshd and dockerd in the host (no-op when both run), then wait for Docker to answer. */
export async function startHost(name: string): Promise<void> {
  if (!(dockerdPid(name) && sshdPid(name))) {
    await requireNetwork(name);
    if (dockerdPid(name) || sshdPid(name)) await stopHost(name);
    await run('nsenter', [
      `--net=/var/run/netns/${netnsName(name)}`,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '/bin/sh',
      path.join(hostDir(name), 'init.sh'),
    ]);
  }
  for (let i = 0; i < 120; i++) {
    if (
      dockerdPid(name) &&
      (await inHost(name, ['docker', 'version', '--format', '{{.Server.Version}}']).then(
        () => true,
        () => false,
      ))
    )
      return;
    await sleep(500);
  }
  throw new Error(
    `the Docker daemon of lab host ${name} did not start: see ${path.join(hostDir(name), 'dockerd.log')}`,
  );
}

/**
 * Stop the host like a shutdown: sshd, then dockerd (which stops its containers, whose simulated
 * nodes release what they hold); then, as a power cut would, every process still left of that host
 * (containerd and its shims, containers dockerd did not stop, ssh sessions), and its cgroups.
 */
export async function stopHost(name: string): Promise<void> {
  const sshd = sshdPid(name);
  if (sshd) process.kill(sshd, 'SIGTERM');
  const dockerd = dockerdPid(name);
  if (dockerd) {
    process.kill(dockerd, 'SIGTERM');
    for (let i = 0; i < 60 && alive(dockerd); i++) await sleep(500);
  }
  const stuck = await killAll(labProcesses(name).map((p) => p.pid));
  await removeCgroups(name);
  if (stuck.length > 0)
    throw new Error(`lab host ${name}: processes ${stuck.join(', ')} survived SIGKILL (see ps -o stat -p)`);
}

export async function removeNetns(name: string): Promise<void> {
  await tryRun('ip', ['link', 'del', vethName(name)]);
  await tryRun('ip', ['netns', 'del', netnsName(name)]);
}

/** Say which part of a lab host is missing instead of a raw RTNETLINK or nsenter error. */
async function requireNetwork(name: string): Promise<void> {
  const missing = !existsSync(`/var/run/netns/${netnsName(name)}`)
    ? `network namespace ${netnsName(name)}`
    : !(await tryRun('ip', ['link', 'show', vethName(name)]))
      ? `link ${vethName(name)}`
      : undefined;
  if (missing)
    throw new Error(`lab host ${name} has no ${missing}: the lab is not (completely) up; run scripts/lab up`);
}

/** Link down: the host is cut off the lab network (its processes keep running). */
export async function cutHost(name: string): Promise<void> {
  await requireNetwork(name);
  await run('ip', ['link', 'set', vethName(name), 'down']);
}

export async function healHost(name: string): Promise<void> {
  await requireNetwork(name);
  await run('ip', ['link', 'set', vethName(name), 'up']);
}
