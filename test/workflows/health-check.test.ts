import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, defaultDeps } from '../../activities';
import { createSecretResolver } from '../../src/secrets';
import type { ClusterSpecInput } from '../../src/spec/cluster';
import type { HealthCheckResult } from '../../src/spec/results';
import seed from '../fixtures/seed-health.json';
import { makeSelfSignedCert, makeTestCerts, type TestCerts } from '../support/certs';
import { FakeWebapp } from '../support/fake-webapp';
import { historyText, withWorker } from '../support/temporal';

const PASSWORD = 'Adm1n-Pa55word.for.tests';
let certs: TestCerts;
let webapp: FakeWebapp;

beforeAll(async () => {
  certs = makeTestCerts();
  webapp = await new FakeWebapp(certs, PASSWORD).start();
});
afterAll(() => webapp?.close());

// Real activities, real undici, real TLS verification; the password only in the worker's environment.
const activities = () =>
  createActivities(defaultDeps({ secrets: createSecretResolver({ WABA_TEST_PASSWORD: PASSWORD }) }));

function cluster(tls: ClusterSpecInput['api']['tls']): ClusterSpecInput {
  return {
    name: 'lab',
    hosts: [
      { name: 'web1', address: '127.0.0.1', roles: ['webapp'] },
      { name: 'core1', address: '127.0.0.1', roles: ['coreapp'] },
    ],
    api: { baseUrl: webapp.url, passwordRef: 'env:WABA_TEST_PASSWORD', tls },
  };
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
    await withWorker(activities(), async ({ client, taskQueue }) => {
      const run = (id: string) =>
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: id,
          args: [{ cluster: cluster({ caFile: certs.caFile }) }],
        }) as Promise<HealthCheckResult>;
      const first = await run(`lab/healthCheck/ca-${Date.now()}`);
      expect(first.verdict).toBe('ha-connected');
      expect(first.cluster).toBe('lab');
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
      const status = await handle.query<{ stage: string; hosts: Record<string, string> }>('status');
      expect(status.stage).toBe('done: multiconnect-connected:2');
      expect(status.hosts['your-coreapp3-hostname']).toBe('disconnected');

      // The password never reaches workflow history; only its reference does.
      const history = historyText(await handle.fetchHistory());
      expect(history).toContain('env:WABA_TEST_PASSWORD');
      expect(history).not.toContain(PASSWORD);
      expect(history).not.toContain(Buffer.from(`admin:${PASSWORD}`).toString('base64'));
    });
  });

  it('trusts a pinned certificate fingerprint and refuses a wrong one without retrying', async () => {
    webapp.health = seed['A7-before-registration'].health;
    await withWorker(activities(), async ({ client, taskQueue }) => {
      const pinned = await client.workflow.execute('healthCheck', {
        taskQueue,
        workflowId: `lab/healthCheck/pin-${Date.now()}`,
        args: [{ cluster: cluster({ pinnedSha256: certs.fingerprint }) }],
      });
      expect((pinned as HealthCheckResult).verdict).toBe('unregistered');

      const started = Date.now();
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/badpin-${Date.now()}`,
          args: [{ cluster: cluster({ pinnedSha256: 'AB'.repeat(32) }) }],
        }),
      );
      expect(failure.type).toBe('TlsTrustError');
      expect(failure.message).toContain('does not match api.tls.pinnedSha256');
      expect(Date.now() - started).toBeLessThan(10_000); // no retry back-off
    });
  });

  it('trusts a self-signed Webapp certificate given as the CA file, and only that certificate', async () => {
    const own = makeSelfSignedCert();
    const other = makeSelfSignedCert();
    const selfSigned = await new FakeWebapp(own, PASSWORD).start();
    selfSigned.health = seed['A9-ha-registered'].health;
    try {
      const spec = (caFile: string): ClusterSpecInput => ({
        ...cluster({ caFile }),
        api: { baseUrl: selfSigned.url, passwordRef: 'env:WABA_TEST_PASSWORD', tls: { caFile } },
      });
      await withWorker(activities(), async ({ client, taskQueue }) => {
        const result = (await client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/self-signed-${Date.now()}`,
          args: [{ cluster: spec(own.caFile) }],
        })) as HealthCheckResult;
        expect(result.verdict).toBe('ha-connected');
        // Verification stays on: another self-signed certificate is not trusted.
        const failure = await failureOf(
          client.workflow.execute('healthCheck', {
            taskQueue,
            workflowId: `lab/healthCheck/self-signed-other-${Date.now()}`,
            args: [{ cluster: spec(other.caFile) }],
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
    await withWorker(activities(), async ({ client, taskQueue }) => {
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/untrusted-${Date.now()}`,
          args: [{ cluster: cluster({ caFile: otherCa.caFile }) }],
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
        args: [{ cluster: cluster({ caFile: certs.caFile }) }],
      })) as HealthCheckResult;
      expect(result.verdict).toBe('ha-connected');
    });
    expect(webapp.healthCalls - calls).toBe(2);
  });

  it('fails at once with a clear message when the admin password is wrong', async () => {
    const wrongPassword = createActivities(
      defaultDeps({ secrets: createSecretResolver({ WABA_TEST_PASSWORD: 'not-the-password' }) }),
    );
    await withWorker(wrongPassword, async ({ client, taskQueue }) => {
      const failure = await failureOf(
        client.workflow.execute('healthCheck', {
          taskQueue,
          workflowId: `lab/healthCheck/badpw-${Date.now()}`,
          args: [{ cluster: cluster({ caFile: certs.caFile }) }],
        }),
      );
      expect(failure.type).toBe('WabaApiError1005');
      expect(failure.message).toContain('login as admin at https://localhost');
      expect(failure.message).not.toContain('not-the-password');
    });
  });

  it('fails at once, naming the worker variable, when the secret reference cannot be resolved', async () => {
    await withWorker(
      createActivities(defaultDeps({ secrets: createSecretResolver({}) })),
      async ({ client, taskQueue }) => {
        const failure = await failureOf(
          client.workflow.execute('healthCheck', {
            taskQueue,
            workflowId: `lab/healthCheck/nosecret-${Date.now()}`,
            args: [{ cluster: cluster({ caFile: certs.caFile }) }],
          }),
        );
        expect(failure.type).toBe('SecretError');
        expect(failure.message).toBe(
          'secret env:WABA_TEST_PASSWORD: environment variable WABA_TEST_PASSWORD is not set on the worker',
        );
      },
    );
  });

  it('a malformed input fails the run within seconds, every bad field named, before any activity', async () => {
    const calls = { health: 0 };
    const counting = {
      wabaHealth: async () => {
        calls.health++;
        return { health: {} };
      },
    };
    await withWorker(counting, async ({ client, taskQueue }) => {
      const bad = {
        cluster: {
          name: 'Prod!',
          hosts: [{ name: 'web1', address: '10.0.0.1', roles: ['web'] }],
          api: { baseUrl: 'https://10.0.0.1:9090', passwordRef: 'env:X', tls: {} },
        },
      };
      const started = Date.now();
      const failure = await failureOf(
        client.workflow.execute('healthCheck', { taskQueue, workflowId: `bad-${Date.now()}`, args: [bad] }),
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('cluster.name: expected a name of lowercase letters');
      expect(failure.message).toContain(
        'cluster.hosts[0].roles[0]: Invalid option: expected one of "webapp"|"master"|"coreapp"',
      );
      expect(failure.message).toContain('cluster.api.tls: give exactly one of caFile or pinnedSha256');
    });
    expect(calls.health).toBe(0);
  });
});
