import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Run a program (no shell) and return stdout; an error names the command and shows stderr. */
export async function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  if (opts.input !== undefined) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().slice(-1500)}`));
      });
      child.stdin.end(opts.input);
    });
  }
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
      env: opts.env ?? process.env,
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; code?: number | string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${err.code ?? 'error'}): ${(err.stderr ?? err.message).trim().slice(-1500)}`,
    );
  }
}

/** Like run, but never throws: for idempotent clean-up. */
export async function tryRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeoutMs: 60_000 });
    return true;
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, but not ours to signal
  }
}
