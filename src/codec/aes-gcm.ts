// AES-256-GCM PayloadCodec: every payload is serialized (the whole Payload proto, metadata included)
// and encrypted into a new payload `encoding: binary/encrypted` + `encryption-key-id: <id>`, whose
// data is iv (12 bytes) | ciphertext | tag (16 bytes). Several keys allow rotation: the first
// encrypts, all decrypt. Payloads that are not encrypted pass through decode unchanged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING_ENCRYPTED = 'binary/encrypted';
const METADATA_ENCODING = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface CodecKey {
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class AesGcmCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: CodecKey;

  constructor(keys: readonly CodecKey[]) {
    const [first] = keys;
    if (!first) throw new Error('the payload codec needs at least one key');
    this.keys = new Map();
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES) throw new Error(`codec key "${k.id}" is not ${KEY_BYTES} bytes`);
      if (this.keys.has(k.id)) throw new Error(`codec key id "${k.id}" appears twice`);
      this.keys.set(k.id, k.key);
    }
    this.current = first;
  }

  /** The id of the key that encrypts. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  private encrypt(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING]: utf8(ENCODING_ENCRYPTED),
        [METADATA_KEY_ID]: utf8(this.current.id),
      },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING]) !== ENCODING_ENCRYPTED) return payload;
    const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId) throw new Error(`an encrypted payload has no ${METADATA_KEY_ID} metadata`);
    const key = this.keys.get(keyId);
    if (!key) {
      throw new Error(
        `an encrypted payload uses key id "${keyId}", which is not among the configured codec keys (${[
          ...this.keys.keys(),
        ].join(', ')}); add it to WABA_CODEC_KEYS (or WABA_CODEC_KEYS_FILE) to decrypt`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new Error(`an encrypted payload (key id "${keyId}") is too short to be AES-GCM data`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error(
        `an encrypted payload (key id "${keyId}") failed authentication: it was altered or the key is wrong`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
