// The codec server the Temporal Web UI (and `temporal --codec-endpoint`) calls to show decrypted
// payloads: POST /decode and POST /encode with `{"payloads": [...]}` in the proto JSON form
// (metadata values and data base64), answered in the same form. CORS for the Web UI's origin;
// optional bearer token. Keys never leave this process.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { codecServerConfig, DEFAULT_CODEC_PORT } from '../config/codec';
import type { Env } from '../config/env';

const DEFAULT_CODEC_HOST = '127.0.0.1';
const DEFAULT_CORS_ORIGIN = 'http://localhost:8233';
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The Web UI's origin(s), allowed by CORS (default http://localhost:8233). */
  corsOrigin?: string | readonly string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
}

/** Server settings from WABA_CODEC_PORT, WABA_CODEC_CORS_ORIGIN (default the Web UI's), WABA_CODEC_AUTH_TOKEN. */
export function codecServerEnv(env?: Env): {
  port: number;
  corsOrigin: string[];
  authToken: string | undefined;
} {
  const config = codecServerConfig(env);
  return { ...config, corsOrigin: config.corsOrigin ?? [DEFAULT_CORS_ORIGIN] };
}

class BadRequest extends Error {}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function fromBase64(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new BadRequest(`${what} is not base64`);
  return Buffer.from(value, 'base64');
}

function fromJson(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new BadRequest('expected {"payloads": [...]}');
  return payloads.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null) throw new BadRequest(`payloads[${i}] is not an object`);
    const { metadata, data } = p as { metadata?: unknown; data?: unknown };
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null)) {
      throw new BadRequest(`payloads[${i}].metadata is not an object`);
    }
    const meta: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries((metadata ?? {}) as Record<string, unknown>)) {
      meta[k] = fromBase64(v, `payloads[${i}].metadata.${k}`);
    }
    return {
      metadata: meta,
      data: data === undefined ? new Uint8Array() : fromBase64(data, `payloads[${i}].data`),
    };
  });
}

function toJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v ?? new Uint8Array())]),
      ),
      data: b64(p.data ?? new Uint8Array()),
    })),
  };
}

function sameToken(given: string, expected: string): boolean {
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request handler: CORS, the optional bearer token, then encode or decode. */
function codecRequestHandler(opts: CodecServerOptions) {
  const allowed = [opts.corsOrigin ?? DEFAULT_CORS_ORIGIN].flat();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // One origin per response: the caller's when it is allowed, else the first allowed one.
    const caller = req.headers.origin;
    res.setHeader(
      'Access-Control-Allow-Origin',
      caller && allowed.includes(caller) ? caller : (allowed[0] ?? ''),
    );
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    const send = (status: number, body?: unknown) => {
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://codec.invalid');
    if (req.method === 'OPTIONS') {
      // CORS preflight: browsers send it without credentials, so it is answered without auth.
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
      send(204);
      return;
    }
    const op = url.pathname.replace(/\/+$/, '');
    if (op !== '/encode' && op !== '/decode') {
      send(404, { error: 'not found: POST /encode or /decode' });
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      send(405, { error: 'method not allowed: use POST' });
      return;
    }
    if (opts.authToken !== undefined) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer (.+)$/i.exec(header);
      if (!m?.[1] || !sameToken(m[1], opts.authToken)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        send(401, { error: 'unauthorized' });
        return;
      }
    }
    try {
      let parsed: unknown;
      const body = await readBody(req);
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new BadRequest('the body is not JSON');
      }
      const payloads = fromJson(parsed);
      const out = op === '/encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
      send(200, toJson(out));
    } catch (err) {
      if (err instanceof BadRequest) send(400, { error: err.message });
      else send(422, { error: (err as Error).message });
    }
  };
}

function createCodecServer(opts: CodecServerOptions): Server {
  const handler = codecRequestHandler(opts);
  return createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

export interface RunningCodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listen on host:port (port 0: any free port). */
export async function startCodecServer(
  opts: CodecServerOptions & { port?: number; host?: string },
): Promise<RunningCodecServer> {
  const server = createCodecServer(opts);
  const host = opts.host ?? DEFAULT_CODEC_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `the codec server cannot listen on ${host}:${opts.port ?? DEFAULT_CODEC_PORT} (${err.code ?? err.message}); set WABA_CODEC_PORT`,
        ),
      ),
    );
    server.listen(opts.port ?? DEFAULT_CODEC_PORT, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
