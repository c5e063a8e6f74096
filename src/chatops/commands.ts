// ChatOps text commands: parse what a person typed in chat, act on runs through the same Updates and
// queries as the CLI, and answer in a line or a few. Errors become short messages, never stacks.
import { type Client, QueryNotRegisteredError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { decide, sendSignedCode } from '../client/decide';
import { InputError, plan, status } from '../client/runbooks';
import { oneLine, pendingGates, pendingText, planText, statusText } from '../client/views';
import { identitiesText } from '../config/chatops';
import type { Env } from '../config/env';
import { Identity } from '../model/approvals';
import type { Signer } from '../signing/signer';

// ---------------------------------------------------------------------------------------------
// Chat users -> approver identities

export type Identities = ReadonlyMap<string, string>;

const IdentityMap = z.record(z.string().min(1).max(128), Identity);

/**
 * `{"<chat user id>": "<identity>", ...}`, e.g. `{"slack:U024BE7LH": "alice", "webhook:ops-bot": "ops.bot"}`;
 * a key without `slack:`/`webhook:` is the same id in every chat (see identitiesProblem).
 */
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

/** A map key that names its chat: `slack:U024BE7LH`, `webhook:ops-bot`. */
const isScoped = (key: string): boolean => /^(slack|webhook):/.test(key);

/**
 * The identity `user` of `chat` acts as: its `<chat>:<user>` key, else its bare key. A user that
 * itself looks scoped (a webhook body may carry any `user`) gets no bare lookup, so
 * `{"user": "slack:U024BE7LH"}` sent to the webhook is nobody.
 */
export function identityOf(
  identities: Identities,
  chat: 'slack' | 'webhook',
  user: string,
): string | undefined {
  return identities.get(`${chat}:${user}`) ?? (isScoped(user) ? undefined : identities.get(user));
}

/**
 * Why the map cannot serve these endpoints, or undefined. A bare key is one id for every chat: with
 * both Slack and the webhook served, a bot holding only the webhook secret could send a Slack user's
 * id and act as that person (TRUST.md rule 6), so every key must then name its chat.
 */
export function identitiesProblem(
  identities: Identities,
  chats: { slack: boolean; webhook: boolean },
): string | undefined {
  if (!(chats.slack && chats.webhook)) return undefined;
  const bare = [...identities.keys()].filter((k) => !isScoped(k));
  if (bare.length === 0) return undefined;
  const shown = bare.slice(0, 3).map((k) => JSON.stringify(k.slice(0, 40)));
  return `identity map: keys without a chat (${shown.join(', ')}${bare.length > 3 ? ` and ${bare.length - 3} more` : ''}); with both /slack and /webhook served, write "slack:<user id>" or "webhook:<user>", so a webhook bot cannot act as a Slack user`;
}

/** From `WABA_CHATOPS_IDENTITIES` (a JSON file) or `WABA_CHATOPS_IDENTITY_MAP` (inline JSON); empty if neither. */
export function loadIdentities(env?: Env): Map<string, string> {
  const json = identitiesText(env, (message) => new InputError(message));
  return json ? parseIdentities(json.text, json.source) : new Map();
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

/**
 * Run what `user` (a chat user id of `chat`, e.g. `slack`) typed; always resolves to the text to
 * answer. Decisions are relayed: the endpoint's own key signs "<identity> via <chat>:<user>", and the
 * run's policy says which identities this relay may speak for.
 */
export async function runCommand(
  ctx: CommandContext,
  user: string,
  text: string,
  chat: 'slack' | 'webhook' = 'slack',
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
      case 'pending': {
        const open = await pendingGates(client, {
          deadline: deadline(),
          ...(ctx.maxRuns ? { maxRuns: ctx.maxRuns } : {}),
        });
        return pendingText(open, now());
      }
      case 'status': {
        const s = await client.withDeadline(deadline(), () => status(client, cmd.run));
        return statusText(cmd.run, s, now());
      }
      case 'plan': {
        const steps = await client.withDeadline(deadline(), () => plan(client, cmd.run));
        return planText(cmd.run, steps, 40);
      }
      default:
        break;
    }
    const by = identityOf(ctx.identities, chat, user);
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
