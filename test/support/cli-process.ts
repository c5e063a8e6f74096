// Runs the real `bin/waba-runbooks` as a process, as an operator or a script does: arguments,
// environment, optional standard input; its exit code, stdout and stderr. Every run is bounded.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export function runCli(
  args: string[],
  o: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, 'bin/waba-runbooks'), args, {
      env: { ...process.env, SSH_AUTH_SOCK: '', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`waba-runbooks ${args.join(' ')} did not end within ${o.timeoutMs ?? 60_000} ms`));
    }, o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
    child.stdin.end(o.stdin ?? '');
  });
}
