// The operator CLI: `npx waba-runbooks <command>` (or bin/waba-runbooks). Talks to TEMPORAL_ADDRESS
// (default: the embedded dev server on localhost:7233).
import { readFileSync } from 'node:fs';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { auditText } from './audit/audit';
import { auditWorkflow } from './audit/load';
import { decide, runForDecision, sendSignedCode, signedDecision } from './client/decide';
import { checkInput, InputError, plan, RUNBOOKS, startRunbook, status } from './client/runbooks';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from './client/schedules';
import { connectionOptions, dataConverterFromEnv, type TemporalConfig, temporalConfig } from './config';
import { checkInventory, reportText } from './inventory/check';
import { InventoryError } from './inventory/load';
import { chooseSigner } from './signing/choose';
import { SigningError } from './signing/signer';
import { PreApproval } from './spec/approvals';
import { MAX_PRE_APPROVAL_MS } from './spec/decision-check';
import { preApprovalText } from './spec/decisions';
import { Duration, durationMs } from './spec/duration';
import { jsonSchemaOf, SCHEMA_NAMES, type SchemaName } from './spec/json-schema';
import type { PreviewResult } from './spec/results';
import { isGated, previewIdFor } from './spec/runbooks';
import { describeIssues } from './spec/validate';

const USAGE = `usage: waba-runbooks <command>
  start <runbook> --input file.json [--id WORKFLOW_ID] [--key FILE] [--unsigned]
                                                         validate locally, sign the request with your SSH key
                                                         (ssh-agent, or --key), start, print the id and UI link
  status <id>                                            stage, per-host progress, open gates, last error
  plan <id>                                              the steps and commands the run executes
  plan <runbook> --input file.json                       dry run: only the read-only stages run; prints the plan
                                                         the first gate would show and its hash (to pre-approve)
  approve <id> --gate G [--as NAME] [--key FILE] [--comment TEXT]
                                                         signed with your SSH key (ssh-agent, or --key)
  reject <id> --gate G [--as NAME] [--key FILE] --reason TEXT
  code <id> <code> [--as NAME] [--key FILE]              the registration code received by SMS/voice
  sign approve|reject <id> --gate G [--as NAME] [--key FILE] [--comment TEXT | --reason TEXT]
                                                         print a signed decision to paste into the Web UI
  audit <id> [--run RUN_ID] [--history FILE] [--inventory FILE] [--json]
                                                         verify every decision of a run offline against the
                                                         inventory's keys; exit 1 when one does not verify
  sign preapprove --cluster C --runbook R --gate G --plan HASH --reason TEXT --as NAME [--valid 7d] [--key FILE]
                                                         an approval given in advance for a dry run's plan
                                                         (an entry of a scheduled upgrade's "preApproved")
  result <id>                                            wait for the run and print its result
  list                                                   open runbook runs, sorted by cluster
  schedule create <runbook> --input file.json --calendar "sun 03:00" --tz Europe/Rome --note "alice: why"
                  [--id SCHEDULE_ID] [--runs N] [--key FILE] [--unsigned]
                                                         validate locally, sign the request (as start does);
                                                         start the runbook at those times
  schedule list [--cluster NAME]                         schedules: calendar, time zone, paused, next run, note
  schedule describe <id>                                 calendar, policies, note, next and recent runs
  schedule pause <id> [--note TEXT]
  schedule unpause <id> [--note TEXT]
  schedule trigger <id>                                  start the run now (not while one is open)
  schedule delete <id>                                   (runs already started go on)
  inventory check [FILE] [--json]                        validate an inventory (default: the worker's) without a worker
  schema <runbook|inventory>                             the JSON Schema of a runbook's input or of the inventory
calendar: "<days> <hh:mm>", days: sun..sat, a range mon-fri, a list sat,sun, or * (every day)
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

function readInput(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read ${file} as JSON: ${(err as Error).message}`);
  }
}

/** The runbook and its input file, read and validated here: a bad file is reported without a server. */
function checkedStart(args: string[]): { runbook: string; input: unknown } {
  const runbook = args[0] && !args[0].startsWith('--') ? args[0] : '';
  const spec = RUNBOOKS[runbook];
  if (!spec)
    throw new InputError(
      `${runbook ? `unknown runbook "${runbook}"` : 'missing the runbook'}; one of: ${Object.keys(RUNBOOKS).join(', ')}`,
    );
  const input = readInput(opt(args, '--input', true) as string);
  const checked = checkInput(runbook, input);
  if (!checked.ok) throw new InputError(`invalid ${runbook} input:\n  ${checked.problems.join('\n  ')}`);
  return { runbook, input };
}

/** Open runs of runbook workflows (not schedules' or other workflows on the server), sorted by cluster. */
async function listOpenRuns(client: Client): Promise<void> {
  const types = Object.keys(RUNBOOKS)
    .map((t) => `'${t}'`)
    .join(', ');
  const rows: string[][] = [];
  for await (const wf of client.workflow.list({
    query: `ExecutionStatus = 'Running' AND WorkflowType IN (${types})`,
  })) {
    const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
    rows.push([String(sa.WabaCluster?.[0] ?? '-'), wf.type, wf.workflowId, String(sa.WabaStep?.[0] ?? '')]);
  }
  if (rows.length === 0) {
    console.log('no open runbook runs');
    return;
  }
  // By cluster, then runbook, then id: one cluster's runs together.
  const key = (r: string[]) => `${r[0]}\u0000${r[1]}\u0000${r[2]}`;
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  console.log(['cluster', 'runbook', 'workflow id', 'step'].join('\t'));
  for (const r of rows) console.log(r.join('\t'));
}

/** `schedule <subcommand> ...`: Temporal Schedules that start runbooks (src/client/schedules.ts). */
async function schedule(client: Client, config: TemporalConfig, args: string[]): Promise<void> {
  try {
    await scheduleCommand(client, config, args);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new InputError(`no schedule "${err.scheduleId}" (see: waba-runbooks schedule list)`);
    throw err;
  }
}

async function scheduleCommand(client: Client, config: TemporalConfig, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const id = () => {
    if (!rest[0] || rest[0].startsWith('--')) throw new InputError(`missing the schedule id\n${USAGE}`);
    return rest[0];
  };
  switch (sub) {
    case 'create': {
      const runbook = rest[0] && !rest[0].startsWith('--') ? rest[0] : '';
      if (!runbook) throw new InputError(`missing the runbook\n${USAGE}`);
      const input = readInput(opt(rest, '--input', true) as string);
      const runs = opt(rest, '--runs');
      if (runs !== undefined && !/^[1-9]\d*$/.test(runs))
        throw new InputError(`--runs must be a whole number of at least 1, got "${runs}"`);
      const scheduleId = opt(rest, '--id');
      const signer = await startSigner(runbook, rest);
      const created = await createSchedule(client, {
        runbook,
        input,
        calendar: opt(rest, '--calendar', true) as string,
        timeZone: opt(rest, '--tz', true) as string,
        note: opt(rest, '--note', true) as string,
        taskQueue: config.taskQueue,
        ...(scheduleId ? { scheduleId } : {}),
        ...(runs ? { remainingActions: Number(runs) } : {}),
        ...(signer ? { signer } : {}),
      });
      if (signer) console.log(`request signed with ${signer.fingerprint} for every run of the schedule`);
      console.log(`created schedule ${created.scheduleId}: ${runbook} on cluster ${created.cluster}`);
      console.log(`next runs: ${created.nextRunTimes.slice(0, 3).join(', ') || 'none'}`);
      console.log(
        `each run's workflow id is ${created.workflowId}-<scheduled time>; see: waba-runbooks schedule describe ${created.scheduleId}`,
      );
      return;
    }
    case 'list': {
      const cluster = opt(rest, '--cluster');
      for (const s of await listSchedules(client, cluster ? { cluster } : {})) {
        console.log(
          [
            s.scheduleId,
            s.cluster || '-',
            s.runbook || '-',
            `${s.calendar || '-'} ${s.timeZone}`,
            s.paused ? 'paused' : 'active',
            s.nextRunTime ?? '-',
            s.note,
          ].join('\t'),
        );
      }
      return;
    }
    case 'describe':
      return print(await describeSchedule(client, id()));
    case 'pause':
      return print(await pauseSchedule(client, id(), opt(rest, '--note')));
    case 'unpause':
      return print(await unpauseSchedule(client, id(), opt(rest, '--note')));
    case 'trigger': {
      const t = await triggerSchedule(client, id());
      if (!t.started) throw new Error(`schedule ${id()}: ${t.reason}`);
      console.log(`started ${t.workflowId} (run ${t.runId})`);
      console.log(`Web UI: ${uiLink(config.namespace, t.workflowId)}`);
      return;
    }
    case 'delete':
      await deleteSchedule(client, id());
      console.log(`deleted schedule ${id()}`);
      return;
    default:
      throw new InputError(`unknown schedule command "${sub ?? ''}"\n${USAGE}`);
  }
}

function printSchema(name: string | undefined): void {
  if (!name || !(SCHEMA_NAMES as readonly string[]).includes(name))
    throw new InputError(`schema of what? one of: ${SCHEMA_NAMES.join(', ')}`);
  print(jsonSchemaOf(name as SchemaName));
}

function inventoryCommand(args: string[]): void {
  const [sub, ...rest] = args;
  if (sub !== 'check')
    throw new InputError(`unknown inventory command "${sub ?? ''}"; try: inventory check [FILE]`);
  const file = rest.find((a) => !a.startsWith('--'));
  try {
    const report = checkInventory(file);
    console.log(rest.includes('--json') ? JSON.stringify(report, null, 2) : reportText(report));
  } catch (err) {
    if (err instanceof InventoryError) throw new InputError(err.message);
    throw err;
  }
}

/**
 * A gated runbook's start is signed as its requester with the operator's key (ssh-agent or --key),
 * unless --unsigned; without a key it starts unsigned and says what that costs.
 */
async function startSigner(runbook: string, args: string[]) {
  if (!isGated(runbook) || args.includes('--unsigned')) return undefined;
  try {
    return await chooseSigner({ key: opt(args, '--key') });
  } catch (err) {
    if (opt(args, '--key') || !(err instanceof InputError)) throw err;
    console.error(
      `waba-runbooks: starting unsigned (${err.message}): the requester is not authenticated, so with self-approval off every gate needs one more approver`,
    );
    return undefined;
  }
}

/** `audit <id>`: the report; a decision that does not verify fails the command (exit 1). */
async function audit(client: Client | undefined, args: string[]): Promise<void> {
  const workflowId = args[0];
  if (!workflowId || workflowId.startsWith('--')) throw new InputError(`missing the workflow id\n${USAGE}`);
  const runId = opt(args, '--run');
  const historyFile = opt(args, '--history');
  const inventory = opt(args, '--inventory');
  const report = await auditWorkflow({
    workflowId,
    ...(client ? { client } : {}),
    ...(runId ? { runId } : {}),
    ...(historyFile ? { historyFile } : {}),
    ...(inventory ? { inventory } : {}),
  });
  console.log(args.includes('--json') ? JSON.stringify(report, null, 2) : auditText(report));
  if (!report.ok) throw new AuditFailed();
}

class AuditFailed extends Error {
  constructor() {
    super('not every decision verifies');
  }
}

/** A dry run of `runbook` with `input`: started, awaited (read-only stages only), its plan returned. */
async function previewRun(client: Client, taskQueue: string, runbook: string, input: unknown) {
  if (!isGated(runbook))
    throw new InputError(
      `${runbook} has no gate: a dry run is for ${['haSetup', 'multiconnectExpand', 'upgrade', 'uninstall', 'haDrill'].join(', ')}`,
    );
  const cluster = (input as { cluster: string }).cluster;
  const handle = await client.workflow.start(runbook, {
    taskQueue,
    workflowId: previewIdFor(cluster, runbook),
    args: [{ ...(input as object), preview: true }],
    workflowExecutionTimeout: '15m',
  });
  return (await handle.result()) as PreviewResult;
}

/** `sign preapprove`: an approval, signed now, of one plan of one runbook's gate on one cluster. */
async function signPreApproval(args: string[]): Promise<PreApproval> {
  const as = opt(args, '--as', true) as string;
  const valid = opt(args, '--valid') ?? '7d';
  if (!Duration.safeParse(valid).success || durationMs(valid) > MAX_PRE_APPROVAL_MS)
    throw new InputError(`--valid must be a duration of at most 30d, got "${valid}"`);
  const fields = {
    cluster: opt(args, '--cluster', true) as string,
    runbook: opt(args, '--runbook', true) as string,
    gate: opt(args, '--gate', true) as string,
    plan: opt(args, '--plan', true) as string,
    reason: opt(args, '--reason', true) as string,
    by: as,
    at: new Date().toISOString(),
  };
  const validUntil = new Date(Date.parse(fields.at) + durationMs(valid)).toISOString();
  const signer = await chooseSigner({ key: opt(args, '--key'), as });
  const signature = await signer.sign(preApprovalText({ ...fields, validUntil }));
  const entry = {
    gate: fields.gate,
    by: as,
    reason: fields.reason,
    plan: fields.plan,
    at: fields.at,
    validUntil,
    signature,
  };
  const checked = PreApproval.safeParse(entry);
  if (!checked.success)
    throw new InputError(`cannot make that pre-approval: ${describeIssues(checked.error).join('; ')}`);
  return checked.data;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return;
  }
  // Commands that need no server.
  if (command === 'schema') return printSchema(args[0]);
  if (command === 'inventory') return inventoryCommand(args);
  if (command === 'sign' && args[0] === 'preapprove') return print(await signPreApproval(args));
  // An audit of a history file needs no server either.
  if (command === 'audit' && opt(args, '--history')) return audit(undefined, args);
  // What can be checked without the server is checked first: a bad input file is reported even when
  // Temporal is down or unreachable.
  const start = command === 'start' ? checkedStart(args) : undefined;
  const config = temporalConfig();
  const dataConverter = dataConverterFromEnv(); // the payload codec, when WABA_CODEC_KEYS is set
  const connection = await Connection.connect(connectionOptions(config, config.address ?? 'localhost:7233'));
  const client = new Client({
    connection,
    namespace: config.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const id = () => {
    if (!args[0] || args[0].startsWith('--')) throw new InputError(`missing the workflow id\n${USAGE}`);
    return args[0];
  };
  try {
    switch (command) {
      case 'start': {
        const { runbook, input } = start as { runbook: string; input: unknown };
        const signer = await startSigner(runbook, args);
        const started = await startRunbook(
          client,
          config.taskQueue,
          runbook,
          input,
          opt(args, '--id'),
          signer,
        );
        console.log(`started ${runbook}: ${started.workflowId} (run ${started.runId})`);
        if (signer) console.log(`request signed with ${signer.fingerprint} (${signer.source})`);
        console.log(`Web UI: ${uiLink(config.namespace, started.workflowId)}`);
        return;
      }
      case 'status':
        return print(await status(client, id()));
      case 'plan': {
        if (!RUNBOOKS[args[0] ?? '']) return print(await plan(client, id()));
        const { runbook, input } = checkedStart(args);
        const out = await previewRun(client, config.taskQueue, runbook, input);
        print(out);
        console.error(
          `# to approve gate "${out.gate}" of this plan in advance: waba-runbooks sign preapprove --cluster ${out.cluster} --runbook ${runbook} --gate ${out.gate} --plan ${out.planHash} --reason "..." --as <you>`,
        );
        return;
      }
      case 'approve':
      case 'reject': {
        const run = await runForDecision(client, id());
        const choice = { key: opt(args, '--key'), as: opt(args, '--as') };
        const signer = await chooseSigner(choice, run.approvers);
        const note = command === 'approve' ? opt(args, '--comment') : (opt(args, '--reason', true) as string);
        return print(
          await decide(client, id(), command, signer, {
            gate: opt(args, '--gate', true) as string,
            ...(choice.as ? { as: choice.as } : {}),
            ...(note !== undefined ? { note } : {}),
          }),
        );
      }
      case 'code': {
        if (!args[1]) throw new InputError(`missing the code\n${USAGE}`);
        const run = await runForDecision(client, id());
        const as = opt(args, '--as');
        // Signed when a key is at hand (the policy may require it); else the name given is enough.
        const signer = await chooseSigner({ key: opt(args, '--key'), as }, run.approvers).catch(
          (err: unknown) => {
            if (run.codePlan) throw err;
            return undefined;
          },
        );
        return print(await sendSignedCode(client, id(), args[1], signer, as ? { as } : {}));
      }
      case 'sign': {
        const [verb, wid] = args;
        if (verb !== 'approve' && verb !== 'reject')
          throw new InputError(`sign what? approve, reject or preapprove\n${USAGE}`);
        if (!wid || wid.startsWith('--')) throw new InputError(`missing the workflow id\n${USAGE}`);
        const run = await runForDecision(client, wid);
        const choice = { key: opt(args, '--key'), as: opt(args, '--as') };
        const signer = await chooseSigner(choice, run.approvers);
        const note = verb === 'approve' ? opt(args, '--comment') : (opt(args, '--reason', true) as string);
        const decision = await signedDecision(run, verb, signer, {
          gate: opt(args, '--gate', true) as string,
          ...(choice.as ? { as: choice.as } : {}),
          ...(note !== undefined ? { note } : {}),
        });
        console.log(`# Web UI: ${uiLink(config.namespace, wid)} -> Update (or Signal) "${verb}", input:`);
        console.log(JSON.stringify(decision));
        return;
      }
      case 'audit':
        return await audit(client, args);
      case 'result':
        return print(await client.workflow.getHandle(id()).result());
      case 'list':
        return await listOpenRuns(client);
      case 'schedule':
        return await schedule(client, config, args);
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
      `waba-runbooks: ${err instanceof InputError || err instanceof SigningError ? err.message : (cause ?? (err as Error).message)}`,
    );
    process.exit(err instanceof InputError || err instanceof SigningError ? 2 : 1);
  },
);
