import { readFile } from 'node:fs/promises';
import { type Env, processEnv } from './config/env';
import { SecretRef } from './model/common';

/**
 * Resolves `env:NAME` / `file:/path` references on the worker. Values never leave the worker process.
 * Activities take references only from the cluster spec the inventory holds (never from a run's
 * input), by the field that names the purpose: see `activities/cluster-secrets.ts`.
 */
export type SecretResolver = (ref: string) => Promise<string>;

export class SecretError extends Error {
  override name = 'SecretError';
}

/** Every secret value this process resolved, so logs can redact them wherever they turn up. */
const resolvedValues = new Set<string>();
/** Shorter values would redact ordinary words; no real secret is this short. */
const MIN_REDACTED_LENGTH = 6;

/** `text` with every secret value this process has resolved replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const value of resolvedValues) if (out.includes(value)) out = out.split(value).join('[redacted]');
  return out;
}

function remember(value: string): string {
  if (value.length >= MIN_REDACTED_LENGTH) resolvedValues.add(value);
  return value;
}

/** `env`: where `env:NAME` references are looked up (default: the worker's environment). */
export function createSecretResolver(env: Env = processEnv()): SecretResolver {
  return async (ref) => remember(await resolve(env, ref));
}

async function resolve(env: Env, ref: string): Promise<string> {
  // The inventory's schema checked it already; a malformed one here is refused, not interpreted.
  if (!SecretRef.safeParse(ref).success)
    throw new SecretError(
      'a secret reference must be env:NAME or a normalised file:/path (the value given is not shown)',
    );
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined || value === '') {
      throw new SecretError(`secret ${ref}: environment variable ${name} is not set on the worker`);
    }
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new SecretError(`secret ${ref}: cannot read the file on the worker (${code})`);
    }
  }
  throw new SecretError('a secret reference must be env:NAME or file:/path (the value given is not shown)');
}
