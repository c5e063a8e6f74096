// Run notifications: the chat webhook the worker posts to (WABA_NOTIFY_WEBHOOK_URL, or a file holding
// it: WABA_NOTIFY_WEBHOOK_URL_FILE). The URL carries a token: errors name the variable, never the URL.
import { type Env, type SecretText, secretOrFile } from './env';

/** The webhook URL's text and where it came from; undefined when notifications are off. */
export function notifyWebhookText(
  env: Env = process.env,
  fail?: (message: string) => Error,
): SecretText | undefined {
  return secretOrFile(env, 'WABA_NOTIFY_WEBHOOK_URL', 'WABA_NOTIFY_WEBHOOK_URL_FILE', fail);
}
