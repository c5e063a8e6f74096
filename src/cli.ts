// The operator CLI: `npx waba-runbooks <command>` (or bin/waba-runbooks). Talks to TEMPORAL_ADDRESS
// (default: the embedded dev server on localhost:7233).
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import {
  approve,
  InputError,
  plan,
  RUNBOOKS,
  reject,
  sendCode,
  startRunbook,
  status,
} from './client/runbooks';
import { connectionOptions, temporalConfig } from './config';

const USAGE = `usage: waba-runbooks <command>
  start <runbook> --input file.json [--id WORKFLOW_ID]   validate locally, start, print the id and UI link
  status <id>                                            stage, per-host progress, open gates, last error
  plan <id>                                              the steps and commands the run executes
  approve <id> --gate G --as NAME [--comment TEXT]
  reject <id> --gate G --as NAME --reason TEXT
  code <id> <code> --as NAME                             the registration code received by SMS/voice
  result <id>                                            wait for the run and print its result
  list                                                   open runs, by cluster
runbooks: ${Object.keys(RUNBOOKS).join(', ')}`;

function opt(args: string[], name: string, required = false): string | undefined {
  const i = args.indexOf(name);
  const v = i >= 0 ? args[i + 1] : undefined;
  if (required && !v) throw new InputError(`missing ${name}\n${USAGE}`);
  return v;
}

function uiLink(namespace: string, id: string): string {
  const base = process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233';
  return `${base}/namespaces/${namespace}/workflows/${encodeURIComponent(id)}`;
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return;
  }
  const config = temporalConfig();
  const connection = await Connection.connect(connectionOptions(config, config.address ?? 'localhost:7233'));
  const client = new Client({ connection, namespace: config.namespace });
  const id = () => {
    if (!args[0] || args[0].startsWith('--')) throw new InputError(`missing the workflow id\n${USAGE}`);
    return args[0];
  };
  try {
    switch (command) {
      case 'start': {
        const runbook = args[0] ?? '';
        const file = opt(args, '--input', true) as string;
        let input: unknown;
        try {
          input = JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new InputError(`cannot read ${file} as JSON: ${(err as Error).message}`);
        }
        const started = await startRunbook(client, config.taskQueue, runbook, input, opt(args, '--id'));
        console.log(`started ${runbook}: ${started.workflowId} (run ${started.runId})`);
        console.log(`Web UI: ${uiLink(config.namespace, started.workflowId)}`);
        return;
      }
      case 'status':
        return print(await status(client, id()));
      case 'plan':
        return print(await plan(client, id()));
      case 'approve':
        return print(
          await approve(
            client,
            id(),
            opt(args, '--gate', true) as string,
            opt(args, '--as', true) as string,
            opt(args, '--comment'),
          ),
        );
      case 'reject':
        return print(
          await reject(
            client,
            id(),
            opt(args, '--gate', true) as string,
            opt(args, '--as', true) as string,
            opt(args, '--reason', true) as string,
          ),
        );
      case 'code':
        if (!args[1]) throw new InputError(`missing the code\n${USAGE}`);
        return print(await sendCode(client, id(), args[1], opt(args, '--as', true) as string));
      case 'result':
        return print(await client.workflow.getHandle(id()).result());
      case 'list': {
        for await (const wf of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
          const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
          console.log(
            `${String(sa.WabaCluster?.[0] ?? '-')}\t${wf.type}\t${wf.workflowId}\t${String(sa.WabaStep?.[0] ?? '')}`,
          );
        }
        return;
      }
      default:
        throw new InputError(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    // Refused decisions come back from the Update validator with the reason: show only that.
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    console.error(
      `waba-runbooks: ${err instanceof InputError ? err.message : (cause ?? (err as Error).message)}`,
    );
    process.exit(err instanceof InputError ? 2 : 1);
  },
);
