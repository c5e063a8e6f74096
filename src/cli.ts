// The operator CLI (`bin/waba-runbooks`): commands are defined in src/cli/program.ts. Exit codes:
// 0 ok, 1 the run or the server failed, 2 a usage or input error, 3 a refused decision.
import type { CommanderError } from 'commander';
import { EXIT, exitCodeOf, messageOf } from './cli/exit';
import { buildProgram, sessions } from './cli/program';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    const commander = err as CommanderError;
    // Help and --version end with exit code 0; help shown for a missing command with 1: usage.
    if (commander.code?.startsWith('commander.') && commander.exitCode === 0) return EXIT.ok;
    // commander has printed its own message (with a suggestion); ours are printed here.
    if (!commander.code?.startsWith('commander.')) console.error(`waba-runbooks: ${messageOf(err)}`);
    return exitCodeOf(err);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
