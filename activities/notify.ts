// The `notify` activity: POST a run's notification to the chat webhook configured on the worker.
// The webhook URL carries a token: it is read here and never logged, returned, or put in an error
// (errors name only the variable, a network error code or an HTTP status).
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { Env } from '../src/config/env';
import { notifyWebhookText } from '../src/config/notify';
import { NOTIFY_UNREACHABLE, nonRetryable, notifyHttpType } from '../src/model/errors';
import type { NotifyEvent, NotifyResult } from '../src/model/notify';
import { slackMessage } from '../src/notify/slack-message';

export interface NotifyConfig {
  /** Slack incoming-webhook URL (or any receiver of the same JSON). Secret. */
  url: string;
  /** Per request; a retry is the workflow's job. */
  timeoutMs: number;
}

export const NOTIFY_TIMEOUT_MS = 5_000;

export class NotifyConfigError extends Error {
  override name = 'NotifyConfigError';
}

/**
 * From `WABA_NOTIFY_WEBHOOK_URL` or `WABA_NOTIFY_WEBHOOK_URL_FILE` (a file holding the URL);
 * undefined when neither is set. Read once, when the worker starts, so a bad setting stops the start.
 */
export function notifyConfigFromEnv(env?: Env): NotifyConfig | undefined {
  const given = notifyWebhookText(env, (message) => new NotifyConfigError(message));
  if (!given) return undefined;
  const url = given.text.trim();
  const source = given.source;
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // new URL's error repeats the input: say what is wrong without it
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new NotifyConfigError(`${source}: expected an http(s) URL (the value is not shown)`);
  }
  return { url, timeoutMs: NOTIFY_TIMEOUT_MS };
}

/** Slack's error answers are short snake_case codes (`no_service`, `invalid_payload`): safe to show. */
const slackErrorCode = (body: string) => (/^[a-z_]{1,60}$/.test(body.trim()) ? ` (${body.trim()})` : '');

/** A network failure as a retryable failure that names only its code. */
function unreachable(err: unknown): ApplicationFailure {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = [e.code, e.cause?.code, e.name].find((c): c is string => typeof c === 'string') ?? 'error';
  return ApplicationFailure.retryable(`notify: the webhook is not reachable (${code})`, NOTIFY_UNREACHABLE);
}

export async function postNotification(config: NotifyConfig, event: NotifyEvent): Promise<NotifyResult> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackMessage(event)),
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch (err) {
    throw unreachable(err);
  }
  let body = '';
  try {
    body = (await res.body.text()).slice(0, 200);
  } catch {
    // the status says enough
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) return { delivered: true, status };
  const message = `notify: the webhook answered HTTP ${status}${slackErrorCode(body)}`;
  // Overload and outages pass; other refusals (bad token, removed channel, bad payload) do not.
  if (status >= 500 || status === 429 || status === 408)
    throw ApplicationFailure.retryable(message, notifyHttpType(status));
  throw nonRetryable(notifyHttpType(status), message);
}

export function notifyActivities(deps: { notify: NotifyConfig | undefined }) {
  return {
    /** Post one notification; `{delivered: false}` at once when no webhook is configured. */
    async notify(event: NotifyEvent): Promise<NotifyResult> {
      if (!deps.notify) return { delivered: false, reason: 'not configured' };
      return postNotification(deps.notify, event);
    },
  };
}
