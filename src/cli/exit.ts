// Exit codes the CLI documents (docs/cli.md): 0 ok, 1 the run or the server failed, 2 a usage or
// input error (found before any connection where it can be), 3 a decision the run refused.
import { DecisionRefused, InputError } from '../client/errors';

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The run ended other than completed, or the server could not be reached: exit 1, the message shown. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
}

/** By name, so this module need not load the SDK (the errors come from lazily loaded modules). */
const named = (err: unknown, ...names: string[]) =>
  err instanceof Error && names.includes(err.name) ? err : undefined;

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof DecisionRefused || named(err, 'WorkflowUpdateFailedError')) return EXIT.refused;
  if (err instanceof InputError || named(err, 'SigningError', 'CommanderError')) return EXIT.usage;
  return EXIT.failed;
}

/** One short message for the operator: a refused Update says only the run's reason. */
export function messageOf(err: unknown): string {
  if (named(err, 'WorkflowUpdateFailedError')) {
    const reason = ((err as Error).cause as Error | undefined)?.message;
    return `refused: ${reason ?? (err as Error).message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
