// ChatOps request authentication (Slack v0 and the generic webhook), identity maps and command parsing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import {
  identitiesProblem,
  identityOf,
  loadIdentities,
  parseCommand,
  parseIdentities,
} from '../../src/chatops/commands';
import { createChatopsServer } from '../../src/chatops/server';
import {
  MAX_SKEW_SECONDS,
  ReplayCache,
  signSlack,
  signWebhook,
  verifySlack,
  verifyWebhook,
} from '../../src/chatops/verify';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = Date.parse('2026-11-29T10:00:00Z');
const TS = String(NOW / 1000);
const BODY = 'token=x&team_id=T1&user_id=U1&command=%2Fwaba&text=pending';

const slackHeaders = (ts = TS, body = BODY, secret = SECRET) => ({
  'x-slack-request-timestamp': ts,
  'x-slack-signature': signSlack(secret, ts, body),
});

describe('verifySlack', () => {
  const verify = (headers: Record<string, string | undefined>, opts: { now?: number; body?: string } = {}) =>
    verifySlack({
      secret: SECRET,
      headers,
      rawBody: opts.body ?? BODY,
      now: opts.now ?? NOW,
      replay: new ReplayCache(),
    });

  it('accepts a valid signature (string or Buffer body)', () => {
    expect(verify(slackHeaders())).toEqual({ ok: true });
    expect(
      verifySlack({
        secret: SECRET,
        headers: slackHeaders(),
        rawBody: Buffer.from(BODY),
        now: NOW,
        replay: new ReplayCache(),
      }),
    ).toEqual({ ok: true });
  });

  it('matches a known v0 signature', () => {
    // HMAC-SHA256("secret", "v0:1:body"), computed independently with openssl.
    expect(signSlack('secret', '1', 'body')).toBe(
      'v0=c9bc7cc90a3668336bc5414530c26b4fdd714d73e447a37b322b8251e09f98e2',
    );
  });

  it('refuses a wrong secret, a changed body and a malformed signature', () => {
    expect(verify(slackHeaders(TS, BODY, 'another secret'))).toEqual({ ok: false, why: 'bad signature' });
    expect(verify(slackHeaders(), { body: `${BODY}&x=1` })).toEqual({ ok: false, why: 'bad signature' });
    expect(verify({ ...slackHeaders(), 'x-slack-signature': 'v0=abc' })).toEqual({
      ok: false,
      why: 'malformed signature',
    });
    expect(verify({ ...slackHeaders(), 'x-slack-signature': `v1=${'0'.repeat(64)}` }).ok).toBe(false);
  });

  it('refuses stale and future timestamps, accepts the edges of the window', () => {
    const at = (offsetSeconds: number) => String(NOW / 1000 + offsetSeconds);
    expect(verify(slackHeaders(at(-MAX_SKEW_SECONDS - 1)))).toEqual({
      ok: false,
      why: 'stale or future timestamp',
    });
    expect(verify(slackHeaders(at(MAX_SKEW_SECONDS + 1)))).toEqual({
      ok: false,
      why: 'stale or future timestamp',
    });
    expect(verify(slackHeaders(at(-MAX_SKEW_SECONDS)))).toEqual({ ok: true });
    expect(verify(slackHeaders(at(MAX_SKEW_SECONDS)))).toEqual({ ok: true });
    expect(verify(slackHeaders('not-a-number')).ok).toBe(false);
  });

  it('refuses missing headers and an unset secret', () => {
    expect(verify({})).toEqual({ ok: false, why: 'missing signature' });
    expect(verify({ 'x-slack-signature': slackHeaders()['x-slack-signature'] })).toEqual({
      ok: false,
      why: 'missing signature',
    });
    expect(verify({ 'x-slack-request-timestamp': TS })).toEqual({ ok: false, why: 'missing signature' });
    expect(
      verifySlack({ secret: '', headers: slackHeaders(), rawBody: BODY, now: NOW, replay: new ReplayCache() })
        .ok,
    ).toBe(false);
  });

  it('refuses a replay, but only after a valid request; forged ones do not fill the cache', () => {
    const replay = new ReplayCache();
    const args = { secret: SECRET, headers: slackHeaders(), rawBody: BODY, now: NOW, replay };
    expect(verifySlack({ ...args, headers: slackHeaders(TS, BODY, 'forged') }).ok).toBe(false);
    expect(replay.size).toBe(0);
    expect(verifySlack(args)).toEqual({ ok: true });
    expect(verifySlack({ ...args, now: NOW + 1000 })).toEqual({ ok: false, why: 'replayed request' });
    // Upper-case hex is the same signature.
    const upper = {
      ...slackHeaders(),
      'x-slack-signature': slackHeaders()['x-slack-signature'].toUpperCase(),
    };
    expect(
      verifySlack({
        ...args,
        headers: { ...upper, 'x-slack-signature': `v0=${upper['x-slack-signature'].slice(3)}` },
      }),
    ).toEqual({
      ok: false,
      why: 'replayed request',
    });
  });
});

describe('ReplayCache', () => {
  it('forgets after its TTL and refuses when full of unexpired entries', () => {
    const cache = new ReplayCache({ max: 2, ttlMs: 1000 });
    expect(cache.remember('a', 0)).toBe('fresh');
    expect(cache.remember('a', 500)).toBe('replayed');
    expect(cache.remember('b', 600)).toBe('fresh');
    expect(cache.remember('c', 700)).toBe('full');
    expect(cache.remember('c', 1001)).toBe('fresh'); // 'a' expired and was dropped
    expect(cache.size).toBe(2);
  });

  it('remembers longer than the freshness window by default', () => {
    expect(new ReplayCache().ttlMs).toBeGreaterThan(2 * MAX_SKEW_SECONDS * 1000);
  });
});

describe('verifyWebhook', () => {
  const JSON_BODY = JSON.stringify({ user: 'bot-1', text: 'pending' });
  const hooks = (opts: { ts?: string; id?: string; body?: string; secret?: string } = {}) => {
    const ts = opts.ts ?? TS;
    const id = opts.id ?? 'req-1';
    return {
      'x-waba-timestamp': ts,
      'x-waba-request-id': id,
      'x-waba-signature': signWebhook(opts.secret ?? SECRET, ts, id, opts.body ?? JSON_BODY),
    };
  };
  const verify = (headers: Record<string, string>, replay = new ReplayCache(), now = NOW, body = JSON_BODY) =>
    verifyWebhook({ secret: SECRET, headers, rawBody: body, now, replay });

  it('accepts a valid signature', () => {
    expect(hooks()['x-waba-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verify(hooks())).toEqual({ ok: true });
  });

  it('refuses a wrong secret, another request id or body under the same signature', () => {
    expect(verify(hooks({ secret: 'nope' }))).toEqual({ ok: false, why: 'bad signature' });
    expect(verify({ ...hooks(), 'x-waba-request-id': 'req-2' })).toEqual({ ok: false, why: 'bad signature' });
    expect(verify(hooks(), new ReplayCache(), NOW, '{"user":"bot-1","text":"approve x y"}')).toEqual({
      ok: false,
      why: 'bad signature',
    });
  });

  it('refuses stale and future timestamps', () => {
    const stale = String(NOW / 1000 - MAX_SKEW_SECONDS - 5);
    const future = String(NOW / 1000 + MAX_SKEW_SECONDS + 5);
    expect(verify(hooks({ ts: stale }))).toEqual({ ok: false, why: 'stale or future timestamp' });
    expect(verify(hooks({ ts: future }))).toEqual({ ok: false, why: 'stale or future timestamp' });
  });

  it('refuses a replayed request id, even re-signed with a new timestamp', () => {
    const replay = new ReplayCache();
    expect(verify(hooks(), replay)).toEqual({ ok: true });
    expect(verify(hooks(), replay)).toEqual({ ok: false, why: 'replayed request' });
    expect(verify(hooks({ ts: String(NOW / 1000 + 10) }), replay, NOW + 10_000)).toEqual({
      ok: false,
      why: 'replayed request',
    });
    expect(verify(hooks({ id: 'req-2' }), replay)).toEqual({ ok: true });
  });

  it('refuses missing headers and malformed request ids', () => {
    const { 'x-waba-request-id': _id, ...noId } = hooks();
    const { 'x-waba-signature': _sig, ...noSig } = hooks();
    const { 'x-waba-timestamp': _ts, ...noTs } = hooks();
    for (const h of [{}, noId, noSig, noTs])
      expect(verify(h)).toEqual({ ok: false, why: 'missing signature' });
    expect(verify(hooks({ id: 'has space' }))).toEqual({ ok: false, why: 'malformed request id' });
  });
});

describe('identity maps', () => {
  it('parses {"<chat user>": "<identity>"}', () => {
    expect(parseIdentities('{"U024BE7LH": "alice", "bot-1": "ops.bot@example"}')).toEqual(
      new Map([
        ['U024BE7LH', 'alice'],
        ['bot-1', 'ops.bot@example'],
      ]),
    );
    expect(parseIdentities('{}').size).toBe(0);
  });

  it('refuses bad JSON, non-objects and invalid identities, naming the source', () => {
    expect(() => parseIdentities('{', 'X')).toThrow('X: not valid JSON');
    expect(() => parseIdentities('["alice"]', 'X')).toThrow(/^X: expected/);
    expect(() => parseIdentities('{"U1": "has space"}', 'X')).toThrow(
      /U1: expected a person or bot identity/,
    );
    expect(() => parseIdentities('{"U1": 3}', 'X')).toThrow(/U1/);
  });

  it('a key may name its chat; a bare key is the same id in every chat; a user that looks scoped gets no bare lookup', () => {
    const ids = parseIdentities(
      '{"slack:U024BE7LH": "alice", "webhook:ops-bot": "ops.bot", "U999": "bob", "slack:U999": "carol"}',
    );
    expect(identityOf(ids, 'slack', 'U024BE7LH')).toBe('alice');
    expect(identityOf(ids, 'webhook', 'U024BE7LH')).toBeUndefined();
    expect(identityOf(ids, 'webhook', 'slack:U024BE7LH')).toBeUndefined();
    expect(identityOf(ids, 'webhook', 'ops-bot')).toBe('ops.bot');
    expect(identityOf(ids, 'slack', 'ops-bot')).toBeUndefined();
    expect(identityOf(ids, 'webhook', 'U999')).toBe('bob');
    expect(identityOf(ids, 'slack', 'U999')).toBe('carol'); // the scoped key first
  });

  it('with both /slack and /webhook served, every key must name its chat (TRUST.md rule 6)', () => {
    const bare = parseIdentities('{"U024BE7LH": "alice", "webhook:ops-bot": "ops.bot"}');
    const scoped = parseIdentities('{"slack:U024BE7LH": "alice", "webhook:ops-bot": "ops.bot"}');
    expect(identitiesProblem(bare, { slack: true, webhook: true })).toMatch(
      /^identity map: keys without a chat \("U024BE7LH"\); with both \/slack and \/webhook served, write "slack:<user id>"/,
    );
    expect(identitiesProblem(scoped, { slack: true, webhook: true })).toBeUndefined();
    expect(identitiesProblem(bare, { slack: true, webhook: false })).toBeUndefined();
    expect(identitiesProblem(bare, { slack: false, webhook: true })).toBeUndefined();
    const server = () =>
      createChatopsServer({
        client: {} as Client,
        slackSigningSecret: 's',
        webhookSecret: 'w',
        identities: bare,
      });
    expect(server).toThrow(/keys without a chat \("U024BE7LH"\)/);
  });

  it('loads from a file or inline JSON, not both; empty when neither', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatops-'));
    const file = path.join(dir, 'ids.json');
    writeFileSync(file, '{"U1": "alice"}');
    expect(loadIdentities({ WABA_CHATOPS_IDENTITIES: file }).get('U1')).toBe('alice');
    expect(loadIdentities({ WABA_CHATOPS_IDENTITY_MAP: '{"U2": "bob"}' }).get('U2')).toBe('bob');
    expect(loadIdentities({}).size).toBe(0);
    expect(() => loadIdentities({ WABA_CHATOPS_IDENTITIES: path.join(dir, 'missing.json') })).toThrow(
      /cannot read the file \(ENOENT\)/,
    );
    expect(() => loadIdentities({ WABA_CHATOPS_IDENTITIES: file, WABA_CHATOPS_IDENTITY_MAP: '{}' })).toThrow(
      /not both/,
    );
  });
});

describe('parseCommand', () => {
  it('parses every command', () => {
    expect(parseCommand('  pending ')).toEqual({ name: 'pending' });
    expect(parseCommand('')).toEqual({ name: 'help' });
    expect(parseCommand('STATUS prod/haSetup')).toEqual({ name: 'status', run: 'prod/haSetup' });
    expect(parseCommand('plan prod/haSetup')).toEqual({ name: 'plan', run: 'prod/haSetup' });
    expect(parseCommand('approve prod/haSetup register')).toEqual({
      name: 'approve',
      run: 'prod/haSetup',
      gate: 'register',
    });
    expect(parseCommand('approve prod/haSetup register  window   ok')).toEqual({
      name: 'approve',
      run: 'prod/haSetup',
      gate: 'register',
      comment: 'window ok',
    });
    expect(parseCommand('reject prod/haSetup register wrong number')).toEqual({
      name: 'reject',
      run: 'prod/haSetup',
      gate: 'register',
      reason: 'wrong number',
    });
    expect(parseCommand('code prod/haSetup 123456')).toEqual({
      name: 'code',
      run: 'prod/haSetup',
      code: '123456',
    });
  });

  it('says what is wrong with malformed text', () => {
    expect(parseCommand('approve prod/haSetup')).toEqual({
      error: 'usage: approve <run> <gate> [comment...]',
    });
    expect(parseCommand('reject prod/haSetup register')).toEqual({
      error: 'usage: reject <run> <gate> <reason...>',
    });
    expect(parseCommand('code prod/haSetup')).toEqual({ error: 'usage: code <run> <code>' });
    expect(parseCommand('status')).toEqual({ error: 'usage: status <run>' });
    expect(parseCommand('launch missiles')).toEqual({ error: 'unknown command "launch"; try "help"' });
  });
});
