// The ChatOps HTTP endpoint: Slack slash commands and buttons, and a generic signed JSON webhook.
// Every request's raw body is read (bounded) and its signature, freshness and novelty checked before
// anything is parsed or done; refused requests get 401 and change nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import { InputError } from '../client/errors';
import { type Identities, identitiesProblem, type Relay, runCommand } from './commands';
import { ReplayCache, type Verified, verifySlack, verifyWebhook } from './verify';

export const MAX_BODY_BYTES = 64 * 1024;

export interface ChatopsServerOptions {
  client: Client;
  /** Enables `/slack/*`. */
  slackSigningSecret?: string;
  /** Enables `/webhook`. */
  webhookSecret?: string;
  /** Chat user id -> approver identity. */
  identities: Identities;
  /** The key relayed decisions are signed with; without one the endpoint only reads. */
  relay?: Relay;
  /** Milliseconds since the epoch. */
  now?: () => number;
  replay?: ReplayCache;
  queryTimeoutMs?: number;
  /** Log line sink (default: console.error). */
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, 'request body too large'));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop keeping it; drain the rest so the 413 can still be sent.
        req.off('data', onData);
        req.resume();
        reject(new HttpError(413, 'request body too large'));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

const slackReply = (text: string) => ({ response_type: 'ephemeral', text });

/** A node http server (not listening yet) serving the ChatOps endpoints. */
export function createChatopsServer(opts: ChatopsServerOptions): Server {
  const problem = identitiesProblem(opts.identities, {
    slack: Boolean(opts.slackSigningSecret),
    webhook: Boolean(opts.webhookSecret),
  });
  if (problem) throw new InputError(problem);
  const now = opts.now ?? Date.now;
  const replay = opts.replay ?? new ReplayCache();
  const log = opts.log ?? ((line: string) => console.error(line));
  const ctx = {
    client: opts.client,
    identities: opts.identities,
    ...(opts.relay ? { relay: opts.relay } : {}),
    now,
    ...(opts.queryTimeoutMs ? { queryTimeoutMs: opts.queryTimeoutMs } : {}),
  };

  const verified = (kind: 'slack' | 'webhook', req: IncomingMessage, rawBody: Buffer): Verified => {
    const secret = kind === 'slack' ? opts.slackSigningSecret : opts.webhookSecret;
    const args = { secret: secret ?? '', headers: req.headers, rawBody, now: now(), replay };
    return kind === 'slack' ? verifySlack(args) : verifyWebhook(args);
  };

  const run = async (
    source: 'slack' | 'slack-button' | 'webhook',
    user: string,
    text: string,
  ): Promise<string> => {
    const answer = await runCommand(ctx, user, text, source === 'webhook' ? 'webhook' : 'slack');
    const verb = text.trim().split(/\s+/)[0] ?? '';
    log(
      `chatops: ${source} user=${JSON.stringify(user.slice(0, 64))} command=${JSON.stringify(verb.slice(0, 20))}`,
    );
    return answer;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });

    const route =
      path === '/slack/commands' || path === '/slack/interactions'
        ? opts.slackSigningSecret
          ? 'slack'
          : undefined
        : path === '/webhook' && opts.webhookSecret
          ? 'webhook'
          : undefined;
    if (!route) return send(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });

    const rawBody = await readBody(req);
    const check = verified(route, req, rawBody);
    if (!check.ok) return send(res, 401, { error: `unauthorized: ${check.why}` });

    if (path === '/webhook') {
      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return send(res, 400, { text: 'expected a JSON body {"user": "...", "text": "..."}' });
      }
      const { user, text } = (body ?? {}) as { user?: unknown; text?: unknown };
      if (typeof user !== 'string' || typeof text !== 'string')
        return send(res, 400, { text: 'expected a JSON body {"user": "...", "text": "..."}' });
      return send(res, 200, { text: await run('webhook', user, text) });
    }

    const form = new URLSearchParams(rawBody.toString('utf8'));
    if (path === '/slack/commands') {
      const user = form.get('user_id');
      if (!user) return send(res, 400, slackReply('missing user_id'));
      return send(res, 200, slackReply(await run('slack', user, form.get('text') ?? '')));
    }

    // /slack/interactions: a button whose value is a command line, e.g. "approve prod/haSetup register".
    let payload: { user?: { id?: unknown }; actions?: { value?: unknown }[]; response_url?: unknown };
    try {
      payload = JSON.parse(form.get('payload') ?? '');
    } catch {
      return send(res, 400, slackReply('expected a form field "payload" with JSON'));
    }
    const user = payload?.user?.id;
    const value = payload?.actions?.[0]?.value;
    if (typeof user !== 'string' || typeof value !== 'string')
      return send(res, 400, slackReply('expected payload.user.id and payload.actions[0].value'));
    const text = await run('slack-button', user, value);
    const reply = { ...slackReply(text), replace_original: false };
    // Buttons' answers go to the message's response_url; only Slack's own host is ever called.
    const url = typeof payload.response_url === 'string' ? payload.response_url : '';
    if (url.startsWith('https://hooks.slack.com/')) {
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reply),
        signal: AbortSignal.timeout(5_000),
      }).catch((err: unknown) => log(`chatops: response_url failed: ${(err as Error).message}`));
    }
    return send(res, 200, reply);
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) send(res, err.status, { error: err.message });
        return;
      }
      log(`chatops: internal error: ${(err as Error)?.message ?? String(err)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
}
