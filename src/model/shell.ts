/**
 * The one place that turns values into POSIX shell words. Every remote command and every script the
 * project writes quotes its values here; inputs are also constrained by their schemas.
 */
export function shellQuote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line from argv, each word quoted; `env` becomes `NAME=value` prefixes. */
export function shellCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const prefix = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
    return `${k}=${shellQuote(v)}`;
  });
  return [...prefix, ...argv.map(shellQuote)].join(' ');
}

/** A non-negative integer as a shell word (counts, byte limits); anything else is a programming error. */
export function shellInt(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got ${n}`);
  return String(n);
}
