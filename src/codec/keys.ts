// Codec keys from the environment: WABA_CODEC_KEYS (or a file named by WABA_CODEC_KEYS_FILE) holds
// `id:base64key` entries separated by commas or newlines, e.g. `k2:...,k1:...`; the first key
// encrypts, every key decrypts (rotation). Neither set: the codec is off. Errors name the variable
// and the entry, never the key material.
import type { DataConverter } from '@temporalio/common';
import { codecKeysText } from '../config/codec';
import type { Env } from '../config/env';
import { AesGcmCodec, type CodecKey, KEY_BYTES } from './aes-gcm';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parse `id:base64key[,id:base64key...]`; `source` names where the text came from, for errors. */
export function parseCodecKeys(raw: string, source: string): CodecKey[] {
  const entries = raw
    .split(/[,\n\r]+/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0) throw new Error(`${source}: no keys; expected id:base64key[,id:base64key...]`);
  const keys: CodecKey[] = [];
  entries.forEach((entry, i) => {
    const where = `${source}: entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${where} is not id:base64key`);
    const id = entry.slice(0, colon).trim();
    const b64 = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new Error(`${where}: the key id must be 1-64 letters, digits, ".", "_" or "-"`);
    }
    if (!b64 || !BASE64.test(b64)) throw new Error(`${where} (id "${id}"): the key is not valid base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new Error(
        `${where} (id "${id}"): the key is ${key.length} bytes, AES-256 needs ${KEY_BYTES} (openssl rand -base64 32)`,
      );
    }
    if (keys.some((k) => k.id === id)) throw new Error(`${where}: key id "${id}" appears twice`);
    keys.push({ id, key });
  });
  return keys;
}

/** The configured keys, or undefined when neither WABA_CODEC_KEYS nor WABA_CODEC_KEYS_FILE is set. */
export function codecKeysFromEnv(env?: Env): CodecKey[] | undefined {
  const keys = codecKeysText(env);
  if (!keys) return undefined;
  return parseCodecKeys(keys.text, keys.file ? `WABA_CODEC_KEYS_FILE (${keys.file})` : keys.source);
}

/** The AES-GCM codec from the environment, or undefined when the codec is off. */
export function codecFromEnv(env?: Env): AesGcmCodec | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? new AesGcmCodec(keys) : undefined;
}

/** `{ payloadCodecs: [codec] }` for the worker and the client, or undefined when the codec is off. */
export function dataConverterFromEnv(env?: Env): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
