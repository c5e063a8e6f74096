import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from './temporal-cli';

export { resolveTemporalCli, type TemporalCli } from './temporal-cli';

/** Custom search attributes every run sets (DESIGN §2). */
export const SEARCH_ATTRIBUTES = ['WabaCluster', 'WabaRunbook', 'WabaStep'] as const;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface DevServerOptions {
  ip?: string;
  port?: number;
  /** Web UI port, or `false` for a headless server (tests). */
  uiPort?: number | false;
  /** SQLite file so runs survive a restart; `null` keeps everything in memory (lost on a restart). */
  dbFile?: string | null;
  namespace?: string;
  /** Where the server's own output goes. */
  logFile?: string;
  /** Records the server's pid so a later start can stop one left behind by a killed parent. */
  pidFile?: string;
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Codec server URL the Web UI calls to decode payloads (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /** The current server process (a restart starts a new one). */
  readonly pid: number | undefined;
  source: string;
  /** Whether the server process is still running. */
  running(): boolean;
  /**
   * Stop the server and start it again on the same ports with the same database file: what a
   * watchdog does to a server that stopped answering (src/devserver-watchdog.ts).
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function processCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  // A stopped (SIGSTOP) process would hold the signal until its grace ran out.
  process.kill(pid, 'SIGCONT');
  for (let waited = 0; waited < graceMs && alive(pid); waited += 100) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** A dev server whose parent was SIGKILLed may still hold the ports and the SQLite file: stop it. */
async function stopLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 1 && processCommand(pid)?.includes('start-dev')) {
    console.warn(`stopping a Temporal dev server left behind by an earlier run (pid ${pid})`);
    await terminate(pid);
  }
  rmSync(pidFile, { force: true });
}

async function waitReady(address: string, namespace: string, child: ChildProcess, opts: DevServerOptions) {
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log =
        opts.logFile && existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8').slice(-2000) : '';
      throw new Error(
        `the Temporal dev server exited (${child.exitCode ?? child.signalCode}) while starting:\n${log}`,
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(`the Temporal dev server at ${address} was not ready in time: ${String(lastError)}`);
}

/** Linux: have the kernel stop the server when its parent dies, even by SIGKILL. */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  if (process.platform === 'linux' && isExecutable('/usr/bin/setpriv')) {
    return ['/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', '--', command, ...args]];
  }
  return [command, args];
}

/**
 * Eager activity dispatch: an activity a workflow task schedules comes back in that task's response
 * instead of a round trip through matching (halves per-activity latency on the dev server;
 * bench/README.md). Production clusters enable it with the same dynamic config key.
 */
const EAGER_ACTIVITIES = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

/**
 * The history service loads new transfer tasks (the next workflow task, an activity task) and timer
 * tasks at most 20 times a second per shard by default, and the dev server has a single shard: past
 * the first burst every workflow step waited ~50 ms for a token (100 ms without eager dispatch).
 * 1000 lifts that pacing; production clusters spread it over many shards (bench/README.md).
 */
const TASK_LOADING = [
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
  '--dynamic-config-value',
  'history.timerProcessorMaxPollRPS=1000',
];

/**
 * With the pacing gone, each step's three SQLite commits (fsync each in the default journal mode)
 * were the next cost. WAL with synchronous=NORMAL survives a crash of the server process; an OS crash
 * may lose the last commits, acceptable for a development server.
 */
const SQLITE_FILE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'];

function devServerArgs(
  opts: Required<Pick<DevServerOptions, 'ip' | 'port' | 'namespace'>> & DevServerOptions,
) {
  const args = [
    'server',
    'start-dev',
    '--ip',
    opts.ip,
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace,
  ];
  args.push('--log-level', 'warn');
  args.push(...EAGER_ACTIVITIES, ...TASK_LOADING);
  if (opts.uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort ?? 8233));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, ...SQLITE_FILE_PRAGMAS);
  if (opts.codecEndpoint && opts.uiPort !== false) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  for (const name of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=Keyword`);
  return args;
}

/** Start `temporal server start-dev` and wait until its namespace answers. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const namespace = opts.namespace ?? 'default';
  const address = `${ip}:${port}`;
  const uiUrl =
    opts.uiPort === false
      ? undefined
      : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${opts.uiPort ?? 8233}`;
  if (opts.dbFile) mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  if (opts.pidFile) await stopLeftover(opts.pidFile);

  // Not found: built with Go first (scripts/install-temporal-cli); without Go, its message says what to install.
  const cli = await ensureTemporalCli({ env: opts.env });

  const args = devServerArgs({ ...opts, ip, port, namespace });
  const spawnServer = async (): Promise<ChildProcess> => {
    const log = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
    const [command, argv] = withParentDeathSignal(cli.path, args);
    // Own process group: a Ctrl-C in the terminal reaches only our process, which drains the worker first.
    const started = spawn(command, argv, { stdio: ['ignore', log, log], detached: true });
    if (typeof log === 'number') closeSync(log);
    if (opts.pidFile && started.pid) writeFileSync(opts.pidFile, String(started.pid));
    try {
      await waitReady(address, namespace, started, opts);
    } catch (err) {
      if (started.pid) await terminate(started.pid);
      throw err;
    }
    return started;
  };
  let child = await spawnServer();
  let stopped = false;
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    address,
    uiUrl,
    get pid() {
      return child.pid;
    },
    source: `${cli.path} (${cli.source})`,
    running,
    async restart() {
      if (stopped) return; // a watchdog late to notice a deliberate stop
      if (child.pid && running()) await terminate(child.pid);
      child = await spawnServer();
      if (stopped && child.pid) await terminate(child.pid); // stopped while this one started
    },
    async stop() {
      stopped = true;
      if (child.pid && running()) await terminate(child.pid);
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
    },
  };
}
