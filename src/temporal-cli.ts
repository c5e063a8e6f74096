// The official Temporal CLI (it embeds the dev server): found where the project looks for it, or
// built with Go on first use, so `npm start` and `npm test` work on a fresh clone.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Env } from './config/env';
import { temporalCliConfig } from './config/paths';
import { PROJECT_ROOT } from './project-root';

export interface TemporalCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'project tools' | 'PATH';
}

/** The script that builds the CLI with Go into `<tools>/bin/temporal`. */
const INSTALL_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'install-temporal-cli');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Find the official Temporal CLI: TEMPORAL_CLI_PATH, then .tools/bin/temporal, then `temporal` on PATH. */
export function resolveTemporalCli(env?: Env): TemporalCli | undefined {
  const { cliPath, toolsDir, searchPath } = temporalCliConfig(env);
  if (cliPath) {
    if (!isExecutable(cliPath)) throw new Error(`TEMPORAL_CLI_PATH=${cliPath} is not an executable file`);
    return { path: cliPath, source: 'TEMPORAL_CLI_PATH' };
  }
  const tools = path.join(toolsDir, 'bin', 'temporal');
  if (isExecutable(tools)) return { path: tools, source: 'project tools' };
  for (const dir of searchPath) {
    const candidate = path.join(dir, 'temporal');
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  return undefined;
}

export interface EnsureTemporalCliOptions {
  env?: Env;
  /** Progress for the person waiting (default: console.log). */
  say?: (line: string) => void;
  /** The install script's progress (its stdout) as it comes (default: to stderr); its stderr goes in the error. */
  onOutput?: (text: string) => void;
}

/**
 * The Temporal CLI, built first when none is found (no TEMPORAL_CLI_PATH, no .tools/bin/temporal, none
 * on PATH): runs scripts/install-temporal-cli (`go install`, a few minutes the first time), then
 * finds its result. Without Go it fails with the script's message (what to install instead).
 */
export async function ensureTemporalCli(opts: EnsureTemporalCliOptions = {}): Promise<TemporalCli> {
  const found = resolveTemporalCli(opts.env);
  if (found) return found;
  const { toolsDir, env } = temporalCliConfig(opts.env);
  const target = path.join(toolsDir, 'bin', 'temporal');
  const relative = path.relative(process.cwd(), target);
  const shown = relative.startsWith('..') || path.isAbsolute(relative) ? target : relative;
  (opts.say ?? console.log)(
    `Temporal CLI not found: building it with Go into ${shown} (scripts/install-temporal-cli), ` +
      'a few minutes the first time',
  );
  const onOutput = opts.onOutput ?? ((text: string) => process.stderr.write(text));
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(INSTALL_SCRIPT, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => onOutput(d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (code !== 0) {
    throw new Error(
      `the Temporal CLI is not installed and could not be built (scripts/install-temporal-cli exited ${code}):\n` +
        stderr.trim().slice(-4000),
    );
  }
  const built = resolveTemporalCli(env);
  if (!built) throw new Error(`scripts/install-temporal-cli finished, but ${target} is not executable`);
  return built;
}
