// SSH to cluster hosts with ssh2: one pooled connection per host, host keys pinned by the spec,
// bounded output, timeouts, and uploads that never leave a half-written file at the real path.
import { createHash, randomBytes } from 'node:crypto';
import { CancelledFailure, Context } from '@temporalio/activity';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import {
  checksumAndInstallCommand,
  checksumAndRenameCommand,
  MAKE_TEMP_FILE,
  removeFileCommand,
  stoppableCommand,
  sudoCommand,
} from '../src/model/host-commands';

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

export interface ExecOptions {
  /**
   * Stops the remote command when aborted (the exec then fails with a CancelledFailure). Default: the
   * current activity's cancellation signal, when called from an activity.
   */
  signal?: AbortSignal;
  /** Told when a command is stopped. Default: the current activity's logger (warn), if any. */
  log?: (message: string) => void;
}

/** After asking a command to stop, how long it has to exit before SIGKILL and closing the channel. */
export const STOP_GRACE_MS = 3_000;

/** The running activity's context, or undefined outside activities (tests, the CLI). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** A command as a message shows it: one line, printable, at most 120 characters. */
export function commandSummary(command: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const line = command.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
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

  /** `noDelay: false` keeps Nagle's algorithm on: only for the bench's before/after figure. */
  constructor(
    private readonly secrets: (ref: string) => Promise<string>,
    private readonly opts: { noDelay?: boolean } = {},
  ) {}

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
          // No Nagle: a command is a few small packets each way, and Nagle's wait for the peer's
          // delayed ACK (40 ms on Linux) cost every exec ~90 ms and every upload ~400 ms on the lab
          // instead of 3 and 8 (bench/README.md). ssh2 has made its socket by now; it applies on connect.
          client.setNoDelay(this.opts.noDelay ?? true);
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
   * Run a command (built in src/model) and collect its exit code and bounded output; as root through
   * `sudo -n` when the host asks for sudo. When the activity is cancelled (or `opts.signal` aborts),
   * or the timeout passes, the remote command is stopped, not left running: see execInSlot.
   */
  exec(t: SshTarget, command: string, timeoutMs = 120_000, opts: ExecOptions = {}): Promise<ExecResult> {
    const stoppable = stoppableCommand(command);
    return this.execAs(t, t.sudo ? sudoCommand(stoppable) : stoppable, timeoutMs, {
      ...opts,
      shown: command,
    });
  }

  /** Run a command line as it is, as the login user. */
  private async execAs(
    t: SshTarget,
    full: string,
    timeoutMs = 120_000,
    opts: ExecOptions & { shown?: string } = {},
  ): Promise<ExecResult> {
    const ctx = activityContext();
    const signal = opts.signal ?? ctx?.cancellationSignal;
    const log = opts.log ?? (ctx ? (m: string) => ctx.log.warn(m) : undefined);
    // Messages show the command as its caller built it, not the wrappers around it.
    const shown = commandSummary(opts.shown ?? full);
    this.counters.commands++;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw cancelledBeforeStart(t, shown, signal);
      const release = await this.slot(t);
      try {
        return await this.execInSlot(t, full, shown, timeoutMs, signal, log);
      } catch (err) {
        // sshd may still count a just-closed channel against MaxSessions: wait briefly, try again.
        if (!(err instanceof ChannelRefusedError) || attempt >= 3) throw err;
      } finally {
        release();
      }
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }

  /**
   * One command on one channel. Stopping it (cancellation or timeout): the channel's input is ended,
   * which the wrapper of exec() (stoppableCommand) answers by signalling the command's process group,
   * TERM then KILL; a "signal" channel request (TERM) is sent too, for sshd versions and logins that
   * honour it (OpenSSH >= 7.9, not for root logins). After STOP_GRACE_MS without an exit: a KILL
   * request and the channel is closed. The exec then fails with a CancelledFailure (cancellation) or
   * an SshTimeoutError (timeout) naming the command and the host, and the message is logged.
   */
  private async execInSlot(
    t: SshTarget,
    full: string,
    shown: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    log: ((message: string) => void) | undefined,
  ): Promise<ExecResult> {
    const client = await this.client(t);
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(full, (err, stream: ClientChannel) => {
        if (err) return reject(new ChannelRefusedError(`ssh exec on ${t.host}: ${err.message}`));
        let stdout = '';
        let stderr = '';
        let truncated = false;
        let stopping: { error: () => Error } | undefined;
        let exitSignal: string | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        let giveUpTimer: NodeJS.Timeout | undefined;
        let settled = false;
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearTimeout(killTimer);
          clearTimeout(giveUpTimer);
          signal?.removeEventListener('abort', onAbort);
          outcome();
        };
        const what = () => `"${shown}" on ${t.host} (${t.user}@${t.address}:${t.port})`;
        const stop = (error: () => Error) => {
          if (stopping) return;
          stopping = { error };
          clearTimeout(timer);
          stream.signal('TERM');
          stream.end();
          killTimer = setTimeout(() => {
            stream.signal('KILL');
            stream.close();
            // A connection that went dead never confirms the close: do not wait for it forever.
            giveUpTimer = setTimeout(() => settle(() => reject(error())), STOP_GRACE_MS);
          }, STOP_GRACE_MS);
        };
        const onAbort = () => {
          const reason = signal?.reason;
          const why = reason instanceof Error ? reason.message : String(reason ?? 'cancelled');
          stop(() => {
            const ended = exitSignal ? `it ended on ${exitSignal}` : 'its channel was closed';
            const message = `activity cancelled (${why}): stopped ${what()}; ${ended}`;
            log?.(message);
            return new CancelledFailure(message);
          });
        };
        const timer = setTimeout(
          () =>
            stop(() => {
              const message = `command ${what()} did not finish within ${timeoutMs / 1000} s and was stopped`;
              log?.(message);
              return new SshTimeoutError(message);
            }),
          timeoutMs,
        );
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
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
        stream.on('exit', (_code: number | null, sig?: string) => {
          if (sig) exitSignal = sig;
        });
        stream.on('close', (code: number | null) =>
          settle(() => {
            const stopped = stopping;
            if (stopped) reject(stopped.error());
            else resolve({ code: code ?? 255, stdout, stderr, truncated });
          }),
        );
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

  /**
   * A TCP connection from the host to `toHost`:`toPort` through its SSH connection (a direct-tcpip
   * channel, what `ssh -L` opens), given to `use` and closed after it, whatever it returns or throws.
   * For reading what a server says to that host (the database's version); sshd may refuse it
   * (AllowTcpForwarding no): the error says so.
   */
  async throughHost<R>(
    t: SshTarget,
    toHost: string,
    toPort: number,
    use: (channel: ClientChannel) => Promise<R>,
  ): Promise<R> {
    const release = await this.slot(t);
    try {
      const client = await this.client(t);
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        client.forwardOut('127.0.0.1', 0, toHost, toPort, (err, ch) =>
          err
            ? reject(new Error(`${t.host} did not open a connection to ${toHost}:${toPort} (${err.message})`))
            : resolve(ch),
        ),
      );
      try {
        return await use(channel);
      } finally {
        channel.destroy();
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

/** The activity was cancelled before the command was sent: nothing ran. */
function cancelledBeforeStart(t: SshTarget, shown: string, signal: AbortSignal): CancelledFailure {
  const reason =
    signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
  return new CancelledFailure(
    `activity cancelled (${reason}) before "${shown}" was run on ${t.host}; nothing was run`,
  );
}
