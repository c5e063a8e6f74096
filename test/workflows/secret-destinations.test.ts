// TRUST.md rule 2, with the worker's real activities: a secret goes only where the inventory names
// it for that cluster. A local TLS listener stands for an attacker's address; inputs of every
// runbook try to point the worker at it (inline specs, moved fields, URLs in any field) and it
// receives nothing. A cluster whose inventory entry names the listener proves the listener would
// have seen the password (the test can fail). The login token cache is keyed by the certificate's
// trust too: the same URL under other TLS settings logs in again.
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createActivities, defaultDeps } from '../../activities';
import { createSecretResolver } from '../../src/secrets';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { runFailure, within } from '../support/fake-cluster';
import { FakeWebapp } from '../support/fake-webapp';
import { testClusterEntry, testInventoryStore } from '../support/inventory';
import { historyText, withWorker } from '../support/temporal';

const PASSWORD = 'Adm1n-Secret-Value-42';

/** An HTTPS server that records every connection and every request it gets, and answers 404. */
async function listener(certs: TestCerts) {
  const seen = { connections: 0, requests: [] as { url?: string; authorization?: string }[] };
  const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    seen.requests.push({ url: req.url, authorization: req.headers.authorization });
    req.resume();
    res.writeHead(404).end();
  });
  server.on('connection', () => {
    seen.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function entryFor(url: string, certs: TestCerts, tls?: object) {
  const entry = testClusterEntry();
  entry.api = {
    baseUrl: url,
    passwordRef: 'env:WABA_TEST_PASSWORD',
    tls: tls ?? { caFile: certs.caFile },
  };
  return entry;
}

describe('secrets go only where the inventory says', () => {
  it('no input of any runbook makes the worker send a secret to an address the inventory does not name', async () => {
    const certs = makeTestCerts();
    const webapp = await new FakeWebapp(certs, PASSWORD).start();
    webapp.health = {
      'your-webapp1-hostname:0123456789ab': { gateway_status: 'unregistered', role: 'primary_master' },
    };
    const trap = await listener(certs);
    const inventory = testInventoryStore({
      lab: entryFor(webapp.url, certs),
      // The same Webapp trusted by its pinned certificate instead of the CA: another trust, another token.
      'lab-pinned': entryFor(webapp.url, certs, { pinnedSha256: certs.fingerprint }),
      // The control: an inventory entry that names the listener.
      trap: entryFor(trap.url, certs),
    });
    const env = {
      WABA_TEST_PASSWORD: PASSWORD,
      AWS_SECRET_ACCESS_KEY: 'aws-secret-never-sent',
      DB_PASSWORD: 'db-secret-never-sent',
    };
    const activities = createActivities(
      defaultDeps(inventory, { secrets: createSecretResolver(env), notify: undefined }),
    );
    const redirect = {
      name: 'lab',
      api: { baseUrl: trap.url, passwordRef: 'env:WABA_TEST_PASSWORD', tls: { caFile: certs.caFile } },
    };
    const attempts: [string, Record<string, unknown>][] = [
      ['healthCheck', { cluster: redirect }],
      ['healthCheck', { cluster: 'lab', api: redirect.api }],
      ['healthCheck', { cluster: 'lab', baseUrl: trap.url }],
      ['haSetup', { cluster: redirect, requestedBy: 'carol' }],
      [
        'haSetup',
        { cluster: 'lab', requestedBy: 'carol', registration: { certRef: 'env:AWS_SECRET_ACCESS_KEY' } },
      ],
      [
        'multiconnectExpand',
        { cluster: 'lab', shards: 2, requestedBy: 'carol', passwordRef: 'env:WABA_TEST_PASSWORD' },
      ],
      [
        'upgrade',
        {
          cluster: 'lab',
          toVersion: '2.29.3',
          requestedBy: 'carol',
          backup: { passwordRef: 'env:AWS_SECRET_ACCESS_KEY' },
        },
      ],
      ['upgrade', { cluster: 'lab', toVersion: '2.29.3', requestedBy: trap.url }],
      ['dbUpgrade', { cluster: 'lab', toVersion: '2.29.3', host: trap.url }],
      [
        'dbUpgrade',
        { cluster: 'lab', toVersion: '2.29.3', db: { host: '127.0.0.1', passwordRef: 'env:DB_PASSWORD' } },
      ],
      ['mediaChown', { cluster: redirect }],
      ['uninstall', { cluster: 'lab', requestedBy: 'carol', ssh: { privateKeyRef: 'env:DB_PASSWORD' } }],
      ['collectLogs', { cluster: 'lab', since: trap.url }],
      ['haDrill', { cluster: 'lab', target: trap.url, takeoverSlo: '30s', requestedBy: 'carol' }],
    ];
    try {
      await withWorker(activities, async ({ client, taskQueue }) => {
        const start = (type: string, id: string, input: unknown) =>
          client.workflow.start(type, {
            taskQueue,
            workflowId: `secrets/${id}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
            args: [input],
            workflowExecutionTimeout: '1m',
          });
        const refused = await Promise.all(
          attempts.map(async ([type, input], i) => {
            const { failure } = await runFailure(await start(type, `attempt-${i}`, input), 30_000);
            return `${type}: ${failure.type}`;
          }),
        );
        expect(refused).toEqual(attempts.map(([type]) => `${type}: InvalidInput`));
        expect(trap.seen).toEqual({ connections: 0, requests: [] });
        expect(webapp.logins).toBe(0);

        // The cluster the inventory names: the password goes to its Webapp, and into no history.
        const ok = await start('healthCheck', 'lab', { cluster: 'lab' });
        await within(30_000, 'healthCheck on lab', ok.result());
        expect(webapp.logins).toBe(1);
        expect(trap.seen.connections).toBe(0);
        const history = historyText(await ok.fetchHistory());
        expect(history).not.toContain(PASSWORD);
        expect(history).toContain('env:WABA_TEST_PASSWORD'); // the reference, recorded as resolved

        // Same URL, other trust: the cached token is not handed over; the worker logs in again.
        await within(
          30_000,
          'healthCheck on lab-pinned',
          (await start('healthCheck', 'pinned', { cluster: 'lab-pinned' })).result(),
        );
        expect(webapp.logins).toBe(2);
        await within(
          30_000,
          'healthCheck on lab again',
          (await start('healthCheck', 'lab-again', { cluster: 'lab' })).result(),
        );
        expect(webapp.logins).toBe(2);

        // The CA file replaced on the worker's disk (a rotation, the old CA withdrawn): trust is the
        // file's content, not its path, so neither the open connections nor the token of the old
        // CA are used; the Webapp's certificate is not the new CA's, and the run fails on TLS.
        const original = readFileSync(certs.caFile);
        writeFileSync(certs.caFile, readFileSync(makeTestCerts().caFile));
        try {
          const rotated = await runFailure(
            await start('healthCheck', 'rotated-ca', { cluster: 'lab' }),
            60_000,
          );
          expect(rotated.failure.message).toMatch(/certificate|self.signed|issuer/i);
          expect(rotated.failure.message).not.toContain(PASSWORD);
        } finally {
          writeFileSync(certs.caFile, original);
        }
        expect(webapp.logins).toBe(2);

        // The control: where the inventory names the listener, the listener does get the password.
        const control = await runFailure(await start('healthCheck', 'trap', { cluster: 'trap' }), 30_000);
        expect(control.failure.message).toContain(trap.url);
        expect(control.failure.message).not.toContain(PASSWORD);
        expect(trap.seen.connections).toBeGreaterThan(0);
        const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
        expect(trap.seen.requests.map((r) => r.authorization)).toContain(basic);
      });
    } finally {
      await trap.close();
      await webapp.close();
    }
  });
});
