// SSH to cluster hosts with ssh2: one pooled connection per host, host keys pinned by the spec,
// bounded output, timeouts, and uploads that never leave a half-written file at the real path.
import { createHash, randomBytes } from 'node:crypto';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import {
  checksumAndInstallCommand,
  checksumAndRenameCommand,
  MAKE_TEMP_FILE,
  removeFileCommand,
  sudoCommand,
} from '../src/spec/host-commands';

export interface SshTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  sudo: boolean;
  /** Pinned `<type> <base64>` from the spec's ssh.knownHosts. */
  hostKey: string;
  /** Secret reference of the private key, resolved on the worker. */
  privateKeyRef: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export class HostKeyError extends Error {
  override name = 'HostKeyError';
}
export class SshConnectError extends Error {
  override name = 'SshConnectError';
}
/** The server refused a new channel on a live connection (e.g. MaxSessions reached). */
export class ChannelRefusedError extends SshConnectError {
  override name = 'ChannelRefusedError';
}
export class SshTimeoutError extends Error {
  override name = 'SshTimeoutError';
}

const fingerprint = (blob: Buffer) =>
  `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

/** The host's pinned key (from ssh.knownHosts) as the raw blob ssh2's hostVerifier is given. */
export const pinnedKeyOf = (t: SshTarget): Buffer => Buffer.from(t.hostKey.split(' ')[1] ?? '', 'base64');

/** The one message for a presented key that is not the pinned one. */
export function hostKeyMismatch(t: SshTarget, presented: Buffer): HostKeyError {
  const type = t.hostKey.split(' ')[0];
  return new HostKeyError(
    `host key of ${t.host} (${t.address}) does not match ssh.knownHosts.${t.host}: ` +
      `pinned ${type} ${fingerprint(pinnedKeyOf(t))}, presented ${fingerprint(presented)}; nothing was run`,
  );
}

/** Output kept per stream: the last bytes matter most (errors come last). */
const MAX_OUTPUT = 256 * 1024;

function keep(buf: string, chunk: string): [string, boolean] {
  const next = buf + chunk;
  return next.length > MAX_OUTPUT ? [next.slice(-MAX_OUTPUT), true] : [next, false];
}

/**
 * OpenSSH refuses more than MaxSessions (default 10) channels per connection, and counts a channel
 * until its teardown finishes on the server; stay below that and queue the rest.
 */
const MAX_CHANNELS = 8;

/** A counting semaphore per connection: at most MAX_CHANNELS open channels, the rest wait in order. */
class ChannelSlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  async acquire(): Promise<() => void> {
    if (this.used >= MAX_CHANNELS) await new Promise<void>((r) => this.waiting.push(r));
    else this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.used--;
    };
  }
}

export class SshPool {
  private readonly clients = new Map<string, Promise<Client>>();
  private readonly slots = new Map<string, ChannelSlots>();
  /** Counters for benchmarks and tests: handshakes made versus commands run. */
  readonly counters = { handshakes: 0, commands: 0, uploads: 0 };

  constructor(private readonly secrets: (ref: string) => Promise<string>) {}

  /** A connection is reused only for the same login, pinned key and private key. */
  private key(t: SshTarget): string {
    return `${t.user}@${t.address}:${t.port} ${t.hostKey} ${t.privateKeyRef}`;
  }

  private connect(t: SshTarget): Promise<Client> {
    const pinned = pinnedKeyOf(t);
    return this.secrets(t.privateKeyRef).then(
      (privateKey) =>
        new Promise<Client>((resolve, reject) => {
          const client = new Client();
          let presented: Buffer | undefined;
          client
            .on('ready', () => {
              this.counters.handshakes++;
              resolve(client);
            })
            .on('error', (err) => {
              this.clients.delete(this.key(t));
              if (presented && !presented.equals(pinned)) reject(hostKeyMismatch(t, presented));
              else
                reject(
                  new SshConnectError(`ssh to ${t.host} (${t.user}@${t.address}:${t.port}): ${err.message}`),
                );
            })
            .on('close', () => this.clients.delete(this.key(t)))
            .connect({
              host: t.address,
              port: t.port,
              username: t.user,
              privateKey,
              readyTimeout: 15_000,
              keepaliveInterval: 10_000,
              keepaliveCountMax: 3,
              // Strict: only the pinned key is accepted; anything else aborts before authentication.
              hostVerifier: (key: Buffer) => {
                presented = key;
                return key.equals(pinned);
              },
            });
        }),
    );
  }

  private client(t: SshTarget): Promise<Client> {
    const k = this.key(t);
    let c = this.clients.get(k);
    if (!c) {
      c = this.connect(t);
      this.clients.set(k, c);
      c.catch(() => this.clients.delete(k));
    }
    return c;
  }

  private async slot(t: SshTarget): Promise<() => void> {
    const k = this.key(t);
    let s = this.slots.get(k);
    if (!s) {
      s = new ChannelSlots();
      this.slots.set(k, s);
    }
    return s.acquire();
  }

  /**
   * Run a command (built in src/spec) and collect its exit code and bounded output; as root through
   * `sudo -n` when the host asks for sudo.
   */
  exec(t: SshTarget, command: string, timeoutMs = 120_000): Promise<ExecResult> {
    return this.execAs(t, t.sudo ? sudoCommand(command) : command, timeoutMs);
  }

  /** Run a command line as it is, as the login user. */
  private async execAs(t: SshTarget, full: string, timeoutMs = 120_000): Promise<ExecResult> {
    this.counters.commands++;
    for (let attempt = 1; ; attempt++) {
      const release = await this.slot(t);
      try {
        return await this.execInSlot(t, full, timeoutMs);
      } catch (err) {
        // sshd may still count a just-closed channel against MaxSessions: wait briefly, try again.
        if (!(err instanceof ChannelRefusedError) || attempt >= 3) throw err;
      } finally {
        release();
      }
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }

  private async execInSlot(t: SshTarget, full: string, timeoutMs: number): Promise<ExecResult> {
    const client = await this.client(t);
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(full, (err, stream: ClientChannel) => {
        if (err) return reject(new ChannelRefusedError(`ssh exec on ${t.host}: ${err.message}`));
        let stdout = '';
        let stderr = '';
        let truncated = false;
        const timer = setTimeout(() => {
          stream.close();
          reject(new SshTimeoutError(`command on ${t.host} did not finish within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        stream.on('data', (d: Buffer) => {
          let cut: boolean;
          [stdout, cut] = keep(stdout, d.toString('utf8'));
          truncated ||= cut;
        });
        stream.stderr.on('data', (d: Buffer) => {
          let cut: boolean;
          [stderr, cut] = keep(stderr, d.toString('utf8'));
          truncated ||= cut;
        });
        stream.on('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? 255, stdout, stderr, truncated });
        });
      });
    });
  }

  /**
   * Upload to a temporary name, check its sha256 on the host, then rename into place: the real path
   * holds either the old file or the complete new one, never half of one. Without sudo the temp file
   * is written next to the target; with sudo the login user may not write there (the directory is
   * root's), so it writes a private temp file of its own and root installs it into place.
   */
  async upload(t: SshTarget, content: Buffer, remotePath: string, mode = 0o644): Promise<string> {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const staging = `${remotePath}.upload-${randomBytes(4).toString('hex')}`;
    let check: ExecResult;
    if (!t.sudo) {
      await this.sftpWrite(t, staging, content, { mode, flag: 'wx' }, remotePath);
      check = await this.exec(t, checksumAndRenameCommand(staging, sha256, remotePath));
    } else {
      const made = await this.execAs(t, MAKE_TEMP_FILE);
      const tmp = made.stdout.trim();
      if (made.code !== 0 || !tmp.startsWith('/'))
        throw new Error(`upload to ${t.host}: mktemp as ${t.user} failed: ${made.stderr.trim().slice(-300)}`);
      try {
        await this.sftpWrite(t, tmp, content, { mode: 0o600, flag: 'w' }, remotePath);
      } catch (err) {
        await this.execAs(t, removeFileCommand(tmp)).catch(() => undefined);
        throw err;
      }
      check = await this.exec(t, checksumAndInstallCommand(tmp, sha256, remotePath, staging, mode));
      // When sudo itself refused, the script (and its cleanup) never ran: remove the temp file here.
      if (check.code !== 0) await this.execAs(t, removeFileCommand(tmp)).catch(() => undefined);
    }
    if (check.code !== 0) throw new Error(`upload to ${t.host}:${remotePath} failed: ${check.stderr.trim()}`);
    this.counters.uploads++;
    return sha256;
  }

  /**
   * Write `content` to `path` over SFTP as the login user: `wx` creates a new file only (never
   * through an existing one), `w` fills the temp file mktemp made.
   */
  private async sftpWrite(
    t: SshTarget,
    path: string,
    content: Buffer,
    how: { mode: number; flag: 'w' | 'wx' },
    dest: string,
  ): Promise<void> {
    const release = await this.slot(t);
    try {
      const client = await this.client(t);
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((err, s) =>
          err ? reject(new SshConnectError(`sftp to ${t.host}: ${err.message}`)) : resolve(s),
        ),
      );
      try {
        await new Promise<void>((resolve, reject) =>
          sftp.writeFile(path, content, how, (err) =>
            err
              ? reject(
                  new Error(
                    `upload to ${t.host}:${dest}: ${t.user} cannot write ${path} (${err.message})` +
                      (t.sudo || t.user === 'root'
                        ? ''
                        : `; a directory only root may write needs "sudo": true on host ${t.host}`),
                  ),
                )
              : resolve(),
          ),
        );
      } finally {
        sftp.end();
      }
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    for (const c of all) (await c.catch(() => undefined))?.end();
  }
}
