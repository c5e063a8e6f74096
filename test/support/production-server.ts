// A production-shaped Temporal (temporal-server on PostgreSQL) for one test file, through the same
// script an operator runs (scripts/temporal-server), in a directory and on ports of its own.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/config';
import { freePort } from '../../src/free-port';

const execFileAsync = promisify(execFile);
const SCRIPT = path.join(PROJECT_ROOT, 'scripts/temporal-server');
const TOOLS = path.join(PROJECT_ROOT, '.tools/bin');

export interface ProductionServer {
  address: string;
  dir: string;
  /** Stop the server process and start it again (PostgreSQL keeps running), as after a crash or an upgrade. */
  restart(): Promise<void>;
  /** Stop both; the directory is removed. */
  down(): Promise<void>;
}

/** Why the server cannot run here (its binaries missing), or undefined. Under CI=true: a failure. */
export function productionServerUnavailable(): string | undefined {
  const missing = ['temporal-server', 'temporal-sql-tool', 'temporal'].filter(
    (b) => !existsSync(path.join(TOOLS, b)),
  );
  if (missing.length === 0) return undefined;
  const reason = `${missing.join(', ')} not in .tools/bin (scripts/install-temporal-server, scripts/install-temporal-cli)`;
  if (process.env.CI === 'true')
    throw new Error(`CI=true but the production-shaped server cannot run: ${reason}`);
  console.warn(`\n${'!'.repeat(78)}\n!! PRODUCTION SERVER TESTS SKIPPED: ${reason}\n${'!'.repeat(78)}\n`);
  return reason;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port whose service ports (base..base+6, base+100..base+103) are all free. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // At most 32664: the membership ports (base+100..103) must fit PostgreSQL's smallint.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = [0, 1, 2, 3, 5, 6, 100, 101, 102, 103].map((d) => base + d);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free range of ports for the Temporal server after 50 tries');
}

/** The last lines of a log file, or why there are none. */
function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export async function startProductionServer(): Promise<ProductionServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-temporal-server-'));
  const port = await freeBasePort();
  const env = {
    ...process.env,
    TEMPORAL_SERVER_DIR: dir,
    TEMPORAL_SERVER_PORT: String(port),
    TEMPORAL_SERVER_PG_PORT: String(await freePort()),
  };
  const script = (command: string) => execFileAsync(SCRIPT, [command], { env, timeout: 240_000 });
  const down = async () => {
    await script('down').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await script('up');
  } catch (err) {
    // The directory goes with `down`: keep the end of each log in the error, for CI's output.
    const logs = ['server.log', 'postgres.log', 'schema.log'].map(
      (f) => `--- ${f}\n${tail(path.join(dir, f))}`,
    );
    await down();
    throw new Error(`${(err as Error).message}\n${logs.join('\n')}`);
  }
  return {
    address: `127.0.0.1:${port}`,
    dir,
    restart: async () => {
      await script('restart');
    },
    down,
  };
}
