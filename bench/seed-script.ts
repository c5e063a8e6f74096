// Runs one of the operator's scripts (scripts/bench/seed-*.sh) and times it, wall clock.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, processEnv } from '../src/config';
import { onCleanup } from './cleanup';

export interface ScriptRun {
  seconds: number;
  output: string;
}

export function runSeedScript(
  name: 'seed-ha-setup.sh' | 'seed-upgrade.sh',
  env: Record<string, string>,
  timeoutMs = 15 * 60_000,
): Promise<ScriptRun> {
  const script = path.join(PROJECT_ROOT, 'scripts', 'bench', name);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // Own process group, so a stop reaches the script's ssh/scp/curl children too.
    const child = spawn('bash', [script], {
      env: { ...processEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = async () => {
      if (child.pid && child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid, 'SIGTERM');
    };
    const forget = onCleanup(`${name} (pid ${child.pid})`, kill);
    const timer = setTimeout(() => void kill(), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      forget();
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, output });
      else
        reject(
          new Error(
            `${name} failed (${code ?? signal}) after ${seconds.toFixed(1)} s:\n${output.slice(-3000)}`,
          ),
        );
    });
  });
}
