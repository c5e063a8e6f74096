import { Buffer } from 'node:buffer';
import type { Agent } from 'undici';
import { request } from 'undici';
import type { ApiSpec, ClusterSpec } from '../src/model/cluster';
import { canonicalJson } from '../src/model/inventory';
import type { SecretResolver } from '../src/secrets';
import { clusterSecret } from './cluster-secrets';
import { createDispatcher, trustOf } from './tls';
import { WabaApiError } from './waba-api-errors';

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Tokens per worker process, reused until shortly before they expire. Keyed by everything that
 * decides trust (TRUST.md rule 2): the URL, how its certificate is trusted, the user and the
 * password's reference, so a token is never handed to a request made under other settings.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const hit = this.tokens.get(key);
    if (hit && hit.expiresAt - 60_000 > this.now()) return hit.token;
    this.tokens.delete(key);
    return undefined;
  }
  set(key: string, token: string, expiresAt: number): void {
    this.tokens.set(key, { token, expiresAt });
  }
  drop(key: string): void {
    this.tokens.delete(key);
  }
}

export interface WabaApiDeps {
  secrets: SecretResolver;
  tokens: TokenCache;
  /** One dispatcher per Webapp URL + trust settings, so connections are reused. */
  dispatchers: Map<string, Agent>;
  requestTimeoutMs: number;
}

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

function parseExpiry(value: unknown, now: number): number {
  // "YYYY-MM-DD HH:MM:SS+00:00" (reference §3.1); tokens live 7 days when unreadable.
  const parsed = typeof value === 'string' ? Date.parse(value.replace(' ', 'T')) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : now + SEVEN_DAYS_MS;
}

/** The cache key of a Webapp login: URL, certificate trust, user and password reference. */
export const tokenCacheKey = (api: ApiSpec): string =>
  canonicalJson({
    url: api.baseUrl,
    tls: api.tls,
    trust: trustOf(api.tls),
    user: api.adminUser,
    password: api.passwordRef,
  });

/**
 * A small client for one cluster's Webapp (the URL and trust of its inventory entry): login with a
 * cached token, then Bearer requests. The admin password goes only to that URL.
 */
export class WabaApi {
  private readonly cacheKey: string;
  private readonly api: ApiSpec;
  constructor(
    private readonly cluster: ClusterSpec,
    private readonly deps: WabaApiDeps,
  ) {
    this.api = cluster.api;
    this.cacheKey = tokenCacheKey(this.api);
  }

  private dispatcher(): Agent {
    const key = canonicalJson({ url: this.api.baseUrl, tls: this.api.tls, trust: trustOf(this.api.tls) });
    let agent = this.deps.dispatchers.get(key);
    if (!agent) {
      agent = createDispatcher(this.api.tls);
      this.deps.dispatchers.set(key, agent);
    }
    return agent;
  }

  private async call(
    operation: string,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    auth: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const res = await request(`${this.api.baseUrl}${path}`, {
      method,
      dispatcher: this.dispatcher(),
      headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: this.deps.requestTimeoutMs,
      bodyTimeout: this.deps.requestTimeoutMs,
    });
    const text = await res.body.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (res.statusCode >= 400) {
      const first = (json as { errors?: { code?: unknown; title?: unknown; details?: unknown }[] } | null)
        ?.errors?.[0];
      throw new WabaApiError(
        `${operation} ${this.api.baseUrl}`,
        res.statusCode,
        typeof first?.code === 'number' ? first.code : null,
        typeof first?.title === 'string' ? first.title : null,
        typeof first?.details === 'string' ? first.details : null,
      );
    }
    return { status: res.statusCode, json };
  }

  /**
   * POST /v1/users/login with Basic auth (reference §3.1); the token is cached per worker. With
   * `firstLogin`, a refused login is retried as the product's default admin/secret carrying
   * `new_password` = the password the spec references: the first-login password change.
   */
  async token(firstLogin = false): Promise<string> {
    // A first login always asks the server: a cached token may belong to an earlier installation.
    const cached = firstLogin ? undefined : this.deps.tokens.get(this.cacheKey);
    if (cached) return cached;
    const password = await clusterSecret(this.deps.secrets, this.cluster, 'api.passwordRef');
    const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
    let json: unknown;
    try {
      ({ json } = await this.call(
        `login as ${this.api.adminUser} at`,
        'POST',
        '/v1/users/login',
        basic(this.api.adminUser, password),
      ));
    } catch (err) {
      const refused = err instanceof WabaApiError && (err.status === 401 || err.code === 1024);
      if (!firstLogin || !refused || this.api.adminUser !== 'admin') throw err;
      ({ json } = await this.call(
        'first login (password change) at',
        'POST',
        '/v1/users/login',
        basic('admin', 'secret'),
        {
          new_password: password,
        },
      ));
    }
    const user = (json as { users?: { token?: unknown; expires_after?: unknown }[] } | null)?.users?.[0];
    if (typeof user?.token !== 'string') {
      throw new WabaApiError(
        `login at ${this.api.baseUrl}`,
        502,
        null,
        'login answered without a token',
        null,
      );
    }
    this.deps.tokens.set(this.cacheKey, user.token, parseExpiry(user.expires_after, Date.now()));
    return user.token;
  }

  /** A Bearer request; a 401 drops the cached token and logs in once more. */
  async authorized(operation: string, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) {
    try {
      return await this.call(operation, method, path, `Bearer ${await this.token()}`, body);
    } catch (err) {
      if (!(err instanceof WabaApiError) || err.status !== 401) throw err;
      this.deps.tokens.drop(this.cacheKey);
      return await this.call(operation, method, path, `Bearer ${await this.token()}`, body);
    }
  }
}
