// The ChatOps replay cache on disk (src/chatops/replay-log.ts): what was seen before a restart is still
// refused after it; expired, malformed and partial lines are dropped; the file is 0600, compacted and
// bounded; a store that cannot record refuses the request rather than forgetting it.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayLog } from '../../src/chatops/replay-log';
import {
  ReplayCache,
  type ReplayStore,
  signSlack,
  signWebhook,
  verifySlack,
  verifyWebhook,
} from '../../src/chatops/verify';

const SECRET = 'webhook-secret';
const NOW = Date.parse('2026-11-29T10:00:00Z');
const TS = String(NOW / 1000);
const BODY = '{"user":"bot-1","text":"approve prod/haSetup register"}';
const TTL = new ReplayCache().ttlMs;

const hook = (requestId: string, ts = TS) => ({
  'x-waba-timestamp': ts,
  'x-waba-request-id': requestId,
  'x-waba-signature': signWebhook(SECRET, ts, requestId, BODY),
});

let dir: string;
let file: string;
/** A cache as ChatOps makes it at start: loaded from the file, recording into it. */
const open = (now = NOW, opts: { compactEvery?: number; max?: number } = {}) => {
  const log = new ReplayLog(file, opts.compactEvery ? { compactEvery: opts.compactEvery } : {});
  return { log, cache: new ReplayCache({ store: log, now, ...(opts.max ? { max: opts.max } : {}) }) };
};
const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'waba-replay-'));
  file = path.join(dir, 'data', 'chatops-replay.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ReplayLog', () => {
  it('a request id seen before a restart is refused after it (webhook and Slack)', () => {
    const first = open();
    const verify = (replay: ReplayCache, id: string, now = NOW) =>
      verifyWebhook({ secret: SECRET, headers: hook(id), rawBody: BODY, now, replay });
    expect(verify(first.cache, 'req-1')).toEqual({ ok: true });
    const slack = {
      'x-slack-request-timestamp': TS,
      'x-slack-signature': signSlack(SECRET, TS, 'text=pending'),
    };
    const slackOk = (replay: ReplayCache) =>
      verifySlack({ secret: SECRET, headers: slack, rawBody: 'text=pending', now: NOW + 1000, replay });
    expect(slackOk(first.cache)).toEqual({ ok: true });
    // Recorded before the answer: on disk already, one line each.
    expect(lines()).toEqual([
      `${NOW + TTL} webhook:req-1`,
      expect.stringMatching(/^\d+ slack:[0-9a-f]{64}$/),
    ]);
    first.log.close();

    // "Restart": a new cache from the same file, a minute later (the timestamp is still fresh).
    const second = open(NOW + 60_000);
    expect(second.cache.size).toBe(2);
    expect(verify(second.cache, 'req-1', NOW + 60_000)).toEqual({ ok: false, why: 'replayed request' });
    expect(slackOk(second.cache)).toEqual({ ok: false, why: 'replayed request' });
    expect(verify(second.cache, 'req-2', NOW + 60_000)).toEqual({ ok: true });
    second.log.close();
  });

  it('drops expired entries at load and rewrites the file without them', () => {
    const first = open();
    first.cache.remember('webhook:old', NOW);
    first.cache.remember('webhook:newer', NOW + 5 * 60_000);
    first.log.close();
    const later = NOW + TTL + 1; // old has expired, newer has not
    const second = open(later);
    expect(second.cache.size).toBe(1);
    expect(lines()).toEqual([`${NOW + 5 * 60_000 + TTL} webhook:newer`]);
    expect(second.cache.remember('webhook:old', later)).toBe('fresh');
    expect(second.cache.remember('webhook:newer', later)).toBe('replayed');
    second.log.close();
  });

  it('tolerates a corrupt line and a partial last line (a crash mid-append)', () => {
    const until = NOW + 60_000;
    const body = [
      `${until} webhook:a`,
      'garbage without a number',
      `${until} two words here`,
      '\u0000\u0001binary',
      `${until} webhook:b`,
      `${until} webhook:c-cut-sh`, // no newline after it: a write cut short
    ].join('\n');
    open().log.close(); // creates the directory and an empty file
    writeFileSync(file, body);
    const { log, cache } = open();
    expect(log.skipped).toBe(4);
    expect(cache.size).toBe(2);
    expect(cache.remember('webhook:a', NOW)).toBe('replayed');
    expect(cache.remember('webhook:b', NOW)).toBe('replayed');
    // The cut line was never acknowledged (it is written before the answer): not remembered.
    expect(cache.remember('webhook:c-cut-sh', NOW)).toBe('fresh');
    // Rewritten clean at load, appended to after.
    expect(lines()).toEqual([`${until} webhook:a`, `${until} webhook:b`, `${NOW + TTL} webhook:c-cut-sh`]);
    log.close();
  });

  it('is mode 0600, even where an older file was readable by others; the directory is made', () => {
    const first = open();
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    first.cache.remember('webhook:x', NOW);
    first.log.close();
    chmodSync(file, 0o644);
    const second = open();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(second.cache.remember('webhook:x', NOW)).toBe('replayed');
    second.log.close();
  });

  it('compacts itself: the file holds the live entries and at most compactEvery more lines', () => {
    const { log, cache } = open(NOW, { compactEvery: 10 });
    // 100 requests over 20 minutes (one every 12 s): older ones expire (TTL 11 min) as newer arrive.
    for (let i = 0; i < 100; i++) expect(cache.remember(`webhook:r${i}`, NOW + i * 12_000)).toBe('fresh');
    const live = cache.size;
    expect(live).toBeLessThan(100);
    expect(lines().length).toBeLessThanOrEqual(live + 10);
    expect(lines().length).toBeGreaterThanOrEqual(live);
    log.close();
    // What is on disk is exactly what a restart needs.
    const again = open(NOW + 99 * 12_000);
    expect(again.cache.size).toBe(live);
    expect(again.cache.remember('webhook:r99', NOW + 99 * 12_000)).toBe('replayed');
    again.log.close();
  });

  it('loads at most max entries (the longest-lived), so memory stays bounded', () => {
    open().log.close();
    writeFileSync(
      file,
      `${Array.from({ length: 50 }, (_, i) => `${NOW + 1000 + i} webhook:k${i}`).join('\n')}\n`,
    );
    const { log, cache } = open(NOW, { max: 20 });
    expect(cache.size).toBe(20);
    expect(cache.remember('webhook:k49', NOW)).toBe('replayed');
    log.close();
  });
});

describe('ReplayCache with a store that cannot record', () => {
  it('refuses the request (never answers one it could not remember) and says why', () => {
    const failing: ReplayStore = {
      load: () => [],
      append: () => {
        throw new Error('disk full');
      },
    };
    const replay = new ReplayCache({ store: failing, now: NOW });
    expect(
      verifyWebhook({ secret: SECRET, headers: hook('req-1'), rawBody: BODY, now: NOW, replay }),
    ).toEqual({
      ok: false,
      why: 'cannot record the request (replay log)',
    });
    expect(replay.size).toBe(0);
  });

  it('ReplayLog reports a failed write through onError, naming the file', () => {
    const errors: string[] = [];
    const log = new ReplayLog(file, { onError: (m) => errors.push(m) });
    const cache = new ReplayCache({ store: log, now: NOW });
    // A key with a space would break the line format: refused by the log itself.
    expect(cache.remember('webhook:has space', NOW)).toBe('unrecorded');
    expect(errors).toEqual([
      `chatops: cannot record a request in ${file}: a key must be printable ASCII without spaces`,
    ]);
    log.close();
  });
});
