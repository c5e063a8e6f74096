import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCerts } from './certs';

type Reply = { status: number; body: unknown };

/**
 * A local HTTPS server standing in for the Webapp's REST API in workflow tests: Basic login with
 * Bearer tokens and GET /v1/health, with counters so tests can assert what was called.
 */
export class FakeWebapp {
  logins = 0;
  healthCalls = 0;
  private readonly tokens = new Set<string>();
  private healthReplies: Reply[] = [];
  health: unknown = {};
  /** Hold each health answer this long (to catch a run mid-activity). */
  healthDelayMs = 0;
  private server!: https.Server;
  url = '';

  constructor(
    private readonly certs: TestCerts,
    private readonly password: string,
  ) {}

  /** The next health calls answer these, in order; later ones answer `health`. */
  queueHealth(...replies: Reply[]): void {
    this.healthReplies.push(...replies);
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  async start(): Promise<this> {
    this.server = https.createServer({ key: this.certs.key, cert: this.certs.cert }, (req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, code: number, title: string) =>
        send(status, { meta: { api_status: 'stable' }, errors: [{ code, title, details: title }] });
      const auth = req.headers.authorization ?? '';
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/users/login') {
          const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
            .toString()
            .split(':');
          if (user !== 'admin' || pass !== this.password) return error(401, 1005, 'Access denied');
          this.logins++;
          const token = randomBytes(16).toString('hex');
          this.tokens.add(token);
          return send(200, { users: [{ token, expires_after: '2099-01-01 00:00:00+00:00' }], meta: {} });
        }
        if (!this.tokens.has(auth.replace(/^Bearer /, ''))) return error(401, 1005, 'Access denied');
        if (req.method === 'GET' && req.url === '/v1/health') {
          this.healthCalls++;
          const next = this.healthReplies.shift();
          const answer = () =>
            next ? send(next.status, next.body) : send(200, { health: this.health, meta: {} });
          if (this.healthDelayMs > 0) setTimeout(answer, this.healthDelayMs).unref();
          else answer();
          return;
        }
        return error(404, 1006, 'Resource not found');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://localhost:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
