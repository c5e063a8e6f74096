// A run's input from a file (JSON or YAML) or `-` (standard input), read and checked before any
// connection: a bad file is reported even while Temporal is down.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { InputError } from '../client/errors';
import { checkInput, runbookSpec } from '../client/runbooks';

/** An input is a few lines; anything larger is a mistake (a log file, a binary). */
const MAX_INPUT_BYTES = 256 * 1024;

function readSource(file: string, stdin: () => Buffer): Buffer {
  const data = file === '-' ? stdin() : readFileSync(file);
  if (data.length > MAX_INPUT_BYTES)
    throw new InputError(
      `${file === '-' ? 'standard input' : file} is larger than ${MAX_INPUT_BYTES / 1024} KiB: not an input`,
    );
  return data;
}

const WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** `.json` as JSON; `.yaml`/`.yml` as YAML; anything else (and `-`) as JSON, else YAML. */
function readInput(file: string, stdin: () => Buffer = () => readFileSync(0)): unknown {
  const where = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = readSource(file, stdin).toString('utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new InputError(
      `cannot read ${where}: ${WHY[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`,
    );
  }
  const asJson = () => JSON.parse(text) as unknown;
  // One document, no custom tags, aliases bounded: a YAML input cannot grow or run anything.
  const asYaml = () => parse(text, { maxAliasCount: 20, uniqueKeys: true, prettyErrors: false }) as unknown;
  try {
    if (/\.ya?ml$/i.test(file)) return asYaml();
    if (/\.json$/i.test(file)) return asJson();
    try {
      return asJson();
    } catch {
      return asYaml();
    }
  } catch (err) {
    const kind = /\.ya?ml$/i.test(file) ? 'YAML' : /\.json$/i.test(file) ? 'JSON' : 'JSON or YAML';
    throw new InputError(`cannot read ${where} as ${kind}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The runbook known and its input valid: every bad field named, exit 2, no connection made. */
export function checkedInput(runbook: string, file: string): unknown {
  runbookSpec(runbook);
  const input = readInput(file);
  const checked = checkInput(runbook, input);
  if (!checked.ok) throw new InputError(`invalid ${runbook} input:\n  ${checked.problems.join('\n  ')}`);
  return input;
}
