import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec, type CodecKey } from '../../src/codec/aes-gcm';
import { codecKeysFromEnv, dataConverterFromEnv, parseCodecKeys } from '../../src/codec/keys';
import { type RunningCodecServer, startCodecServer } from '../../src/codec/server';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const b64 = (k: CodecKey) => k.key.toString('base64');
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v) as Payload;
const fromPayload = (p: Payload) => defaultPayloadConverter.fromPayload(p);

describe('AesGcmCodec', () => {
  const k1 = key('k1');
  const codec = new AesGcmCodec([k1]);

  it('round trips payloads, with metadata, and leaves no plaintext in the encoded form', async () => {
    const values = [{ cluster: 'prod-secret-name', host: '10.9.8.7' }, 'plain string', null, undefined];
    const payloads = values.map(toPayload);
    const encoded = await codec.encode(payloads);
    expect(encoded).toHaveLength(values.length);
    for (const p of encoded) {
      expect(text(p.metadata?.encoding)).toBe('binary/encrypted');
      expect(text(p.metadata?.['encryption-key-id'])).toBe('k1');
      expect(text(p.data)).not.toContain('prod-secret-name');
      expect(text(p.data)).not.toContain('json/plain');
      expect(p.data?.length).toBeGreaterThanOrEqual(12 + 16);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(fromPayload)).toEqual(values);
    expect(text(decoded[0]?.metadata?.encoding)).toBe('json/plain');
    expect(await codec.encode([])).toEqual([]);
  });

  it('uses a fresh IV per payload', async () => {
    const [a, b] = await codec.encode([toPayload('same'), toPayload('same')]);
    expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
  });

  it('passes payloads that are not encrypted through decode unchanged (mixed with encrypted ones)', async () => {
    const plain = toPayload({ old: 'run from before the codec' });
    const [enc] = await codec.encode([toPayload('new')]);
    const decoded = await codec.decode([plain, enc as Payload]);
    expect(decoded[0]).toBe(plain);
    expect(decoded.map(fromPayload)).toEqual([{ old: 'run from before the codec' }, 'new']);
  });

  it('rotation: the first key encrypts, the old key still decrypts', async () => {
    const k2 = key('k2');
    const oldCodec = new AesGcmCodec([k1]);
    const rotated = new AesGcmCodec([k2, k1]);
    const old = await oldCodec.encode([toPayload('written with k1')]);
    const fresh = await rotated.encode([toPayload('written with k2')]);
    expect(text(fresh[0]?.metadata?.['encryption-key-id'])).toBe('k2');
    expect((await rotated.decode([...old, ...fresh])).map(fromPayload)).toEqual([
      'written with k1',
      'written with k2',
    ]);
    // The old codec cannot read what the new key wrote, and says which key id is missing.
    await expect(oldCodec.decode(fresh)).rejects.toThrow(/key id "k2".*not among the configured codec keys/);
  });

  it('an unknown key id is a clear error', async () => {
    const [enc] = await new AesGcmCodec([key('gone')]).encode([toPayload('x')]);
    await expect(codec.decode([enc as Payload])).rejects.toThrow(
      'an encrypted payload uses key id "gone", which is not among the configured codec keys (k1)',
    );
  });

  it('tampered ciphertext, tag or IV fails authentication', async () => {
    const [enc] = await codec.encode([toPayload({ a: 'b' })]);
    const data = Buffer.from(enc?.data ?? []);
    for (const at of [0, 12, data.length - 1]) {
      const bad = Buffer.from(data);
      bad[at] = (bad[at] as number) ^ 0x01;
      await expect(codec.decode([{ ...enc, data: bad }])).rejects.toThrow(/failed authentication/);
    }
    await expect(codec.decode([{ ...enc, data: data.subarray(0, 10) }])).rejects.toThrow(/too short/);
    // The same key id with a different key: authentication fails too.
    await expect(new AesGcmCodec([key('k1')]).decode([enc as Payload])).rejects.toThrow(
      /failed authentication/,
    );
  });
});

describe('codec keys from the environment', () => {
  const k2 = key('k2');
  const k1 = key('k1');

  it('no variable: the codec is off', () => {
    expect(codecKeysFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({ WABA_CODEC_KEYS: '' })).toBeUndefined();
  });

  it('WABA_CODEC_KEYS: several keys, the first encrypts', async () => {
    const keys = codecKeysFromEnv({ WABA_CODEC_KEYS: ` k2:${b64(k2)} , k1:${b64(k1)}` });
    expect(keys?.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys?.[0]?.key.equals(k2.key)).toBe(true);
    const dc = dataConverterFromEnv({ WABA_CODEC_KEYS: `k2:${b64(k2)},k1:${b64(k1)}` });
    const codec = dc?.payloadCodecs?.[0] as AesGcmCodec;
    expect(codec.keyId).toBe('k2');
    const [enc] = await new AesGcmCodec([k1]).encode([toPayload('old')]);
    expect(fromPayload((await codec.decode([enc as Payload]))[0] as Payload)).toBe('old');
  });

  it('WABA_CODEC_KEYS_FILE: the same content, one entry per line allowed', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'codec-'));
    const file = path.join(dir, 'keys');
    writeFileSync(file, `# current first\nk2:${b64(k2)}\nk1:${b64(k1)}\n`);
    expect(codecKeysFromEnv({ WABA_CODEC_KEYS_FILE: file })?.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => codecKeysFromEnv({ WABA_CODEC_KEYS_FILE: path.join(dir, 'missing') })).toThrow(
      /^WABA_CODEC_KEYS_FILE=.*missing: cannot read the file \(ENOENT\)$/,
    );
    expect(() => codecKeysFromEnv({ WABA_CODEC_KEYS_FILE: file, WABA_CODEC_KEYS: `k:${b64(k1)}` })).toThrow(
      'not both',
    );
  });

  it('bad keys: the error names the variable and the entry, never the key', () => {
    const short = randomBytes(16).toString('base64');
    const long = randomBytes(48).toString('base64');
    const cases: [string, RegExp][] = [
      [`k1:${short}`, /^WABA_CODEC_KEYS: entry 1 \(id "k1"\): the key is 16 bytes, AES-256 needs 32/],
      [`k2:${b64(k2)},k1:${long}`, /^WABA_CODEC_KEYS: entry 2 \(id "k1"\): the key is 48 bytes/],
      [`k1:not*base64!${short}`, /^WABA_CODEC_KEYS: entry 1 \(id "k1"\): the key is not valid base64$/],
      [b64(k1), /^WABA_CODEC_KEYS: entry 1 is not id:base64key$/],
      [`bad id:${b64(k1)}`, /^WABA_CODEC_KEYS: entry 1: the key id must be/],
      [`k1:${b64(k1)},k1:${b64(k2)}`, /^WABA_CODEC_KEYS: entry 2: key id "k1" appears twice$/],
      [' , ', /^WABA_CODEC_KEYS: no keys/],
    ];
    for (const [value, message] of cases) {
      let err: Error | undefined;
      try {
        codecKeysFromEnv({ WABA_CODEC_KEYS: value });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toMatch(message);
      for (const secret of [short, long, b64(k1), b64(k2)]) expect(err?.message).not.toContain(secret);
    }
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'codec-')), 'keys');
    writeFileSync(file, `k1:${short}\n`);
    expect(() => parseCodecKeys(`k1:${short}`, 'X')).toThrow(/^X: entry 1/);
    expect(() => codecKeysFromEnv({ WABA_CODEC_KEYS_FILE: file })).toThrow(
      new RegExp(`^WABA_CODEC_KEYS_FILE \\(${file}\\): entry 1 \\(id "k1"\\): the key is 16 bytes`),
    );
  });
});

describe('codec server (Web UI /encode and /decode)', () => {
  const codec = new AesGcmCodec([key('k1')]);
  const TOKEN = 'codec-test-token';
  let open: RunningCodecServer;
  let authed: RunningCodecServer;

  beforeAll(async () => {
    open = await startCodecServer({ codec, port: 0 });
    authed = await startCodecServer({ codec, port: 0, authToken: TOKEN, corsOrigin: ['https://ui.example'] });
  });
  afterAll(async () => {
    await open?.close();
    await authed?.close();
  });

  // The proto JSON form the Web UI sends: metadata values and data base64.
  const jsonPayload = (v: unknown) => {
    const p = toPayload(v);
    return {
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, m]) => [k, Buffer.from(m ?? []).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    };
  };
  type JsonPayloads = { payloads: { metadata: Record<string, string>; data: string }[] };
  const post = (
    server: RunningCodecServer,
    op: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${server.url}/${op}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });

  it('encode then decode round trips through HTTP in the proto JSON form', async () => {
    const values = [{ cluster: 'prod', host: '10.0.0.11' }, 'x'];
    const enc = await post(open, 'encode', { payloads: values.map(jsonPayload) });
    expect(enc.status).toBe(200);
    expect(enc.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const encoded = (await enc.json()) as JsonPayloads;
    expect(encoded.payloads).toHaveLength(2);
    for (const p of encoded.payloads) {
      expect(Buffer.from(p.metadata.encoding as string, 'base64').toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.data, 'base64').toString()).not.toContain('10.0.0.11');
    }
    const dec = await post(open, 'decode', encoded);
    expect(dec.status).toBe(200);
    const decoded = (await dec.json()) as JsonPayloads;
    expect(decoded).toEqual({ payloads: values.map(jsonPayload) });

    // What the worker wrote (SDK codec) decodes through the server too.
    const [fromWorker] = await codec.encode([toPayload('from the worker')]);
    const viaHttp = (await (
      await post(open, 'decode', {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(fromWorker?.metadata ?? {}).map(([k, v]) => [
                k,
                Buffer.from(v ?? []).toString('base64'),
              ]),
            ),
            data: Buffer.from(fromWorker?.data ?? []).toString('base64'),
          },
        ],
      })
    ).json()) as JsonPayloads;
    expect(viaHttp.payloads[0]).toEqual(jsonPayload('from the worker'));
  });

  it('refuses malformed bodies and unknown paths', async () => {
    expect((await post(open, 'decode', { nope: 1 })).status).toBe(400);
    expect((await post(open, 'decode', { payloads: [{ data: '***' }] })).status).toBe(400);
    expect((await post(open, 'other', { payloads: [] })).status).toBe(404);
    expect((await fetch(`${open.url}/decode`)).status).toBe(405);
  });

  it('answers the CORS preflight for the Web UI origin', async () => {
    const res = await fetch(`${open.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:8233',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,authorization,x-namespace',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type, Authorization, X-Namespace');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('bearer auth: 401 without or with a wrong token, 200 with it; preflight needs none', async () => {
    const body = { payloads: [jsonPayload('x')] };
    const without = await post(authed, 'encode', body);
    expect(without.status).toBe(401);
    expect(without.headers.get('access-control-allow-origin')).toBe('https://ui.example');
    expect((await post(authed, 'encode', body, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(authed, 'encode', body, { Authorization: TOKEN })).status).toBe(401);
    const ok = await post(authed, 'encode', body, { Authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    const preflight = await fetch(`${authed.url}/encode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://ui.example' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ui.example');
  });

  it('a payload it cannot decrypt is an error, not plaintext', async () => {
    const [foreign] = await new AesGcmCodec([key('other')]).encode([toPayload('x')]);
    const res = await post(open, 'decode', {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(foreign?.metadata ?? {}).map(([k, v]) => [
              k,
              Buffer.from(v ?? []).toString('base64'),
            ]),
          ),
          data: Buffer.from(foreign?.data ?? []).toString('base64'),
        },
      ],
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toContain('key id "other"');
  });
});
