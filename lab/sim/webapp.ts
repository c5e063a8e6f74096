// The Webapp's REST API (reference §3) on container port 443, HTTPS, state in the shared database.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  randomInt,
  scryptSync,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { type Db, deleteKv, getKv, setKv } from './db';
import type { NodeIdentity } from './identity';
import { fault, isRegistered, saveSettings, schemaCheck, settings, shardCount } from './state';

const TITLES: Record<number, string> = {
  1005: 'Access denied',
  1006: 'Resource not found',
  1008: 'Required parameter is missing',
  1009: 'Parameter value is not valid',
  1011: 'Service not ready',
  1017: 'Not Primary Master',
  1024: 'Password Change Required',
};

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

const SEVEN_DAYS = 7 * 24 * 3600 * 1000;
const VALID_SHARDS = new Set([1, 2, 4, 8, 16, 32]);
const hash = (password: string) => createHash('sha256').update(`waba-sim:${password}`).digest('hex');

function passwordProblem(pw: string): string | undefined {
  if (pw.length < 8 || pw.length > 64) return 'password must be 8 to 64 characters';
  if (!/\d/.test(pw) || !/[a-z]/.test(pw) || !/[A-Z]/.test(pw) || !/[^A-Za-z0-9]/.test(pw)) {
    return 'password needs a digit, an uppercase letter, a lowercase letter and a special character';
  }
  return undefined;
}

function need(body: Record<string, unknown>, ...fields: string[]): void {
  for (const f of fields) {
    if (body[f] === undefined || body[f] === '') throw new ApiError(400, 1008, `${f} is required`);
  }
}

/** AES-256-GCM with a key derived from the backup password: a stand-in for the product's encrypted blob. */
function seal(password: string, plain: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', scryptSync(password, salt, 32), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([salt, iv, cipher.getAuthTag(), data]).toString('base64');
}

function unseal(password: string, blob: string): string {
  const raw = Buffer.from(blob, 'base64');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    scryptSync(password, raw.subarray(0, 16), 32),
    raw.subarray(16, 28),
  );
  decipher.setAuthTag(raw.subarray(28, 44));
  return Buffer.concat([decipher.update(raw.subarray(44)), decipher.final()]).toString('utf8');
}

export function startWebapp(
  db: Db,
  me: NodeIdentity,
  engine: string,
  log: (m: string) => void,
): https.Server {
  const meta = { api_status: 'stable', version: `v${me.version}` };

  async function login(req: IncomingMessage, body: Record<string, unknown>) {
    const [user, ...rest] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    const pass = rest.join(':');
    const stored = (await getKv(db, 'admin_password')) ?? hash('secret');
    if (user !== 'admin' || hash(pass) !== stored) throw new ApiError(401, 1005, 'invalid credentials');
    const mustChange = (await getKv(db, 'admin_password')) === undefined;
    if (typeof body.new_password === 'string') {
      const problem = passwordProblem(body.new_password);
      if (problem) throw new ApiError(400, 1009, problem);
      await setKv(db, 'admin_password', hash(body.new_password));
    } else if (mustChange) {
      throw new ApiError(400, 1024, 'the default password must be changed: send new_password');
    }
    await db.bump('login');
    const token = randomBytes(24).toString('hex');
    const expires = Date.now() + SEVEN_DAYS;
    await db.upsert('tokens', 'token', { token, expires });
    const expiresAfter = new Date(expires)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, '+00:00');
    return { status: 200, body: { users: [{ token, expires_after: expiresAfter }], meta } };
  }

  async function authorize(req: IncomingMessage): Promise<void> {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const rows = await db.query<{ expires: number | string }>('SELECT expires FROM tokens WHERE token = ?', [
      token,
    ]);
    if (!rows[0] || Number(rows[0].expires) < Date.now())
      throw new ApiError(401, 1005, 'invalid or expired token');
  }

  async function health() {
    const { unhealthy_interval } = await settings(db);
    const freshAfter = Date.now() - unhealthy_interval * 1000;
    const nodes = await db.query<{
      id: string;
      role: string;
      last_seen: string | number;
      status: string | null;
      error_code: number | null;
      error_details: string | null;
    }>(
      "SELECT id, role, last_seen, status, error_code, error_details FROM nodes WHERE role IN ('master', 'coreapp') ORDER BY id",
    );
    const lease = await db.query<{ holder: string | null }>(
      "SELECT holder FROM lease WHERE name = 'primary_master'",
    );
    const primary = lease[0]?.holder;
    const out: Record<string, unknown> = {};
    for (const n of nodes) {
      if (Number(n.last_seen) < freshAfter) {
        out[n.id] = { errors: [{ code: 1011, title: TITLES[1011], details: 'node is not responding' }] };
      } else if (n.status) {
        const role =
          n.role === 'coreapp' ? 'coreapp' : n.id === primary ? 'primary_master' : 'secondary_master';
        out[n.id] = { gateway_status: n.status, role };
      } else {
        out[n.id] = {
          errors: [
            {
              code: n.error_code ?? 1011,
              title: TITLES[n.error_code ?? 1011] ?? 'Error',
              details: n.error_details ?? '',
            },
          ],
        };
      }
    }
    return { status: 200, body: { health: out, meta } };
  }

  async function requirePrimaryMaster(): Promise<void> {
    const lease = await db.query<{ holder: string | null; expires: number | string }>(
      "SELECT holder, expires FROM lease WHERE name = 'primary_master'",
    );
    if (!lease[0]?.holder || Number(lease[0].expires) < Date.now())
      throw new ApiError(503, 1011, 'no primary master is running');
  }

  async function account(body: Record<string, unknown>) {
    await db.bump('register');
    need(body, 'cc', 'phone_number', 'method', 'cert');
    if (!/^(sms|voice)$/i.test(String(body.method)))
      throw new ApiError(400, 1009, 'method must be sms or voice');
    if (await fault(db, 'register_blocked'))
      throw new ApiError(403, 1005, 'Unknown error: biz_link_on_prem_reg_blocked');
    await requirePrimaryMaster();
    if (await isRegistered(db)) return { status: 201, body: { meta } };
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await setKv(db, 'pending_registration', JSON.stringify({ cc: body.cc, phone_number: body.phone_number }));
    await setKv(db, 'sms_code', code);
    log(
      `verification code sent by ${String(body.method).toLowerCase()} to +${String(body.cc)} ${String(body.phone_number)}`,
    );
    return { status: 202, body: { account: [{ vname: 'Lab Business' }], meta } };
  }

  async function verify(body: Record<string, unknown>) {
    await db.bump('verify');
    need(body, 'code');
    const expected = await getKv(db, 'sms_code');
    if (!expected || String(body.code) !== expected)
      throw new ApiError(400, 1009, 'the verification code is not valid');
    const pending = await getKv(db, 'pending_registration');
    await setKv(db, 'registration', pending ?? '{}');
    await setKv(db, 'registered', '1');
    await deleteKv(db, 'sms_code');
    log('account registered');
    return { status: 201, body: { meta } };
  }

  async function setShards(body: Record<string, unknown>) {
    need(body, 'cc', 'phone_number', 'shards');
    if (!VALID_SHARDS.has(Number(body.shards)))
      throw new ApiError(400, 1009, 'shards must be one of 1, 2, 4, 8, 16, 32');
    if (!(await isRegistered(db))) throw new ApiError(400, 1011, 'the client is not registered');
    if (await fault(db, 'shards_403_once')) {
      await deleteKv(db, 'fault.shards_403_once');
      throw new ApiError(403, 1011, 'server temporarily unavailable, retry the request');
    }
    await setKv(db, 'shards', String(Number(body.shards)));
    await db.bump('shards');
    log(`shards set to ${Number(body.shards)}`);
    return { status: 201, body: { meta } };
  }

  async function backup(body: Record<string, unknown>) {
    need(body, 'password');
    if (!(await isRegistered(db))) throw new ApiError(400, 1011, 'backup needs a registered, running client');
    const snapshot = {
      registration: await getKv(db, 'registration'),
      settings: await settings(db),
      shards: await shardCount(db),
    };
    await db.bump('backup');
    return {
      status: 200,
      body: { settings: { data: seal(String(body.password), JSON.stringify(snapshot)) }, meta },
    };
  }

  async function restore(body: Record<string, unknown>) {
    need(body, 'password', 'data');
    let snapshot: { registration?: string; settings?: Record<string, unknown>; shards?: number };
    try {
      snapshot = JSON.parse(unseal(String(body.password), String(body.data)));
    } catch {
      throw new ApiError(400, 1009, 'the backup data or password is not valid');
    }
    // Reference §3.8: Multiconnect restores onto the same shard count.
    const shards = await shardCount(db);
    if (snapshot.shards !== undefined && snapshot.shards !== shards)
      throw new ApiError(
        400,
        1009,
        `the backup was taken with ${snapshot.shards} shard(s); this cluster has ${shards}: restore onto the same shard count`,
      );
    if (snapshot.settings) await saveSettings(db, snapshot.settings);
    if (snapshot.registration) {
      await setKv(db, 'registration', snapshot.registration);
      await setKv(db, 'registered', '1');
    }
    // An existing registered app stops after a restore until its Coreapps are restarted (§3.8).
    await setKv(db, 'restored_at', String(Date.now()));
    await db.bump('restore');
    log('settings restored: the Coreapps stop until restarted');
    return { status: 200, body: { meta } };
  }

  async function route(req: IncomingMessage, body: Record<string, unknown>) {
    const url = (req.url ?? '/').split('?')[0];
    const schema = await schemaCheck(db, me.version);
    // Before a schema exists, or on MySQL before the dbupgrade job of this version ran.
    if (!schema.ok && (schema.schema === undefined || engine === 'MYSQL')) {
      log(
        `refusing requests: database schema v${schema.schema ?? 'none'} is older than this Webapp (v${me.version})`,
      );
      throw new ApiError(
        503,
        1011,
        `database schema v${schema.schema ?? 'none'} is older than v${me.version}: run dbupgrade`,
      );
    }
    if (req.method === 'POST' && url === '/v1/users/login') return login(req, body);
    await authorize(req);
    const key = `${req.method} ${url}`;
    switch (key) {
      case 'GET /v1/health':
        return health();
      case 'POST /v1/account':
        return account(body);
      case 'POST /v1/account/verify':
        return verify(body);
      case 'POST /v1/account/shards':
        return setShards(body);
      case 'GET /v1/account/shards':
        return { status: 200, body: { account: { shards: await shardCount(db) }, meta } };
      case 'POST /v1/settings/backup':
        return backup(body);
      case 'POST /v1/settings/restore':
        return restore(body);
      case 'GET /v1/settings/application':
        return { status: 200, body: { settings: { application: await settings(db) }, meta } };
      case 'PATCH /v1/settings/application':
        await saveSettings(db, body);
        return { status: 200, body: { meta } };
      default:
        throw new ApiError(404, 1006, `${key} is not an endpoint`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let reply: { status: number; body: unknown };
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      reply = await route(req, body);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 1014, (err as Error).message);
      reply = {
        status: e.status,
        body: {
          meta,
          errors: [{ code: e.code, title: TITLES[e.code] ?? 'Internal error', details: e.details }],
        },
      };
    }
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }

  const tlsDir = process.env.WA_SIM_TLS_DIR ?? '/opt/whatsapp/lab-tls';
  const server = https.createServer(
    { key: readFileSync(`${tlsDir}/key.pem`), cert: readFileSync(`${tlsDir}/cert.pem`) },
    (req, res) => void handle(req, res),
  );
  server.listen(Number(process.env.WA_SIM_HTTPS_PORT ?? 443), () =>
    log('Webapp API listening on 443 (HTTPS)'),
  );
  return server;
}
