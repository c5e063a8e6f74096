// The notify activity against a local HTTP receiver: delivery, a receiver that is down, 5xx and 4xx
// answers, no configuration; and the webhook URL (a secret) in no error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyConfigError, notifyActivities, notifyConfigFromEnv } from '../../activities/notify';
import type { NotifyEvent } from '../../src/model/notify';
import { slackMessage } from '../../src/notify/slack-message';
import { deadWebhookUrl, RECEIVER_TOKEN, type Receiver, startReceiver } from '../support/webhook-receiver';

const event: NotifyEvent = {
  kind: 'runSucceeded',
  run: { cluster: 'prod', runbook: 'healthCheck', workflowId: 'prod/healthCheck/1' },
  summary: 'ha-connected',
};

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw err;
  return err;
}

const notifyWith = (url: string, timeoutMs = 5_000) =>
  notifyActivities({ notify: { url, timeoutMs } }).notify;

describe('notify activity', () => {
  it('POSTs the Slack JSON of the event to the webhook', async () => {
    receiver = await startReceiver();
    await expect(notifyWith(receiver.url)(event)).resolves.toEqual({ delivered: true, status: 200 });
    expect(receiver.received).toEqual([
      { path: `/services/${RECEIVER_TOKEN}`, body: JSON.parse(JSON.stringify(slackMessage(event))) },
    ]);
  });

  it('without a webhook it returns at once: not delivered, not configured', async () => {
    const started = Date.now();
    await expect(notifyActivities({ notify: undefined }).notify(event)).resolves.toEqual({
      delivered: false,
      reason: 'not configured',
    });
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('a receiver that is down: connection refused is a retryable failure without the URL', async () => {
    const url = await deadWebhookUrl();
    const failure = await failureOf(notifyWith(url)(event));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('NotifyUnreachable');
    expect(failure.message).toBe('notify: the webhook is not reachable (ECONNREFUSED)');
    expect(JSON.stringify({ m: failure.message, c: String(failure.cause), s: failure.stack })).not.toContain(
      RECEIVER_TOKEN,
    );
  });

  it('5xx is retryable, 4xx (a revoked token, a removed channel) is not', async () => {
    receiver = await startReceiver();
    receiver.status = 503;
    const outage = await failureOf(notifyWith(receiver.url)(event));
    expect(outage.nonRetryable).toBe(false);
    expect(outage.type).toBe('NotifyHttp503');
    expect(outage.message).toBe('notify: the webhook answered HTTP 503 (service_unavailable)');
    receiver.status = 403;
    const refused = await failureOf(notifyWith(receiver.url)(event));
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).not.toContain(RECEIVER_TOKEN);
  });

  it('a webhook that does not answer in time is a retryable timeout', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const started = Date.now();
      const failure = await failureOf(notifyWith(`http://127.0.0.1:${port}/hook`, 300)(event));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/^notify: the webhook is not reachable \(\w+\)$/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('notify configuration (worker env)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-notify-'));
  const secretUrl = `https://hooks.slack.com/services/${RECEIVER_TOKEN}`;

  it('unset: undefined (notifications are not sent)', () => {
    expect(notifyConfigFromEnv({})).toBeUndefined();
  });

  it('from the variable or from a file (trailing newline dropped)', () => {
    expect(notifyConfigFromEnv({ WABA_NOTIFY_WEBHOOK_URL: secretUrl })).toEqual({
      url: secretUrl,
      timeoutMs: 5_000,
    });
    const file = path.join(tmp, 'hook');
    writeFileSync(file, `${secretUrl}\n`);
    expect(notifyConfigFromEnv({ WABA_NOTIFY_WEBHOOK_URL_FILE: file })?.url).toBe(secretUrl);
  });

  it('bad settings stop the worker with a message that never shows the URL', () => {
    const bad = (env: NodeJS.ProcessEnv) => {
      try {
        notifyConfigFromEnv(env);
      } catch (err) {
        expect(err).toBeInstanceOf(NotifyConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a configuration error');
    };
    expect(bad({ WABA_NOTIFY_WEBHOOK_URL: secretUrl, WABA_NOTIFY_WEBHOOK_URL_FILE: '/x' })).toBe(
      'set WABA_NOTIFY_WEBHOOK_URL or WABA_NOTIFY_WEBHOOK_URL_FILE, not both',
    );
    expect(bad({ WABA_NOTIFY_WEBHOOK_URL: `hooks.slack.com/services/${RECEIVER_TOKEN}` })).toBe(
      'WABA_NOTIFY_WEBHOOK_URL: expected an http(s) URL (the value is not shown)',
    );
    expect(bad({ WABA_NOTIFY_WEBHOOK_URL_FILE: path.join(tmp, 'missing') })).toContain(
      'cannot read the file (ENOENT)',
    );
  });
});
