// The health gate's activity (waitWabaHealth) for real: undici, TLS through a CA file, the token cache,
// against a local fake Webapp (test/support/fake-webapp.ts), run in MockActivityEnvironment. It returns
// at the first healthy answer, heartbeats on every poll, counts transient errors as "not yet", stops
// when cancelled and fails with HealthGateFailed at the deadline. Also the containers wait's loop.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, defaultDeps } from '../../activities';
import type { ContainerState } from '../../activities/compose';
import { waitContainers } from '../../activities/containers-wait';
import { activityPollDeps } from '../../activities/poll';
import type { ContainersWaitRequest, ContainersWaitResult } from '../../src/model/containers-wait';
import type { HealthSummary } from '../../src/model/health';
import type { HealthWaitRequest, HealthWaitResult } from '../../src/model/health-condition';
import { createSecretResolver } from '../../src/secrets';
import seed from '../fixtures/seed-health.json';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { testClusterEntry, testInventoryStore } from '../support/inventory';

const PASSWORD = 'Adm1n-Pa55word.for.tests';
let certs: TestCerts;
let webapp: FakeWebapp;

beforeAll(async () => {
  certs = makeTestCerts();
  webapp = await new FakeWebapp(certs, PASSWORD).start();
});
afterAll(() => webapp?.close());

const DEGRADED = (() => {
  const h = structuredClone(seed['A9-ha-registered'].health) as Record<string, unknown>;
  h['your-coreapp1-hostname:753efb1cf72c'] = { errors: [{ code: 1011, title: 'Service not ready' }] };
  return h;
})();
const unhealthy = { status: 200, body: { health: DEGRADED } };
const healthy = { status: 200, body: { health: seed['A9-ha-registered'].health } };

/** The real activities over an inventory whose `lab` API is the fake Webapp; `password` in the worker's env. */
function setup(password = PASSWORD) {
  const e = testClusterEntry();
  e.api = { baseUrl: webapp.url, passwordRef: 'env:WABA_TEST_PASSWORD', tls: { caFile: certs.caFile } };
  const store = testInventoryStore({ lab: e });
  const found = store.byName('lab');
  if (!found.ok) throw new Error(found.message);
  const acts = createActivities(
    defaultDeps(store, {
      secrets: createSecretResolver({ WABA_TEST_PASSWORD: password }),
      notify: undefined,
    }),
  );
  const request = (patch: Partial<HealthWaitRequest> = {}): HealthWaitRequest => ({
    cluster: { name: 'lab', specHash: found.entry.specHash },
    what: 'exactly one Coreapp connected',
    condition: { verdictIn: ['ha-connected'] },
    deadline: '30s',
    until: Date.now() + 30_000,
    ...patch,
  });
  return { acts, request };
}

/** A mock activity context that keeps every heartbeat. */
function environment() {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 5_000 });
  const beats: { poll: number; summary?: HealthSummary; error?: string }[] = [];
  env.on('heartbeat', (d) => {
    if (d !== undefined) beats.push(d);
  });
  return { env, beats };
}

type Acts = ReturnType<typeof setup>['acts'];
/** Run waitWabaHealth in the mock activity context. */
const wait = (env: MockActivityEnvironment, acts: Acts, r: HealthWaitRequest) =>
  env.run(acts.waitWabaHealth, r) as Promise<HealthWaitResult>;

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => new Error(`expected a failure, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
}

describe('waitWabaHealth against a fake Webapp', () => {
  it('unhealthy, unhealthy, healthy: returns at the third poll, a heartbeat with the summary on each', async () => {
    const { acts, request } = setup();
    const { env, beats } = environment();
    webapp.health = DEGRADED;
    webapp.queueHealth(unhealthy, unhealthy, healthy);
    const callsBefore = webapp.healthCalls;
    const started = Date.now();
    const out = await wait(env, acts, request({ record: true }));
    const elapsed = Date.now() - started;
    expect(webapp.healthCalls - callsBefore).toBe(3);
    expect(out.polls).toBe(3);
    expect(out.summary.verdict).toBe('ha-connected');
    expect(out.metAt).toBeGreaterThanOrEqual(started);
    // Two pauses of the first schedule step (250 ms), not seconds.
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3_000);
    expect(beats.map((b) => [b.poll, b.summary?.verdict])).toEqual([
      [1, 'degraded'],
      [2, 'degraded'],
      [3, 'ha-connected'],
    ]);
    // The readings that changed: degraded once (the second is the same), then connected.
    expect(out.seen?.map((r) => r.summary.verdict)).toEqual(['degraded', 'ha-connected']);
    expect(out.seen?.at(-1)?.at).toBe(out.metAt);
  });

  it('transient errors (503, node not ready) count as "not yet"; the token is reused', async () => {
    const { acts, request } = setup();
    const { env, beats } = environment();
    webapp.health = seed['A9-ha-registered'].health;
    const notReady = { status: 503, body: { errors: [{ code: 1011, title: 'Service not ready' }] } };
    webapp.queueHealth(notReady, { status: 500, body: {} });
    const [callsBefore, loginsBefore] = [webapp.healthCalls, webapp.logins];
    const out = await wait(env, acts, request());
    expect(out.polls).toBe(3);
    expect(webapp.healthCalls - callsBefore).toBe(3);
    expect(webapp.logins - loginsBefore).toBeLessThanOrEqual(1);
    expect(beats[0]?.error).toMatch(/^wabaHealth: .*HTTP 503 error 1011 Service not ready/);
    expect(beats.at(-1)?.summary?.verdict).toBe('ha-connected');
    expect(out.seen).toBeUndefined();
  });

  it('fails with HealthGateFailed at the deadline, naming the last verdict and its reasons', async () => {
    const { acts, request } = setup();
    const { env } = environment();
    webapp.health = DEGRADED;
    const started = Date.now();
    const err = await failureOf(wait(env, acts, request({ deadline: '1s', until: started + 1_000 })));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      type: 'HealthGateFailed',
      nonRetryable: true,
      message:
        'health did not reach "exactly one Coreapp connected" within 1s: last verdict degraded ' +
        '(your-coreapp1-hostname:753efb1cf72c reports error 1011 Service not ready; no Coreapp is connected)',
    });
    // The last poll is at the deadline, not an interval after it.
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('an attempt that starts past the deadline (a retry) still polls once before failing', async () => {
    const { acts, request } = setup();
    const { env } = environment();
    webapp.health = seed['A9-ha-registered'].health;
    const out = await wait(env, acts, request({ until: Date.now() - 5_000 }));
    expect(out).toMatchObject({ polls: 1, summary: { verdict: 'ha-connected' } });
    webapp.health = DEGRADED;
    const err = await failureOf(wait(environment().env, acts, request({ until: Date.now() - 5_000 })));
    expect(err).toMatchObject({ type: 'HealthGateFailed' });
  });

  it('no answer at all: HealthGateFailed names the last error', async () => {
    const { acts, request } = setup();
    const { env } = environment();
    // An answer without a "health" object: the activity's own 502, retryable like a Webapp restarting.
    webapp.health = undefined;
    const err = await failureOf(wait(env, acts, request({ deadline: '1s', until: Date.now() + 1_000 })));
    expect(err).toMatchObject({ type: 'HealthGateFailed', nonRetryable: true });
    expect((err as Error).message).toMatch(
      /^health did not reach "exactly one Coreapp connected" within 1s: no answer \(wabaHealth: health of cluster lab at https:\/\/localhost:\d+: HTTP 502\)$/,
    );
  });

  it('a non-retryable error (the password is refused) fails at once, without a second poll', async () => {
    const { acts, request } = setup('not-the-password');
    const { env } = environment();
    const callsBefore = webapp.healthCalls;
    const started = Date.now();
    const err = await failureOf(wait(env, acts, request()));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).not.toBe('HealthGateFailed');
    expect(webapp.healthCalls).toBe(callsBefore);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('honours cancellation: a wait that would last 30 s ends within a second of cancel()', async () => {
    const { acts, request } = setup();
    const { env, beats } = environment();
    webapp.health = DEGRADED;
    const running = failureOf(wait(env, acts, request()));
    while (beats.length < 2) await new Promise((r) => setTimeout(r, 20));
    const callsAtCancel = webapp.healthCalls;
    const cancelledAt = Date.now();
    env.cancel();
    const err = await running;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(webapp.healthCalls - callsAtCancel).toBeLessThanOrEqual(1);
  });

  it('a slow answer is raced with cancellation, not waited for', async () => {
    const { acts, request } = setup();
    const { env, beats } = environment();
    webapp.health = DEGRADED;
    const running = failureOf(wait(env, acts, request()));
    while (beats.length < 1) await new Promise((r) => setTimeout(r, 20));
    webapp.healthDelayMs = 5_000;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const cancelledAt = Date.now();
      env.cancel();
      expect(await running).toBeInstanceOf(CancelledFailure);
      expect(Date.now() - cancelledAt).toBeLessThan(1_000);
    } finally {
      webapp.healthDelayMs = 0;
    }
  });
});

describe('waitContainers (the loop of waitContainersRunning)', () => {
  const container = (service: string, running: boolean): ContainerState => ({
    service,
    name: `biz_${service}_1`,
    id: '0123456789ab',
    image: 'docker.whatsapp.biz/coreapp:v2.23.4',
    state: running ? 'running' : 'restarting',
    running,
    exitCode: 0,
    restarting: !running,
  });
  const request = (patch: Partial<ContainersWaitRequest> = {}): ContainersWaitRequest => ({
    cluster: { name: 'lab', specHash: 'x' },
    version: '2.23.4',
    hosts: [
      { host: 'core1', variant: 'v1', expected: ['wacore'] },
      { host: 'web1', variant: 'v2', expected: ['waweb'] },
    ],
    deadline: '5s',
    until: Date.now() + 5_000,
    ...patch,
  });

  it('polls every host until every service runs, heartbeating what is missing', async () => {
    const { env, beats } = environment();
    let round = 0;
    const out: ContainersWaitResult = await env.run(() =>
      waitContainers(
        request(),
        async (h) => {
          if (h.host === 'core1') round++;
          if (h.host === 'web1') return [container('waweb', true)];
          if (round === 1) throw new Error('ssh: connection reset');
          return [container('wacore', round >= 3)];
        },
        activityPollDeps(),
      ),
    );
    expect(out.polls).toBe(3);
    expect(out.containers).toEqual([
      { host: 'core1', service: 'wacore', state: 'running' },
      { host: 'web1', service: 'waweb', state: 'running' },
    ]);
    expect(beats).toEqual([
      { poll: 1, missing: ['core1/wacore'], errors: { core1: 'ssh: connection reset' } },
      { poll: 2, missing: ['core1/wacore'], errors: {} },
      { poll: 3, missing: [], errors: {} },
    ]);
  });

  it('fails with ContainersNotRunning at the deadline, naming what is missing', async () => {
    const { env } = environment();
    const err = await failureOf(
      env.run(() =>
        waitContainers(
          request({ deadline: '1s', until: Date.now() + 1_000 }),
          async (h) => (h.host === 'web1' ? [container('waweb', true)] : [container('wacore', false)]),
          activityPollDeps(),
        ),
      ),
    );
    expect(err).toMatchObject({
      type: 'ContainersNotRunning',
      nonRetryable: true,
      message: 'not running after 1s: core1/wacore',
    });
  });

  it('a non-retryable ps failure (host key) fails at once', async () => {
    const { env } = environment();
    const mismatch = ApplicationFailure.nonRetryable('host key of core1 does not match', 'HostKeyMismatch');
    const err = await failureOf(
      env.run(() =>
        waitContainers(
          request(),
          async (h) => {
            if (h.host === 'core1') throw mismatch;
            return [container('waweb', true)];
          },
          activityPollDeps(),
        ),
      ),
    );
    expect(err).toBe(mismatch);
  });
});
