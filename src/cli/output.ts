// How a command prints: `-o text` (aligned tables and readable lines) or `-o json` (stable, for
// scripts). Text is the default on a terminal, JSON when the output is piped.
import { InputError } from '../client/errors';

export type Format = 'text' | 'json';
const FORMATS: readonly Format[] = ['text', 'json'];

export function outputFormat(option: string | undefined, isTTY = Boolean(process.stdout.isTTY)): Format {
  if (option === undefined) return isTTY ? 'text' : 'json';
  if (!(FORMATS as readonly string[]).includes(option))
    throw new InputError(`-o/--output must be one of ${FORMATS.join(', ')}, got "${option}"`);
  return option as Format;
}

/** Print `value` as JSON, or `text()` as text. */
export function emit(format: Format, value: unknown, text: () => string): void {
  console.log(format === 'json' ? JSON.stringify(value, null, 2) : text());
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
