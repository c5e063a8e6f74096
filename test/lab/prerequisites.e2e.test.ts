// The seed's prerequisites on the lab (issue 18): each fault stops haSetup at its prerequisites
// stage, naming the host and the rule, before any container exists on any host and before any API
// call; a slow database link is a warning of the read-only preflightCheck. The faults are real:
// relays (lab/relay.ts) in front of the lab's MariaDB, a 700 directory in the shared media tree.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORTS } from '../../lab/database';
import { inHost } from '../../lab/hosts';
import { labState, up } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import { DB_HOST, MEDIA_MOUNT } from '../../lab/paths';
import { type Relay, relayToDatabase } from '../../lab/relay';
import { startRunbook } from '../../src/client/runbooks';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { labSigner } from './decide';
import { appContainersCreated, cli, failureOf, labStats, labWorker, TestInventory } from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-prereq-${process.pid}`;
const RELAY_PORT = { slow: 13306, oldVersion: 13307 };

describe.skipIf(unavailable)('prerequisite checks on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const relays: Relay[] = [];
  const inventory = new TestInventory('prereq');
  const appHosts = () => labState().hosts.filter((h) => !h.spare);
  const core1 = () => labState().hosts.find((h) => h.name === 'core1') as { name: string; address: string };

  /** A copy of the lab's MySQL cluster whose database is at `host`:`port`. */
  const clusterWithDb = (name: string, host: string, port: number) =>
    inventory.addCluster(name, (entry) => {
      const db = entry.db as { host: string; port: number };
      db.host = host;
      db.port = port;
    });

  /** haSetup of `cluster` from a clean slate: its failure, and that nothing was started or called. */
  async function haSetupStopped(cluster: string) {
    await cleanSlate('MYSQL');
    const before = await labStats('MYSQL');
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'haSetup',
      { cluster, requestedBy: 'carol' },
      undefined,
      labSigner('carol'),
    );
    const failure = await failureOf(client, workflowId);
    expect(failure.type).toBe('PrerequisiteFailed');
    for (const h of appHosts()) expect(await appContainersCreated(h.name), h.name).toEqual([]);
    expect(await labStats('MYSQL')).toEqual(before);
    return failure.message;
  }

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
  });
  afterAll(async () => {
    for (const r of relays) await r.stop();
    await inHost('web1', ['rm', '-rf', `${MEDIA_MOUNT}/prereq-e2e`]).catch(() => {});
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('a database on an app host: core1 named, rule db-host', async () => {
    // The database answers on core1's address, as if it ran there.
    const c1 = core1();
    relays.push(await relayToDatabase(c1, PORTS.MYSQL, 'MYSQL'));
    await clusterWithDb('prereq-dbhost', c1.address, PORTS.MYSQL);
    expect(await haSetupStopped('prereq-dbhost')).toMatch(
      /core1: db-host: db\.host 198\.18\.77\.14 is this host/,
    );
  });

  it('a server reporting MySQL 5.6.51: rule db-engine-version with the version read', async () => {
    relays.push(await relayToDatabase(DB_HOST, RELAY_PORT.oldVersion, 'MYSQL', { mysqlVersion: '5.6.51' }));
    await clusterWithDb('prereq-version', DB_HOST.address, RELAY_PORT.oldVersion);
    expect(await haSetupStopped('prereq-version')).toMatch(/\w+: db-engine-version: .*5\.6\.51/);
  });

  it('a database port that does not answer: every app host named, rule db-reachable', async () => {
    await clusterWithDb('prereq-closed', DB_HOST.address, 13399);
    const message = await haSetupStopped('prereq-closed');
    for (const h of appHosts()) expect(message).toContain(`${h.name}: db-reachable:`);
  });

  it('a 700 directory deep in the media tree: rule media-tree with its path and mode', async () => {
    // The containers read media as another user: a 700 directory under the mount hides its files.
    await inHost('web1', ['mkdir', '-p', '-m', '755', `${MEDIA_MOUNT}/prereq-e2e/outer`]);
    await inHost('web1', ['mkdir', '-m', '700', `${MEDIA_MOUNT}/prereq-e2e/outer/private`]);
    // The lab's clusters keep media in a Docker volume: this one bind-mounts the shared directory.
    await inventory.addCluster('prereq-media', (entry) => {
      (entry as { media?: unknown }).media = { hostPath: MEDIA_MOUNT };
    });
    try {
      expect(await haSetupStopped('prereq-media')).toMatch(
        new RegExp(`\\w+: media-tree: .*${MEDIA_MOUNT}/prereq-e2e/outer/private \\(700\\)`),
      );
    } finally {
      await inHost('web1', ['rm', '-rf', `${MEDIA_MOUNT}/prereq-e2e`]);
    }
  });

  it("the topology lint on the lab's 1/2/2: Masters and Webapps warned with the guide's advice", async () => {
    const { code, out } = await cli(TASK_QUEUE, 'inventory', 'check', inventory.file);
    expect(code).toBe(0);
    expect(out).toMatch(/cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; /);
    expect(out).toMatch(/cluster lab: Webapps: /);
  });

  it('a slow database link: preflightCheck warns db-latency for every app host and starts nothing', async () => {
    relays.push(await relayToDatabase(DB_HOST, RELAY_PORT.slow, 'MYSQL', { delayMs: 25 }));
    await clusterWithDb('prereq-slow', DB_HOST.address, RELAY_PORT.slow);
    await cleanSlate('MYSQL');
    const { workflowId } = await startRunbook(client, TASK_QUEUE, 'preflightCheck', {
      cluster: 'prereq-slow',
    });
    const result = (await client.workflow.getHandle(workflowId).result()) as {
      failures: { host: string; rule: string }[];
      warnings: { host: string; rule: string; detail: string }[];
    };
    expect(result.failures).toEqual([]);
    const slow = result.warnings.filter((w) => w.rule === 'db-latency').map((w) => w.host);
    expect(slow).toEqual(expect.arrayContaining(appHosts().map((h) => h.name)));
    for (const h of appHosts()) expect(await appContainersCreated(h.name)).toEqual([]);
  });

  /** preflightCheck of `cluster` (read-only): its report. */
  async function preflightReport(cluster: string) {
    const { workflowId } = await startRunbook(client, TASK_QUEUE, 'preflightCheck', { cluster });
    return (await client.workflow.getHandle(workflowId).result()) as {
      failures: { host: string; rule: string; detail: string }[];
      warnings: { host: string; rule: string; detail: string }[];
    };
  }

  it("PostgreSQL: the version read by a login through web1 (the lab's 15: newer than the seed's set, a warning)", async () => {
    const installed = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0];
    const result = await preflightReport('lab-pg');
    expect(result.failures).toEqual([]);
    const version = result.warnings.filter((w) => w.rule === 'db-engine-version');
    expect(version).toEqual([
      {
        host: 'web1',
        rule: 'db-engine-version',
        detail: expect.stringMatching(
          new RegExp(`^PostgreSQL ${installed}\\.\\d+ .*is newer than the seed's set`),
        ),
      },
    ]);
  });

  it('PostgreSQL with a wrong password: the version is "not read", the login named, the password not', async () => {
    const wrong = path.join(os.tmpdir(), `waba-prereq-${process.pid}-wrong-db-password`);
    writeFileSync(wrong, 'not-the-lab-password-9271', { mode: 0o600 });
    try {
      await inventory.addCluster(
        'prereq-pg-wrong',
        (entry) => {
          (entry.db as { passwordRef: string }).passwordRef = `file:${wrong}`;
        },
        'lab-pg',
      );
      const result = await preflightReport('prereq-pg-wrong');
      expect(result.failures).toEqual([]);
      const version = result.warnings.filter((w) => w.rule === 'db-engine-version');
      expect(version).toHaveLength(1);
      expect(version[0]?.detail).toMatch(
        /^not read: logging in as \S+ from web1 failed: .*password authentication failed/,
      );
      expect(JSON.stringify(result)).not.toContain('not-the-lab-password-9271');
    } finally {
      rmSync(wrong, { force: true });
    }
  });
});
