// Bytes for the SSH wire formats (RFC 4251): base64, UTF-8, and a reader of uint32, string and
// mpint fields. Pure: used in workflow code (decision signatures are verified in Update
// validators), where Node's Buffer is not available.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Standard base64 (padding optional, whitespace ignored); throws on any other character. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '');
  if (clean.length % 4 === 1) throw new Error('not base64: bad length');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of clean) {
    const v = B64_INDEX.get(c);
    if (v === undefined) throw new Error('not base64');
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a = 0, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    out += B64[(n >> 18) & 63];
    out += B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/** UTF-8 bytes of a string (no TextEncoder needed). */
export function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** An SSH `string`: a uint32 length, then the bytes. */
export function sshString(bytes: Uint8Array | string): Uint8Array {
  const body = typeof bytes === 'string' ? utf8(bytes) : bytes;
  const len = body.length;
  return concat(Uint8Array.from([len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]), body);
}

/** Reads the fields of an SSH wire structure in order; every read is bounds-checked. */
export class SshReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.pos === this.bytes.length;
  }

  raw(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) throw new Error('truncated SSH data');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uint32(): number {
    const b = this.raw(4);
    return (
      (((b[0] as number) << 24) >>> 0) + ((b[1] as number) << 16) + ((b[2] as number) << 8) + (b[3] as number)
    );
  }

  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  text(): string {
    const bytes = this.string();
    let out = '';
    for (const b of bytes) {
      if (b < 0x20 || b > 0x7e) throw new Error('expected printable ASCII in an SSH name');
      out += String.fromCharCode(b);
    }
    return out;
  }

  /** An mpint as a non-negative bigint (RSA e and n; ECDSA r and s). */
  mpint(): bigint {
    const bytes = this.string();
    if (bytes.length > 0 && ((bytes[0] as number) & 0x80) !== 0) throw new Error('negative mpint');
    return bytesToBigInt(bytes);
  }
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error('number too large');
  return out;
}
