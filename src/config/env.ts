// The one reader of process.env, and the rules every setting shares: an empty variable is unset, a
// port is 1-65535, a secret is given inline (NAME) or in a file (NAME_FILE) but never both, and an
// error names the variable, never a secret's value. Sections (temporal.ts, chatops.ts, ...) take an
// `env` argument for tests; without one they read the process's environment when called, not at
// import, so a test can set a variable before it creates what reads it.
import { readFileSync } from 'node:fs';

export type Env = NodeJS.ProcessEnv;

/**
 * The process environment itself: for settings named at run time (an inventory's `env:NAME` secret
 * references) and for passing the environment on to a child process.
 */
export function processEnv(): Env {
  return process.env;
}

/** The variable's value; undefined when unset or empty. */
export function setting(env: Env, name: string): string | undefined {
  return env[name] || undefined;
}

export interface PortOptions {
  /** Port 0 asks the system for any free port (listeners that report where they listen). */
  allowAny?: boolean;
}

/** A TCP port from `name`, `fallback` when unset; anything else is an error naming the variable. */
export function port(env: Env, name: string, fallback: number, opts: PortOptions = {}): number {
  const raw = setting(env, name);
  if (raw === undefined) return fallback;
  return parsePort(raw, name, opts);
}

/** The one port rule: digits only, 1-65535 (0 too with allowAny). */
export function isPort(raw: string, opts: PortOptions = {}): boolean {
  if (!/^\d{1,5}$/.test(raw)) return false;
  const value = Number(raw);
  return value >= (opts.allowAny ? 0 : 1) && value <= 65_535;
}

/** `raw` as a port; `name` is the setting, for the error. */
function parsePort(raw: string, name: string, opts: PortOptions = {}): number {
  if (!isPort(raw, opts))
    throw new Error(
      `${name}=${raw}: expected a TCP port, 1-65535${opts.allowAny ? ' (0: any free port)' : ''}`,
    );
  return Number(raw);
}

/** A secret's text and where it came from (`NAME`, or `NAME_FILE=/path`), for errors that must not show it. */
export interface SecretText {
  text: string;
  source: string;
  /** The file it was read from, when it came from one. */
  file?: string;
}

/**
 * A setting given inline (`inline`) or as a file holding it (`file`); undefined when neither is set.
 * `fail` makes the error (callers keep their own error types). The value never appears in an error.
 */
export function secretOrFile(
  env: Env,
  inline: string,
  file: string,
  fail: (message: string) => Error = (message) => new Error(message),
): SecretText | undefined {
  const text = setting(env, inline);
  const path = setting(env, file);
  if (text !== undefined && path !== undefined) throw fail(`set ${inline} or ${file}, not both`);
  if (text !== undefined) return { text, source: inline };
  if (path === undefined) return undefined;
  const source = `${file}=${path}`;
  try {
    return { text: readFileSync(path, 'utf8'), source, file: path };
  } catch (err) {
    throw fail(`${source}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
