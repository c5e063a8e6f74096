// The ChatOps endpoint (README "ChatOps"): its signing secrets, where it listens, the relay key that
// signs decisions taken in chat, and the chat-user -> identity map.
import { type Env, port, type SecretText, secretOrFile, setting } from './env';

export interface ChatopsConfig {
  slackSigningSecret: string | undefined;
  webhookSecret: string | undefined;
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** The relay's private key file; without one ChatOps only reads. */
  relay: { keyFile: string; passphrase: string | undefined; name: string } | undefined;
}

/** True when a signing secret is configured: without one no request could be verified. */
export function chatopsConfigured(env: Env = process.env): boolean {
  return Boolean(setting(env, 'SLACK_SIGNING_SECRET') || setting(env, 'WABA_CHATOPS_WEBHOOK_SECRET'));
}

export function chatopsConfig(env: Env = process.env): ChatopsConfig {
  const keyFile = setting(env, 'WABA_CHATOPS_RELAY_KEY');
  return {
    slackSigningSecret: setting(env, 'SLACK_SIGNING_SECRET'),
    webhookSecret: setting(env, 'WABA_CHATOPS_WEBHOOK_SECRET'),
    host: setting(env, 'WABA_CHATOPS_HOST') ?? '127.0.0.1',
    port: port(env, 'WABA_CHATOPS_PORT', 8787, { allowAny: true }),
    relay: keyFile
      ? {
          keyFile,
          passphrase: setting(env, 'WABA_CHATOPS_RELAY_KEY_PASSPHRASE'),
          name: setting(env, 'WABA_CHATOPS_RELAY_NAME') ?? 'chatops',
        }
      : undefined,
  };
}

/**
 * The identity map's JSON: inline (WABA_CHATOPS_IDENTITY_MAP) or a file (WABA_CHATOPS_IDENTITIES);
 * undefined when neither is set. `fail` makes the error (the CLI's InputError).
 */
export function identitiesText(
  env: Env = process.env,
  fail?: (message: string) => Error,
): SecretText | undefined {
  return secretOrFile(env, 'WABA_CHATOPS_IDENTITY_MAP', 'WABA_CHATOPS_IDENTITIES', fail);
}
