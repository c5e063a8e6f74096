import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, defaultDeps } from '../../activities';
import { inventoryActivities } from '../../activities/inventory';
import type { InventoryStore } from '../../src/inventory/store';
import type { HealthCheckResult } from '../../src/model/results';
import { createSecretResolver } from '../../src/secrets';
import { planQuery, statusQuery } from '../../workflows/api';
import seed from '../fixtures/seed-health.json';
import { makeSelfSignedCert, makeTestCerts, type TestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { type RawEntry, testClusterEntry, testInventoryStore } from '../support/inventory';
import { historyText, withWorker } from '../support/temporal';

const PASSWORD = 'Adm1n-Pa55word.for.tests';
let certs: TestCerts;
let webapp: FakeWebapp;

beforeAll(async () => {
  certs = makeTestCerts();
  webapp = await new FakeWebapp(certs, PASSWORD).start();
});
afterAll(() => webapp?.close());

type Tls = { caFile: string } | { pinnedSha256: string };

/** An inventory entry whose API is the fake Webapp (or `baseUrl`), trusted through `tls`. */
function entry(tls: Tls, baseUrl = webapp.url): RawEntry {
  const e = testClusterEntry({
    hosts: [
      { name: 'web1', address: '127.0.0.1', roles: ['webapp'] },
      { name: 'core1', address: '127.0.0.1', roles: ['coreapp'] },
    ],
  });
  e.api = { baseUrl, passwordRef: 'env:WABA_TEST_PASSWORD', tls };
  return e;
}

/** The worker's inventory: `lab` trusted through the CA file unless other clusters are given. */
const inventory = (clusters?: Record<string, RawEntry>) =>
  testInventoryStore(clusters ?? { lab: entry({ caFile: certs.caFile }) });

// Real activities, real undici, real TLS verification; the password only in the worker's environment.
const activities = (
  store: InventoryStore = inventory(),
  env: Record<string, string> = { WABA_TEST_PASSWORD: PASSWORD },
) => createActivities(defaultDeps(store, { secrets: createSecretResolver(env) }));

/** What a healthCheck result says of cluster `name` of `store`. */
function stamp(store: InventoryStore, name = 'lab') {
  const found = store.byName(name);
  if (!found.ok) throw new Error(found.message);
  return { source: 'test-inventory.yaml', specHash: found.entry.specHash };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  const failure = cause instanceof ApplicationFailure ? cause : (cause?.cause as ApplicationFailure);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return failure;
}

describe('healthCheck workflow', () => {
  it('reads health over HTTPS trusted through the CA file and returns the verdict', async () => {
    webapp.health = seed['A9-ha-registered'].health;
    const before = webapp.logins;
    const store = inventory();
    await withWorker(activities(store), async ({ client, taskQueue }) => {
      const run = (id: string) =>
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: id,
          args: [{ cluster: 'lab' }],
        }) as Promise<HealthCheckResult>;
      const first = await run(`lab/healthCheck/ca-${Date.now()}`);
      expect(first.verdict).toBe('ha-connected');
      expect(first.cluster).toBe('lab');
      // Not gated: the spec's hash, no policy.
      expect(first.inventory).toEqual(stamp(store));
      expect(first.nodes.map((n) => `${n.host}:${n.gatewayStatus}`)).toEqual([
        'your-master1-hostname:disconnected',
        'your-master2-hostname:disconnected',
        'your-coreapp1-hostname:connected',
        'your-coreapp2-hostname:disconnected',
      ]);

      // A second run on the same worker reuses the cached token: no second login.
      webapp.health = seed['B4-two-shards-plus-standby'].health;
      const secondId = `lab/healthCheck/ca2-${Date.now()}`;
      const second = await run(secondId);
      expect(second.verdict).toBe('multiconnect-connected:2');
      expect(webapp.logins - before).toBe(1);

      // Search attributes and the status query tell the operator what the run did.
      const handle = client.workflow.getHandle(secondId);
      const description = await handle.describe();
      expect(description.searchAttributes).toMatchObject({
        WabaCluster: ['lab'],
        WabaRunbook: ['healthCheck'],
        WabaStep: ['done: multiconnect-connected:2'],
      });
      const status = await handle.query(statusQuery);
      expect(status.stage).toBe('done: multiconnect-connected:2');
      expect(status.inventory).toEqual(stamp(store));
      const { specHash } = stamp(store);
      expect(await handle.query(planQuery)).toEqual([
        {
          stage: 'resolve cluster',
          note: `cluster lab from the inventory test-inventory.yaml: spec sha256 ${specHash}`,
        },
        { stage: 'health', api: 'GET /v1/health', note: `at ${webapp.url}` },
      ]);
      expect(status.hosts['your-coreapp3-hostname']).toBe('disconnected');

      // The password never reaches workflow history; only its reference does (in the resolved spec).
      const history = historyText(await handle.fetchHistory());
      expect(history).toContain('env:WABA_TEST_PASSWORD');
      expect(history).not.toContain(PASSWORD);
      expect(history).not.toContain(Buffer.from(`admin:${PASSWORD}`).toString('base64'));
    });
  });

  it('trusts a pinned certificate fingerprint and refuses a wrong one without retrying', async () => {
    webapp.health = seed['A7-before-registration'].health;
    const store = inventory({
      lab: entry({ pinnedSha256: certs.fingerprint }),
      'lab-badpin': entry({ pinnedSha256: 'AB'.repeat(32) }),
    });
    await withWorker(activities(store), async ({ client, taskQueue }) => {
      const pinned = await client.workflow.execute('healthCheck', {
        taskQueue,
        workflowId: `lab/healthCheck/pin-${Date.now()}`,
        args: [{ cluster: 'lab' }],
      });
      expect((pinned as HealthCheckResult).verdict).toBe('unregistered');

      const badpin = await client.workflow.start('healthCheck', {
        taskQueue,
        workflowId: `lab/healthCheck/badpin-${Date.now()}`,
        args: [{ cluster: 'lab-badpin' }],
      });
      const failure = await failureOf(badpin.result());
      expect(failure.type).toBe('TlsTrustError');
      expect(failure.message).toContain('does not match api.tls.pinnedSha256');
      // Not retried: every activity ran once (the history records an activity's last attempt). Read
      // from the history, not a clock: the suite's load makes elapsed time say nothing.
      const attempts = (await badpin.fetchHistory()).events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      expect(attempts?.length).toBeGreaterThan(0);
      expect(attempts?.every((a) => a === 1)).toBe(true);
    });
  });

  it('trusts a self-signed Webapp certificate given as the CA file, and only that certificate', async () => {
    const own = makeSelfSignedCert();
    const other = makeSelfSignedCert();
    const selfSigned = await new FakeWebapp(own, PASSWORD).start();
    selfSigned.health = seed['A9-ha-registered'].health;
    try {
      const store = inventory({
        own: entry({ caFile: own.caFile }, selfSigned.url),
        other: entry({ caFile: other.caFile }, selfSigned.url),
      });
      await withWorker(activities(store), async ({ client, taskQueue }) => {
        const result = (await client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/self-signed-${Date.now()}`,
          args: [{ cluster: 'own' }],
        })) as HealthCheckResult;
        expect(result.verdict).toBe('ha-connected');
        // Verification stays on: another self-signed certificate is not trusted.
        const failure = await failureOf(
          client.workflow.execute('healthCheck', {
            taskQueue,
            workflowId: `lab/healthCheck/self-signed-other-${Date.now()}`,
            args: [{ cluster: 'other' }],
          }),
        );
        expect(failure.type).toBe('TlsTrustError');
      });
    } finally {
      selfSigned.close();
    }
  });

  it('fails without retrying when the certificate is not trusted by the given CA', async () => {
    const otherCa = makeTestCerts();
    const store = inventory({ lab: entry({ caFile: otherCa.caFile }) });
    await withWorker(activities(store), async ({ client, taskQueue }) => {
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/untrusted-${Date.now()}`,
          args: [{ cluster: 'lab' }],
        }),
      );
      expect(failure.type).toBe('TlsTrustError');
      expect(failure.message).toMatch(/not trusted .*check api\.tls/);
    });
  });

  it('retries a transient API error (1011 / 503) and then succeeds', async () => {
    webapp.health = seed['A9-ha-registered'].health;
    const errorBody = { errors: [{ code: 1016, title: 'System overloaded', details: '' }] };
    webapp.queueHealth({ status: 503, body: errorBody });
    const calls = webapp.healthCalls;
    await withWorker(activities(), async ({ client, taskQueue }) => {
      const result = (await client.workflow.execute('healthCheck', {
        taskQueue,
        workflowId: `lab/healthCheck/retry-${Date.now()}`,
        args: [{ cluster: 'lab' }],
      })) as HealthCheckResult;
      expect(result.verdict).toBe('ha-connected');
    });
    expect(webapp.healthCalls - calls).toBe(2);
  });

  it('fails at once with a clear message when the admin password is wrong', async () => {
    const wrongPassword = activities(inventory(), { WABA_TEST_PASSWORD: 'not-the-password' });
    await withWorker(wrongPassword, async ({ client, taskQueue }) => {
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/badpw-${Date.now()}`,
          args: [{ cluster: 'lab' }],
        }),
      );
      expect(failure.type).toBe('WabaApiError1005');
      expect(failure.message).toContain('login as admin at https://localhost');
      expect(failure.message).not.toContain('not-the-password');
    });
  });

  it('fails at once, naming the worker variable, when the secret reference cannot be resolved', async () => {
    await withWorker(activities(inventory(), {}), async ({ client, taskQueue }) => {
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/nosecret-${Date.now()}`,
          args: [{ cluster: 'lab' }],
        }),
      );
      expect(failure.type).toBe('SecretError');
      expect(failure.message).toBe(
        'secret env:WABA_TEST_PASSWORD: environment variable WABA_TEST_PASSWORD is not set on the worker',
      );
    });
  });

  it('a malformed input fails the run within seconds, every bad field named, before any activity', async () => {
    const calls = { resolve: 0, health: 0 };
    const { resolveCluster } = inventoryActivities({ inventory: inventory() });
    const counting = {
      resolveCluster: async (a: Parameters<typeof resolveCluster>[0]) => {
        calls.resolve++;
        return resolveCluster(a);
      },
      wabaHealth: async () => {
        calls.health++;
        return { health: {} };
      },
    };
    await withWorker(counting, async ({ client, taskQueue }) => {
      const run = (label: string, input: unknown) =>
        failureOf(
          client.workflow.execute('healthCheck', {
            taskQueue,
            workflowId: `bad-${label}-${Date.now()}`,
            args: [input],
          }),
        );
      const started = Date.now();
      const [bad, inline] = await Promise.all([
        // A bad name, and what moved to the inventory (hosts, the API and its secret) written in the input.
        run('fields', {
          cluster: 'Prod!',
          hosts: [{ name: 'web1', address: '10.0.0.1', roles: ['webapp'] }],
          api: { baseUrl: 'https://10.0.0.1:9090', passwordRef: 'env:X', tls: {} },
        }),
        // The old shape: a whole cluster spec inline.
        run('inline', {
          cluster: {
            name: 'lab',
            hosts: [{ name: 'web1', address: '10.0.0.1', roles: ['webapp'] }],
            api: { baseUrl: 'https://10.0.0.1:9090', passwordRef: 'env:X', tls: {} },
          },
        }),
      ]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(bad.type).toBe('InvalidInput');
      expect(bad.nonRetryable).toBe(true);
      expect(bad.message).toContain(
        'cluster: expected the name of a cluster in the worker inventory, e.g. "prod"',
      );
      expect(bad.message).toContain(
        'hosts: unknown field: hosts live in the inventory (clusters.<name>.hosts)',
      );
      expect(bad.message).toContain(
        'api: unknown field: the API URL and its TLS trust live in the inventory (clusters.<name>.api)',
      );
      expect(inline.type).toBe('InvalidInput');
      expect(inline.nonRetryable).toBe(true);
      expect(inline.message).toContain(
        'cluster: expected the name of a cluster in the worker inventory, e.g. "prod": an inline cluster spec is not accepted',
      );
    });
    expect(calls).toEqual({ resolve: 0, health: 0 });
  });

  it('a cluster the inventory lacks fails the run at once, naming it, before the API is called', async () => {
    const logins = webapp.logins;
    const calls = webapp.healthCalls;
    await withWorker(activities(), async ({ client, taskQueue }) => {
      const started = Date.now();
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/unknown-${Date.now()}`,
          args: [{ cluster: 'prod' }],
        }),
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(failure.type).toBe('UnknownCluster');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'cluster "prod" is not in the worker\'s inventory test-inventory.yaml (it has: lab)',
      );
    });
    expect(webapp.logins).toBe(logins);
    expect(webapp.healthCalls).toBe(calls);
  });
});
