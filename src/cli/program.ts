// Every CLI command, once: its arguments, options, help and examples (commander). The command
// table of docs/cli.md and the shell completion are generated from these definitions. Actions load their
// modules lazily, so `--help` and refusals are answered without loading the SDK or connecting.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { outputFormat } from './output';
import { Session } from './session';

type Action = (s: Session, ...args: never[]) => Promise<void> | void;

/** Sessions opened by actions, closed by the caller whatever happens. */
export const sessions: Session[] = [];

/** Wire a lazily loaded action: positional arguments, then the command's own options. */
function run<A extends Action>(load: () => Promise<A>) {
  return async (...raw: unknown[]) => {
    const cmd = raw[raw.length - 1] as Command;
    const positional = raw.slice(0, -2);
    const g = cmd.optsWithGlobals<{
      output?: string;
      address?: string;
      namespace?: string;
      profile?: string;
    }>();
    const session = new Session(outputFormat(g.output), {
      ...(g.address ? { address: g.address } : {}),
      ...(g.namespace ? { namespace: g.namespace } : {}),
      ...(g.profile ? { profile: g.profile } : {}),
    });
    sessions.push(session);
    const action = await load();
    await (action as unknown as (...a: unknown[]) => unknown)(session, ...positional, cmd.opts());
  };
}

function version(): string {
  // From the source tree or from dist/: the nearest package.json up the tree is the project's.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {}
  }
  return 'unknown';
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

const keyOption = () =>
  new Option('--key <file>', 'sign with this private key file (default: the ssh-agent)');
const asOption = () => new Option('--as <name>', 'the approver you are (default: the owner of your key)');

export function buildProgram(): Command {
  const program = new Command('waba-runbooks')
    .description('Start, follow, approve and audit WhatsApp Business API runbooks on Temporal.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option(
        '-o, --output <format>',
        'text or json (default: text on a terminal, json when piped)',
      ).choices(['text', 'json']),
    )
    .option(
      '--address <host:port>',
      'Temporal server (default: TEMPORAL_ADDRESS, the profile, localhost:7233)',
    )
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, the profile, default)')
    .option('--profile <name>', 'profile of the Temporal config file (TEMPORAL_PROFILE, temporal.toml)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`waba-runbooks: ${str.replace(/^error: /, '')}`) });

  program
    .command('start')
    .description('validate an input, sign the request with your SSH key, start the run')
    .argument('<runbook>', 'the runbook, e.g. upgrade')
    .requiredOption('-i, --input <file>', 'the input: JSON or YAML file, or - for standard input')
    .option('--id <workflow-id>', 'the workflow id (default: <cluster>/<runbook>)')
    .addOption(keyOption())
    .option('--unsigned', 'start without signing (every gate then needs one more approver)')
    .option('-w, --watch', 'then follow the run until it ends (exit code: its outcome)')
    .option('--interval <duration>', 'with --watch: how often to read the run', '2s')
    .addHelpText(
      'after',
      examples(
        'waba-runbooks start upgrade -i prod-upgrade.yaml --watch',
        'echo \'{"cluster":"lab","requestedBy":"carol"}\' | waba-runbooks start haSetup -i -',
      ),
    )
    .action(run(async () => (await import('./commands/runs')).start));

  program
    .command('status')
    .description('stage, per-host progress, open gates, last error')
    .argument('<workflow-id>')
    .action(run(async () => (await import('./commands/runs')).status));

  program
    .command('watch')
    .description('follow a run until it ends; exit 0 when it completed, 1 when not')
    .argument('<workflow-id>')
    .option('--interval <duration>', 'how often to read the run', '2s')
    .addHelpText(
      'after',
      examples('waba-runbooks watch prod/upgrade', 'waba-runbooks watch prod/upgrade -o json | jq .event'),
    )
    .action(run(async () => (await import('./commands/runs')).watch));

  program
    .command('plan')
    .description("a run's steps and remote commands; with --input, a dry run of that input")
    .argument('<workflow-id|runbook>')
    .option(
      '-i, --input <file>',
      'dry run: only the read-only stages run; prints the plan its first gate would show',
    )
    .addHelpText(
      'after',
      examples('waba-runbooks plan prod/upgrade', 'waba-runbooks plan upgrade -i prod-upgrade.json'),
    )
    .action(run(async () => (await import('./commands/runs')).plan));

  program
    .command('pending')
    .description('open gates across runs: cluster, runbook, run, gate, requested by, age, plan hash')
    .action(run(async () => (await import('./commands/runs')).pending));

  program
    .command('list')
    .description('open runbook runs, sorted by cluster')
    .action(run(async () => (await import('./commands/runs')).list));

  program
    .command('result')
    .description('wait for a run and print its result; exit 1 when it failed')
    .argument('<workflow-id>')
    .action(run(async () => (await import('./commands/runs')).result));

  for (const verb of ['approve', 'reject'] as const) {
    const cmd = program
      .command(verb)
      .description(`${verb} an open gate, signed with your SSH key (exit 3 when the run refuses)`)
      .argument('<workflow-id>')
      .requiredOption('-g, --gate <gate>', 'the gate, e.g. upgrade')
      .addOption(asOption())
      .addOption(keyOption());
    if (verb === 'approve') cmd.option('--comment <text>', 'why (e.g. the change ticket)');
    else cmd.requiredOption('--reason <text>', 'why not');
    cmd
      .addHelpText(
        'after',
        examples(
          `waba-runbooks ${verb} prod/upgrade --gate upgrade ${verb === 'approve' ? '--comment CHG-42' : '--reason "not during the sale"'}`,
        ),
      )
      .action(
        run(async () => {
          const { decideCommand } = await import('./commands/decisions');
          return (s: Session, id: string, o: never) => decideCommand(s, verb, id, o);
        }),
      );
  }

  program
    .command('code')
    .description('send the registration code received by SMS or voice')
    .argument('<workflow-id>')
    .argument('<code>')
    .addOption(asOption())
    .addOption(keyOption())
    .action(run(async () => (await import('./commands/decisions')).code));

  const sign = program
    .command('sign')
    .description('print a signed decision or pre-approval (nothing is sent)');
  for (const verb of ['approve', 'reject'] as const) {
    const cmd = sign
      .command(verb)
      .description(`a signed ${verb} to paste into the Web UI's Update or Signal "${verb}"`)
      .argument('<workflow-id>')
      .requiredOption('-g, --gate <gate>', 'the gate')
      .addOption(asOption())
      .addOption(keyOption());
    if (verb === 'approve') cmd.option('--comment <text>', 'why');
    else cmd.requiredOption('--reason <text>', 'why not');
    cmd.action(
      run(async () => {
        const { signDecision } = await import('./commands/decisions');
        return (s: Session, id: string, o: never) => signDecision(s, verb, id, o);
      }),
    );
  }
  sign
    .command('preapprove')
    .description(
      'an approval in advance of a dry run\'s plan, for a scheduled run\'s "preApproved" (no server)',
    )
    .requiredOption('--cluster <name>', 'the cluster')
    .requiredOption('--runbook <runbook>', 'the runbook, e.g. upgrade')
    .requiredOption('-g, --gate <gate>', 'the gate')
    .requiredOption('--plan <hash>', 'the plan hash the dry run printed')
    .requiredOption('--reason <text>', 'why (e.g. the CAB ticket)')
    .requiredOption('--as <name>', 'the approver you are')
    .option('--valid <duration>', 'how long it is valid (at most 30d)', '7d')
    .addOption(keyOption())
    .addHelpText(
      'after',
      examples(
        'waba-runbooks sign preapprove --cluster prod --runbook upgrade --gate upgrade --plan 6f1c... --reason "CHG-1234" --as alice',
      ),
    )
    .action(run(async () => (await import('./commands/decisions')).signPreApproval));

  program
    .command('audit')
    .description("verify every decision of a run against the inventory's keys; exit 1 when one does not")
    .argument('<workflow-id>')
    .option('--run <run-id>', 'the run (default: the latest)')
    .option('--history <file>', 'a saved history (temporal workflow show --output json): no server needed')
    .option('--inventory <file>', "the inventory with the keys (default: the worker's)")
    .action(run(async () => (await import('./commands/decisions')).audit));

  const schedule = program.command('schedule').description('Temporal Schedules that start runbooks off-peak');
  schedule
    .command('create')
    .description('validate an input, sign it, and start the runbook at those times')
    .argument('<runbook>')
    .requiredOption('-i, --input <file>', 'the input: JSON or YAML file, or - for standard input')
    .requiredOption('--calendar <spec>', 'e.g. "sun 03:00", "mon-fri 22:30", "* 02:15"')
    .requiredOption('--tz <zone>', 'IANA time zone, e.g. Europe/Rome')
    .requiredOption('--note <text>', 'who and why, e.g. "alice: monthly upgrade"')
    .option('--id <schedule-id>', 'default: <cluster>/<runbook>/schedule')
    .option('--runs <n>', 'take at most n runs (1 for a one-off)')
    .addOption(keyOption())
    .option('--unsigned', 'do not sign the request')
    .addHelpText(
      'after',
      examples(
        'waba-runbooks schedule create upgrade -i prod-upgrade.json --calendar "sun 03:00" --tz Europe/Rome --note "alice: CHG-1234" --runs 1',
      ),
    )
    .action(run(async () => (await import('./commands/schedules')).create));
  schedule
    .command('list')
    .description('schedules: calendar, time zone, state, next run, note')
    .option('--cluster <name>', "only this cluster's")
    .action(run(async () => (await import('./commands/schedules')).list));
  schedule
    .command('describe')
    .description('calendar, policies, note, next, recent and running runs')
    .argument('<schedule-id>')
    .action(run(async () => (await import('./commands/schedules')).describe));
  for (const [verb, resume] of [
    ['pause', false],
    ['unpause', true],
  ] as const)
    schedule
      .command(verb)
      .description(resume ? 'take scheduled runs again' : 'take no scheduled runs until unpaused')
      .argument('<schedule-id>')
      .option('--note <text>', 'who and why')
      .action(
        run(async () => {
          const { pause } = await import('./commands/schedules');
          return (s: Session, id: string, o: never) => pause(s, id, o, resume);
        }),
      );
  schedule
    .command('trigger')
    .description('start the run now (not while one is open)')
    .argument('<schedule-id>')
    .action(run(async () => (await import('./commands/schedules')).trigger));
  schedule
    .command('delete')
    .description('delete a schedule (runs already started go on)')
    .argument('<schedule-id>')
    .action(run(async () => (await import('./commands/schedules')).remove));

  program
    .command('inventory')
    .description('the inventory of clusters')
    .command('check')
    .description("validate an inventory (default: the worker's) without a worker")
    .argument('[file]')
    .action(run(async () => (await import('./commands/offline')).inventoryCheck));

  program
    .command('schema')
    .description("the JSON Schema of a runbook's input, or of the inventory")
    .argument('<name>', 'a runbook or "inventory"')
    .action(run(async () => (await import('./commands/offline')).schema));

  program
    .command('completion')
    .description('print the shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      examples(
        'source <(waba-runbooks completion bash)',
        'waba-runbooks completion zsh > ~/.zsh/completions/_waba-runbooks',
      ),
    )
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion');
      process.stdout.write(completionScript(program, shell));
    });

  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption()
    .action(async (words: string[] | undefined, _o: unknown, cmd: Command) => {
      const { completeWords, serverIds } = await import('./completion');
      const g = cmd.optsWithGlobals<{ address?: string; namespace?: string; profile?: string }>();
      for (const c of await completeWords(program, words ?? [], serverIds(g))) console.log(c);
    });

  return program;
}
