// Database faults for the prerequisite checks, made with a TCP relay (lab/relay-main.ts) in a lab
// host's network namespace: the database "on an app host" (a relay on that host's address), a slow
// link (a relay that delays every chunk), a server reporting an unsupported version (a relay that
// rewrites the MySQL greeting). `scripts/lab down` stops relays with the namespace's processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../src/config';
import { type Engine, PORTS } from './database';
import { DB_HOST, netnsName } from './paths';
import { alive } from './run';

export interface RelaySpec {
  /** The lab host (or `db`) whose network namespace the relay listens in. */
  host: string;
  listen: { address: string; port: number };
  target: { address: string; port: number };
  delayMs?: number;
  /** Replace the version in a MySQL server's greeting. */
  mysqlVersion?: string;
}

export interface Relay {
  pid: number;
  stop(): Promise<void>;
}

const MAIN = path.join(PROJECT_ROOT, 'lab', 'relay-main.ts');

export async function startRelay(spec: RelaySpec): Promise<Relay> {
  const delay = spec.delayMs ?? 0;
  if (!Number.isInteger(delay) || delay < 0 || delay > 10_000)
    throw new Error(`relay delay ${delay} ms: 0-10000`);
  if (spec.mysqlVersion !== undefined && !/^[0-9A-Za-z.+-]{1,40}$/.test(spec.mysqlVersion))
    throw new Error(`relay MySQL version ${JSON.stringify(spec.mysqlVersion)}: letters, digits, . + -`);
  const args = [
    `--net=/var/run/netns/${netnsName(spec.host)}`,
    '--',
    process.execPath,
    '--import',
    'tsx',
    MAIN,
    spec.listen.address,
    String(spec.listen.port),
    spec.target.address,
    String(spec.target.port),
    String(delay),
    ...(spec.mysqlVersion ? [spec.mysqlVersion] : []),
  ];
  const child = spawn('nsenter', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the relay did not start');
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const stop = async () => {
    if (!alive(pid)) return;
    child.kill('SIGTERM');
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(100);
    if (alive(pid)) child.kill('SIGKILL');
  };
  for (let i = 0; i < 150 && !output.includes('listening'); i++) {
    if (child.exitCode !== null) throw new Error(`the relay exited: ${output.trim().slice(-500)}`);
    await sleep(100);
  }
  if (!output.includes('listening')) {
    await stop();
    throw new Error(`the relay did not listen within 15 s: ${output.trim().slice(-500)}`);
  }
  return { pid, stop };
}

/** A relay at `at`:`port` (a lab host, or the database host) to the lab's `engine` server. */
export function relayToDatabase(
  at: { name: string; address: string },
  port: number,
  engine: Engine,
  fault: Pick<RelaySpec, 'delayMs' | 'mysqlVersion'> = {},
): Promise<Relay> {
  return startRelay({
    host: at.name,
    listen: { address: at.address, port },
    target: { address: DB_HOST.address, port: PORTS[engine] },
    ...fault,
  });
}
