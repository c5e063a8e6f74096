// The operator's CLI: the Web UI it links runs to, and the key that signs decisions (`--key FILE`
// with WABA_KEY_PASSPHRASE, else the ssh-agent at SSH_AUTH_SOCK). Light on purpose: the CLI loads
// it at start-up.
import { type Env, setting } from './env';

/** TEMPORAL_UI_URL, else the dev server's Web UI. */
export function temporalUiUrl(env: Env = process.env): string {
  return setting(env, 'TEMPORAL_UI_URL') ?? 'http://localhost:8233';
}

export function signingConfig(env: Env = process.env): {
  /** The passphrase of the `--key` file, if it has one. */
  keyPassphrase: string | undefined;
  agentSocket: string | undefined;
} {
  return { keyPassphrase: setting(env, 'WABA_KEY_PASSPHRASE'), agentSocket: setting(env, 'SSH_AUTH_SOCK') };
}
