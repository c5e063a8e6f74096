// ChatOps text commands: parse what a person typed in chat, act on runs through the same Updates and
// queries as the CLI, and answer in a line or a few. Errors become short messages, never stacks.
import { readFileSync } from 'node:fs';
import { type Client, QueryNotRegisteredError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { decide, sendSignedCode } from '../client/decide';
import { InputError, plan, status } from '../client/runbooks';
import type { Signer } from '../signing/signer';
import { Identity } from '../spec/approvals';

// ---------------------------------------------------------------------------------------------
// Chat users -> approver identities

export type Identities = ReadonlyMap<string, string>;

const IdentityMap = z.record(z.string().min(1).max(128), Identity);

/** `{"<chat user id>": "<identity>", ...}`, e.g. `{"U024BE7LH": "alice"}`. */
export function parseIdentities(json: string, source = 'identity map'): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new InputError(`${source}: not valid JSON`);
  }
  const parsed = IdentityMap.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InputError(
      `${source}: expected {"<chat user id>": "<identity>"}; ${problems.slice(0, 3).join('; ')}`,
    );
  }
  return new Map(Object.entries(parsed.data));
}

/** From `WABA_CHATOPS_IDENTITIES` (a JSON file) or `WABA_CHATOPS_IDENTITY_MAP` (inline JSON); empty if neither. */
export function loadIdentities(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const file = env.WABA_CHATOPS_IDENTITIES;
  const inline = env.WABA_CHATOPS_IDENTITY_MAP;
  if (file && inline) {
    throw new InputError(
      'set WABA_CHATOPS_IDENTITIES (a file) or WABA_CHATOPS_IDENTITY_MAP (inline), not both',
    );
  }
  if (inline) return parseIdentities(inline, 'WABA_CHATOPS_IDENTITY_MAP');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(
        `WABA_CHATOPS_IDENTITIES=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    return parseIdentities(text, `WABA_CHATOPS_IDENTITIES=${file}`);
  }
  return new Map();
}

// ---------------------------------------------------------------------------------------------
// Parsing

export type Command =
  | { name: 'help' }
  | { name: 'pending' }
  | { name: 'status' | 'plan'; run: string }
  | { name: 'approve'; run: string; gate: string; comment?: string }
  | { name: 'reject'; run: string; gate: string; reason: string }
  | { name: 'code'; run: string; code: string };

export const USAGE = [
  'commands:',
  '  pending                              open gates of running runs',
  '  status <run>                         stage, open gates, decisions',
  '  plan <run>                           every step and remote command',
  '  approve <run> <gate> [comment...]',
  '  reject <run> <gate> <reason...>',
  '  code <run> <code>                    the registration verification code',
  '  help',
  '<run> is the workflow id, e.g. prod/haSetup',
].join('\n');

const TOKEN = /^[\x21-\x7e]{1,200}$/;

/** Parse one command line; `{error}` says what is wrong with it. */
export function parseCommand(text: string): Command | { error: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = '', ...rest] = words;
  const usage = (form: string) => ({ error: `usage: ${form}` });
  const bad = rest.slice(0, 2).find((w) => !TOKEN.test(w));
  if (bad !== undefined) return { error: 'run ids and gate names are printable ASCII, up to 200 characters' };
  const [run, second] = rest;
  const tail = rest.slice(2).join(' ');
  switch (verb.toLowerCase()) {
    case '':
    case 'help':
      return { name: 'help' };
    case 'pending':
      return rest.length === 0 ? { name: 'pending' } : usage('pending');
    case 'status':
    case 'plan':
      return run && rest.length === 1
        ? { name: verb.toLowerCase() as 'status' | 'plan', run }
        : usage(`${verb} <run>`);
    case 'approve':
      if (!run || !second) return usage('approve <run> <gate> [comment...]');
      return { name: 'approve', run, gate: second, ...(tail ? { comment: tail } : {}) };
    case 'reject':
      if (!run || !second || !tail) return usage('reject <run> <gate> <reason...>');
      return { name: 'reject', run, gate: second, reason: tail };
    case 'code':
      if (!run || !second || rest.length !== 2) return usage('code <run> <code>');
      return { name: 'code', run, code: second };
    default:
      return { error: `unknown command "${verb.slice(0, 40)}"; try "help"` };
  }
}

// ---------------------------------------------------------------------------------------------
// Running

/** The key this endpoint signs relayed decisions with, and its relay name in the approval policies. */
export interface Relay {
  name: string;
  signer: Signer;
}

export interface CommandContext {
  client: Client;
  identities: Identities;
  /** Without one the endpoint can only read (status, plan, pending): decisions must be signed. */
  relay?: Relay;
  /** Milliseconds since the epoch (for ages). */
  now?: () => number;
  /** Per query deadline; Slack wants an answer within 3 s. */
  queryTimeoutMs?: number;
  /** At most this many running runs are looked at by `pending`. */
  maxRuns?: number;
}

interface Gate {
  gate: string;
  openedAt?: string;
  approvals?: string[];
  needed?: number;
}

interface Status {
  runbook?: string;
  cluster?: string;
  stage?: string;
  lastError?: string | null;
  pendingGates?: Gate[];
  awaitingCode?: boolean;
  requestedBy?: string;
}

/**
 * Run what `user` (a chat user id of `chat`, e.g. `slack`) typed; always resolves to the text to
 * answer. Decisions are relayed: the endpoint's own key signs "<identity> via <chat>:<user>", and the
 * run's policy says which identities this relay may speak for.
 */
export async function runCommand(
  ctx: CommandContext,
  user: string,
  text: string,
  chat = 'slack',
): Promise<string> {
  const cmd = parseCommand(text);
  if ('error' in cmd) return cmd.error;
  const now = ctx.now ?? Date.now;
  const deadline = () => now() + (ctx.queryTimeoutMs ?? 2_000);
  const { client } = ctx;
  const run = 'run' in cmd ? cmd.run : '';
  try {
    switch (cmd.name) {
      case 'help':
        return USAGE;
      case 'pending':
        return await pending(ctx, now(), deadline());
      case 'status': {
        const s = await client.withDeadline(deadline(), () => status(client, cmd.run));
        return describeStatus(cmd.run, s as Status, now());
      }
      case 'plan': {
        const steps = await client.withDeadline(deadline(), () => plan(client, cmd.run));
        return describePlan(cmd.run, steps);
      }
      default:
        break;
    }
    const by = ctx.identities.get(user);
    if (!by) return 'you are not mapped to an approver identity (ask an admin to add your chat user id)';
    if (!ctx.relay)
      return 'this ChatOps endpoint has no relay key (WABA_CHATOPS_RELAY_KEY): it can read, not decide';
    const relay = { name: ctx.relay.name, via: `${chat}:${user}` };
    switch (cmd.name) {
      case 'approve': {
        const r = await decide(client, cmd.run, 'approve', ctx.relay.signer, {
          gate: cmd.gate,
          as: by,
          relay,
          ...(cmd.comment ? { note: cmd.comment } : {}),
        });
        const more = r.state === 'open' ? `; ${r.needed - r.approvals} more needed` : '';
        return `approved gate ${cmd.gate} of ${cmd.run} (${r.approvals}/${r.needed})${more}`;
      }
      case 'reject':
        await decide(client, cmd.run, 'reject', ctx.relay.signer, {
          gate: cmd.gate,
          as: by,
          relay,
          note: cmd.reason,
        });
        return `rejected gate ${cmd.gate} of ${cmd.run}: ${cmd.reason}`;
      case 'code':
        await sendSignedCode(client, cmd.run, cmd.code, ctx.relay.signer, { as: by, relay });
        return `verification code accepted by ${cmd.run}`;
    }
  } catch (err) {
    return explain(err, run);
  }
}

/** A short, safe message for a failure (no stack, no payloads). */
export function explain(err: unknown, run: string): string {
  if (err instanceof WorkflowUpdateFailedError) {
    const reason = (err.cause as Error | undefined)?.message;
    return `refused: ${oneLine(reason ?? err.message)}`;
  }
  if (err instanceof WorkflowNotFoundError) return `no running or recent run "${run}"`;
  if (err instanceof QueryNotRegisteredError) return `run "${run}" does not answer that query`;
  if (err instanceof InputError) return oneLine(err.message);
  const message = err instanceof Error ? err.message : String(err);
  if (/deadline|timed? ?out/i.test(message))
    return `no answer from run "${run}" in time (is a worker running?)`;
  return `error: ${oneLine(message)}`;
}

const oneLine = (s: string) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
};

export function age(fromIso: string | undefined, nowMs: number): string {
  const from = fromIso ? Date.parse(fromIso) : Number.NaN;
  if (Number.isNaN(from)) return '?';
  const s = Math.max(0, Math.round((nowMs - from) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

const progress = (g: Gate) => `${g.approvals?.length ?? 0}/${g.needed ?? '?'}`;

async function pending(ctx: CommandContext, nowMs: number, deadline: number): Promise<string> {
  const { client } = ctx;
  const max = ctx.maxRuns ?? 100;
  const ids: string[] = [];
  const query = "WabaRunbook IS NOT NULL AND ExecutionStatus = 'Running'";
  for await (const wf of client.workflow.list({ query })) {
    ids.push(wf.workflowId);
    if (ids.length >= max) break;
  }
  const answers = await Promise.all(
    ids.map((id) =>
      client
        .withDeadline(deadline, () => status(client, id))
        .then(
          (s) => ({ id, s: s as Status }),
          () => ({ id, s: undefined }),
        ),
    ),
  );
  const lines: string[] = [];
  let unanswered = 0;
  for (const { id, s } of answers) {
    if (!s) {
      unanswered++;
      continue;
    }
    for (const g of s.pendingGates ?? []) {
      lines.push(
        `${s.cluster ?? '?'} · ${s.runbook ?? '?'} · ${id} · gate ${g.gate} (${progress(g)}) · ` +
          `requested by ${s.requestedBy ?? '?'} · open ${age(g.openedAt, nowMs)}`,
      );
    }
  }
  const notes = [
    ...(unanswered ? [`(${unanswered} running run(s) did not answer in time)`] : []),
    ...(ids.length >= max ? [`(only the first ${max} running runs were looked at)`] : []),
  ];
  const head = lines.length ? `open gates (${lines.length}):` : 'no open gates';
  return [head, ...lines, ...notes].join('\n');
}

function describeStatus(run: string, s: Status, nowMs: number): string {
  const gates = (s.pendingGates ?? []).map(
    (g) => `${g.gate} (${progress(g)}, open ${age(g.openedAt, nowMs)})`,
  );
  return [
    `${run}: ${s.runbook ?? '?'} on ${s.cluster ?? '?'}`,
    `stage: ${s.stage ?? '?'}`,
    `open gates: ${gates.length ? gates.join(', ') : 'none'}`,
    ...(s.awaitingCode ? ['waiting for the verification code'] : []),
    ...(s.lastError ? [`last error: ${oneLine(s.lastError)}`] : []),
  ].join('\n');
}

function describePlan(run: string, steps: unknown[]): string {
  const MAX = 40;
  const lines = steps.slice(0, MAX).map((raw, i) => {
    const st = (raw ?? {}) as { stage?: string; host?: string; command?: string; note?: string };
    const where = st.host ? ` @${st.host}` : '';
    const what = st.command ? `: ${st.command}` : st.note ? `: ${st.note}` : '';
    return `${i + 1}. ${st.stage ?? '?'}${where}${what}`;
  });
  if (steps.length > MAX) lines.push(`... ${steps.length - MAX} more (npx waba-runbooks plan ${run})`);
  return [`plan of ${run} (${steps.length} steps):`, ...lines].join('\n');
}
