// `npm run bench:cli` (issue 13): how long the operator CLI takes to start, from the build (dist/, plain
// node) and from source (tsx, forced with WABA_CLI_FROM_SOURCE=1): `--help`, and `status <id>` against
// an in-memory dev server (an id that does not exist: the error path still connects). Prints medians
// and the ratio tsx/dist. A benchmark, never a test: no timed assertions, no lab needed.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Env, processEnv } from '../src/config/env';
import { type DevServer, startDevServer } from '../src/devserver';
import { freePort } from '../src/free-port';
import { PROJECT_ROOT } from '../src/project-root';
import { buildIsFresh } from './build-fresh';

const BIN = path.join(PROJECT_ROOT, 'bin', 'waba-runbooks');
const RUN_TIMEOUT_MS = 30_000;
const USAGE = 'usage: npm run bench:cli -- [--runs N]   (N runs of each command and runtime, default 10)';

type Runtime = 'dist' | 'tsx';

function parseRuns(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const i = argv.indexOf('--runs');
  if (i < 0) return 10;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error(`--runs must be a whole number 1..1000\n${USAGE}`);
  return n;
}

/** One run of `file`, timed from spawn to exit; a non-zero exit is kept (status of a missing id fails). */
function timeExec(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; out: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const ms = performance.now() - started;
      if (err && (err.killed || err.signal)) {
        reject(new Error(`${file} ${args.join(' ')} did not finish in ${RUN_TIMEOUT_MS} ms`));
        return;
      }
      resolve({ ms, out: `${stdout}${stderr}` });
    });
  });
}

/** The CLI through bin/waba-runbooks: from the build, or forced onto tsx. */
const timeRun = (runtime: Runtime, args: string[], env: NodeJS.ProcessEnv) =>
  timeExec(BIN, args, { ...env, WABA_CLI_FROM_SOURCE: runtime === 'tsx' ? '1' : '' });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface Row {
  command: string;
  dist: number[];
  tsx: number[];
}

/** Alternating dist and tsx runs (after one unmeasured warm-up each), so load changes hit both alike. */
async function measure(command: string, args: string[], env: NodeJS.ProcessEnv, runs: number): Promise<Row> {
  const row: Row = { command, dist: [], tsx: [] };
  const first = await timeRun('dist', args, env);
  await timeRun('tsx', args, env);
  console.log(`  ${command}: ${first.out.trim().split('\n')[0]?.slice(0, 100)}`);
  for (let i = 0; i < runs; i++) {
    for (const runtime of ['dist', 'tsx'] as const) row[runtime].push((await timeRun(runtime, args, env)).ms);
  }
  return row;
}

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2));
  if (!buildIsFresh()) {
    console.log('the build is missing or stale: npm run build');
    execFileSync(path.join(PROJECT_ROOT, 'scripts', 'build'), { stdio: 'inherit', timeout: 600_000 });
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-bench-cli-'));
  let server: DevServer | undefined;
  const stop = async () => {
    await server?.stop();
    server = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void stop().finally(() => process.exit(130)));
  try {
    server = await startDevServer({
      port: await freePort(),
      uiPort: false,
      dbFile: null,
      logFile: path.join(tmp, 'devserver.log'),
      startTimeoutMs: 60_000,
    });
    const env: Env = { ...processEnv(), TEMPORAL_ADDRESS: server.address, NO_COLOR: '1' };
    delete env.TEMPORAL_API_KEY;
    console.log(`${runs} runs of each, dist and tsx alternating (first output line shown once):`);
    const rows = [
      await measure('--help', ['--help'], env, runs),
      await measure('status <id>', ['status', 'bench-cli-no-such-run'], env, runs),
    ];
    // The floor: node starting and exiting with nothing to load.
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) bare.push((await timeExec(process.execPath, ['-e', '0'], env)).ms);
    const fresh = buildIsFresh();
    console.log('');
    console.log(`waba-runbooks start-up, median of ${runs} runs (ms), node ${process.version}`);
    console.log(`${'command'.padEnd(14)}${'dist'.padStart(8)}${'tsx'.padStart(8)}${'tsx/dist'.padStart(10)}`);
    for (const r of rows) {
      const [d, t] = [median(r.dist), median(r.tsx)];
      console.log(
        `${r.command.padEnd(14)}${d.toFixed(0).padStart(8)}${t.toFixed(0).padStart(8)}${`${(t / d).toFixed(1)}x`.padStart(10)}`,
      );
    }
    console.log(`${'node -e 0'.padEnd(14)}${median(bare).toFixed(0).padStart(8)}   (node alone, for scale)`);
    console.log(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ${os.cpus().length} cores`,
    );
    if (!fresh) console.log('WARNING: a source changed during the bench; some "dist" runs may have used tsx');
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
