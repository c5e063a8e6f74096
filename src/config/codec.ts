// The payload codec: its keys (WABA_CODEC_KEYS or WABA_CODEC_KEYS_FILE, parsed in src/codec/keys.ts)
// and the codec server the Web UI calls (WABA_CODEC_PORT, WABA_CODEC_CORS_ORIGIN, WABA_CODEC_AUTH_TOKEN).
import { type Env, port, type SecretText, secretOrFile, setting } from './env';

export const DEFAULT_CODEC_PORT = 8888;

/** The key list's text and where it came from; undefined when the codec is off. */
export function codecKeysText(env: Env = process.env): SecretText | undefined {
  return secretOrFile(env, 'WABA_CODEC_KEYS', 'WABA_CODEC_KEYS_FILE');
}

export interface CodecServerConfig {
  port: number;
  /** The Web UI origins allowed by CORS; undefined when WABA_CODEC_CORS_ORIGIN is not set. */
  corsOrigin: string[] | undefined;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken: string | undefined;
}

export function codecServerConfig(env: Env = process.env): CodecServerConfig {
  const origins = setting(env, 'WABA_CODEC_CORS_ORIGIN');
  return {
    port: port(env, 'WABA_CODEC_PORT', DEFAULT_CODEC_PORT),
    corsOrigin: origins
      ?.split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    authToken: setting(env, 'WABA_CODEC_AUTH_TOKEN'),
  };
}
