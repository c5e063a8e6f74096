// Request authentication for the ChatOps endpoint: Slack v0 signatures and a generic signed JSON
// webhook for other bots. Pure functions of (secret, headers, raw body, now, replay cache): no clock
// reads, so tests pass `now` explicitly.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A request's timestamp may be this far from now, in either direction. */
export const MAX_SKEW_SECONDS = 5 * 60;

export type Verified = { ok: true } | { ok: false; why: string };

export type Headers = Record<string, string | string[] | undefined>;

/**
 * Where a ReplayCache keeps what it has seen, so that a restart does not forget it (a captured request
 * would otherwise replay after a restart while its timestamp is still fresh): src/chatops/replay-log.ts.
 */
export interface ReplayStore {
  /** The entries to remember at start, `[key, expiresAtMs]`, unexpired at `nowMs`. */
  load(nowMs: number): Iterable<readonly [string, number]>;
  /**
   * Record one new entry durably before the request is answered; throws when it cannot. `live` gives
   * every unexpired entry, for a store that compacts itself now and then.
   */
  append(key: string, expiresAtMs: number, live: () => Iterable<readonly [string, number]>): void;
}

/**
 * Signatures (Slack) and request ids (webhook) seen recently. Bounded: entries expire after `ttlMs`
 * (longer than the whole freshness window, so a replay is caught as long as its timestamp is still
 * accepted); when `max` unexpired entries are held, new requests are refused rather than forgetting
 * one that could then be replayed. With a `store`, entries are loaded at construction and each new
 * one is recorded there before it counts as fresh ('unrecorded' when the store fails: refused too).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly store: ReplayStore | undefined;
  readonly max: number;
  readonly ttlMs: number;

  constructor(opts: { max?: number; ttlMs?: number; store?: ReplayStore; now?: number } = {}) {
    this.max = opts.max ?? 10_000;
    this.ttlMs = opts.ttlMs ?? 2 * MAX_SKEW_SECONDS * 1000 + 60_000;
    this.store = opts.store;
    if (this.store) {
      const now = opts.now ?? Date.now();
      // Kept in expiry order (prune relies on it); at most `max`, the longest-lived ones.
      const loaded = [...this.store.load(now)].filter(([, expires]) => expires > now);
      loaded.sort((a, b) => a[1] - b[1]);
      for (const [key, expires] of loaded.slice(-this.max)) {
        this.seen.delete(key);
        this.seen.set(key, expires);
      }
    }
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Record `key` at `nowMs`: 'fresh' the first time, 'replayed' while remembered, 'full' when no room,
   * 'unrecorded' when the store could not record it.
   */
  remember(key: string, nowMs: number): 'fresh' | 'replayed' | 'full' | 'unrecorded' {
    this.prune(nowMs);
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > nowMs) return 'replayed';
    if (this.seen.size >= this.max) return 'full';
    const until = nowMs + this.ttlMs;
    if (this.store) {
      try {
        this.store.append(key, until, () => this.seen.entries());
      } catch {
        return 'unrecorded';
      }
    }
    this.seen.set(key, until);
    return 'fresh';
  }

  private prune(nowMs: number): void {
    // Insertion order is (nearly) expiry order: drop from the front while expired.
    for (const [key, expires] of this.seen) {
      if (expires > nowMs) break;
      this.seen.delete(key);
    }
  }
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

const hmacHex = (secret: string, data: Buffer): string =>
  createHmac('sha256', secret).update(data).digest('hex');

/** Compare a hex digest given by the caller with the expected one, in constant time. */
function sameDigest(givenHex: string, expectedHex: string): boolean {
  const given = Buffer.from(givenHex, 'hex');
  const expected = Buffer.from(expectedHex, 'hex');
  return given.length === expected.length && given.length === 32 && timingSafeEqual(given, expected);
}

function fresh(timestamp: string | undefined, nowMs: number): Verified {
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, why: 'missing timestamp' };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > MAX_SKEW_SECONDS) return { ok: false, why: 'stale or future timestamp' };
  return { ok: true };
}

const asBuffer = (body: Buffer | string) => (typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

// ---------------------------------------------------------------------------------------------
// Slack

/** `v0=<hex>` for a Slack request (what Slack sends in `X-Slack-Signature`). */
export function signSlack(secret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const base = Buffer.concat([Buffer.from(`v0:${timestamp}:`, 'utf8'), asBuffer(rawBody)]);
  return `v0=${hmacHex(secret, base)}`;
}

export interface VerifyArgs {
  secret: string;
  headers: Headers;
  rawBody: Buffer | string;
  /** Milliseconds since the epoch. */
  now: number;
  replay: ReplayCache;
}

/** Slack v0: signature over `v0:<timestamp>:<body>`, timestamp within 5 minutes, never seen before. */
export function verifySlack({ secret, headers, rawBody, now, replay }: VerifyArgs): Verified {
  if (!secret) return { ok: false, why: 'no signing secret configured' };
  const timestamp = header(headers, 'x-slack-request-timestamp');
  const signature = header(headers, 'x-slack-signature');
  if (timestamp === undefined || signature === undefined) return { ok: false, why: 'missing signature' };
  const match = /^v0=([0-9a-f]{64})$/i.exec(signature);
  if (!match?.[1]) return { ok: false, why: 'malformed signature' };
  const isFresh = fresh(timestamp, now);
  if (!isFresh.ok) return isFresh;
  const expected = signSlack(secret, timestamp, rawBody).slice(3);
  if (!sameDigest(match[1], expected)) return { ok: false, why: 'bad signature' };
  return remembered(replay, `slack:${match[1].toLowerCase()}`, now);
}

// ---------------------------------------------------------------------------------------------
// Generic JSON webhook

export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** `sha256=<hex>` over `<timestamp>.<requestId>.<body>` (what a bot sends in `X-Waba-Signature`). */
export function signWebhook(
  secret: string,
  timestamp: string | number,
  requestId: string,
  rawBody: Buffer | string,
): string {
  const base = Buffer.concat([Buffer.from(`${timestamp}.${requestId}.`, 'utf8'), asBuffer(rawBody)]);
  return `sha256=${hmacHex(secret, base)}`;
}

/** Generic webhook: `X-Waba-Timestamp`, `X-Waba-Request-Id`, `X-Waba-Signature`; same freshness and replay rules. */
export function verifyWebhook({ secret, headers, rawBody, now, replay }: VerifyArgs): Verified {
  if (!secret) return { ok: false, why: 'no webhook secret configured' };
  const timestamp = header(headers, 'x-waba-timestamp');
  const requestId = header(headers, 'x-waba-request-id');
  const signature = header(headers, 'x-waba-signature');
  if (timestamp === undefined || requestId === undefined || signature === undefined)
    return { ok: false, why: 'missing signature' };
  if (!REQUEST_ID.test(requestId)) return { ok: false, why: 'malformed request id' };
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (!match?.[1]) return { ok: false, why: 'malformed signature' };
  const isFresh = fresh(timestamp, now);
  if (!isFresh.ok) return isFresh;
  const expected = signWebhook(secret, timestamp, requestId, rawBody).slice('sha256='.length);
  if (!sameDigest(match[1], expected)) return { ok: false, why: 'bad signature' };
  return remembered(replay, `webhook:${requestId}`, now);
}

function remembered(replay: ReplayCache, key: string, now: number): Verified {
  const seen = replay.remember(key, now);
  if (seen === 'replayed') return { ok: false, why: 'replayed request' };
  if (seen === 'full') return { ok: false, why: 'too many recent requests' };
  if (seen === 'unrecorded') return { ok: false, why: 'cannot record the request (replay log)' };
  return { ok: true };
}
