// The runbooks worker as a separate process (workers/main.ts), so tests can SIGKILL it mid-run.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../src/config';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(
  env: Record<string, string>,
  readyTimeoutMs = 90_000,
  entry = 'workers/main.ts',
): Promise<WorkerProcess> {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, entry)], {
    cwd: PROJECT_ROOT,
    // No Prometheus or readiness endpoint unless a test asks for one: fixed ports would clash between workers.
    env: { ...process.env, WABA_METRICS_ADDRESS: 'off', WABA_HEALTH_ADDRESS: 'off', ...env },
  });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + readyTimeoutMs;
  while (!out.includes('worker polling')) {
    if (child.exitCode !== null) throw new Error(`the worker exited while starting:\n${out.slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the worker did not start in time:\n${out.slice(-2000)}`);
    }
    await sleep(200);
  }
  return {
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.race([exited, sleep(30_000)]);
    },
  };
}
