// A real OpenSSH server on 127.0.0.1 for core tests: its own host key, config and port in a temp dir,
// one authorized key for the current user (root in CI), started with `sshd -D` and stopped by its pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { SshPool, type SshTarget } from '../../activities/ssh';
import { freePort } from '../../src/free-port';

export const SSHD = '/usr/sbin/sshd';

export interface LoopbackSshd {
  dir: string;
  port: number;
  /** `ssh-ed25519 AAAA...` of the server. */
  hostKey: string;
  /** The client's private key (OpenSSH PEM). */
  privateKey: string;
  user: string;
  /** A target for SshPool: host `h1` on this server, pinned, no sudo. */
  target: SshTarget;
  log(): string;
  stop(): Promise<void>;
}

export async function startLoopbackSshd(): Promise<LoopbackSshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-sshd-'));
  for (const k of ['host', 'client'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
  const pub = (name: string) =>
    readFileSync(path.join(dir, `${name}.pub`), 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
  writeFileSync(path.join(dir, 'authorized_keys'), `${pub('client')}\n`, { mode: 0o600 });
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      // The temp dir's parents (/tmp) are world-writable: StrictModes would refuse the key file.
      'StrictModes no',
      'LogLevel DEBUG1',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation
  const logFile = path.join(dir, 'sshd.log');
  const child: ChildProcess = spawn(SSHD, ['-D', '-f', path.join(dir, 'sshd_config'), '-E', logFile], {
    stdio: 'ignore',
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = async () => {
    if (child.pid && child.exitCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const deadline = Date.now() + 5_000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!log().includes('Server listening')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      const text = log();
      await stop();
      throw new Error(`sshd did not start within 10 s:\n${text}`);
    }
    await sleep(100);
  }
  const user = os.userInfo().username;
  const hostKey = pub('host');
  return {
    dir,
    port,
    hostKey,
    privateKey: readFileSync(path.join(dir, 'client'), 'utf8'),
    user,
    target: {
      host: 'h1',
      address: '127.0.0.1',
      port,
      user,
      sudo: false,
      hostKey,
      privateKeyRef: 'file:client-key',
    },
    log,
    stop,
  };
}

/**
 * A loopback sshd and an SshPool logged in to it for the enclosing describe: started in beforeAll,
 * closed and stopped in afterAll. Read `sshd` and `pool` inside tests (they exist once beforeAll ran).
 */
export function useLoopbackPool(): { readonly sshd: LoopbackSshd; readonly pool: SshPool } {
  let sshd: LoopbackSshd | undefined;
  let pool: SshPool | undefined;
  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    const key = sshd.privateKey;
    pool = new SshPool(async () => key);
  });
  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });
  const ready = <T>(x: T | undefined, what: string): T => {
    if (!x) throw new Error(`the loopback ${what} is not up: use it inside a test`);
    return x;
  };
  return {
    get sshd() {
      return ready(sshd, 'sshd');
    },
    get pool() {
      return ready(pool, 'pool');
    },
  };
}
