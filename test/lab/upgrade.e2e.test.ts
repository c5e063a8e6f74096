// upgrade (with dbUpgrade and mediaChown as children), uninstall and collectLogs end to end on the
// lab, with the unmodified upstream files; MySQL first, then PostgreSQL.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, withLabDb } from '../../lab/database';
import { cutHost, healHost } from '../../lab/hosts';
import { CLUSTER_OF_ENGINE } from '../../lab/inventory';
import { docker, labState, seedMedia, up, webContainer } from '../../lab/lab';
import { readStats, setKv } from '../../lab/sim/db';
import { startRunbook } from '../../src/client/runbooks';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { approve, keyOf, labSigner } from './decide';
import {
  appContainersCreated,
  cli,
  failureOf,
  gateOpen,
  inputFile,
  labWorker,
  setUpHa,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-upgrade-${process.pid}`;

describe.skipIf(unavailable)('upgrade, uninstall and collectLogs on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const inventory = new TestInventory('upgrade');
  const startWorker = async () => {
    worker = await labWorker(TASK_QUEUE, inventory);
  };
  const stats = (engine: Engine) => withLabDb(engine, readStats);
  /** Images of every container on the host, stopped ones included. */
  const imagesOn = async (host: string) =>
    (await docker(host, ['ps', '-a', '--format', '{{.Image}}'])).trim().split('\n').filter(Boolean);
  const appHosts = () => labState().hosts.filter((h) => !h.spare);

  /** haSetup at `version` on a clean slate (the inventory says so first), approved and registered. */
  const setUpCluster = async (engine: Engine, version: string) => {
    await inventory.setVersion(CLUSTER_OF_ENGINE[engine], version);
    return setUpHa(client, TASK_QUEUE, CLUSTER_OF_ENGINE[engine], engine);
  };

  /**
   * An upgrade of the engine's cluster from `from` (what its inventory says it runs, as an operator
   * keeps it after each upgrade) to `to`: a few lines of intent.
   */
  async function upgradeInput(engine: Engine, from: string, to: string, extra: Record<string, unknown> = {}) {
    await inventory.setVersion(CLUSTER_OF_ENGINE[engine], from);
    return {
      cluster: CLUSTER_OF_ENGINE[engine],
      toVersion: to,
      requestedBy: 'carol',
      rollback: 'auto',
      timeouts: { health: '40s', dbUpgrade: '5m' },
      ...extra,
    };
  }

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    await startWorker();
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('MySQL 2.29.1 -> 2.29.3: backup, approval, one dbupgrade job despite a worker SIGKILL, role order, media chowned to root', async () => {
    await setUpCluster('MYSQL', '2.29.1');
    const web1 = appHosts().find((h) => h.role === 'webapp') as { name: string };
    await seedMedia(web1.name, 300);
    await withLabDb('MYSQL', (db) => setKv(db, 'dbupgrade_seconds', '12'));
    const before = await stats('MYSQL');
    const upgradeStarted = Date.now();
    const started = await cli(
      TASK_QUEUE,
      'start',
      'upgrade',
      '--input',
      inputFile('up1', await upgradeInput('MYSQL', '2.29.1', '2.29.3')),
      ...keyOf('carol'),
    );
    expect(started.code).toBe(0);
    const id = 'lab/upgrade';
    await gateOpen(client, id, 'upgrade');
    expect(
      (await cli(TASK_QUEUE, 'approve', id, '--gate', 'upgrade', '--as', 'bob', ...keyOf('bob'))).code,
    ).toBe(0);

    // SIGKILL the worker while the child's `docker wait` is pending; the new worker re-attaches.
    await until(
      'docker wait pending',
      () => client.workflow.getHandle(`${id}/dbUpgrade`).describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'waitDbUpgrade'),
      120_000,
    );
    await worker?.kill('SIGKILL');
    await startWorker();

    const result = (await client.workflow.getHandle(id).result()) as {
      dbUpgrade: { exitCode: number };
      hosts: { host: string; from: string; to: string; action: string }[];
      mediaChown: { outcome: string; changed: number };
      health: { verdict: string };
      backup: { path: string; sha256: string };
    };
    await withLabDb('MYSQL', (db) => setKv(db, 'dbupgrade_seconds', '1'));
    expect(result.dbUpgrade.exitCode).toBe(0);
    expect(((await stats('MYSQL')).dbupgrade ?? 0) - (before.dbupgrade ?? 0)).toBe(1);
    expect(result.hosts.map((h) => h.host)).toEqual(['web1', 'master1', 'master2', 'core1', 'core2']);
    // `from` is what the lab's containers ran, read by the run.
    expect(
      result.hosts.every((h) => h.from === '2.29.1' && h.to === '2.29.3' && h.action === 'upgraded'),
    ).toBe(true);
    // Role order, from the lab: every app container was re-created by this upgrade, all Webapps
    // before all Masters before all Coreapps (the hosts' Docker daemons share this machine's clock).
    const created = (await Promise.all(appHosts().map((h) => appContainersCreated(h.name)))).flat();
    expect(created.map((c) => `${c.host}/${c.service}`).sort()).toEqual([
      'core1/wacore',
      'core2/wacore',
      'master1/master',
      'master2/master',
      'web1/waweb',
    ]);
    expect(created.every((c) => c.created >= upgradeStarted - 1_000)).toBe(true);
    const times = (service: string) => created.filter((c) => c.service === service).map((c) => c.created);
    expect(Math.max(...times('waweb'))).toBeLessThan(Math.min(...times('master')));
    expect(Math.max(...times('master'))).toBeLessThan(Math.min(...times('wacore')));
    expect(result.health.verdict).toBe('ha-connected');
    expect(result.mediaChown.outcome).toBe('completed');
    expect(result.mediaChown.changed).toBeGreaterThanOrEqual(900);
    const container = await webContainer(web1.name);
    const notRoot = await docker(web1.name, [
      'exec',
      container,
      'sh',
      '-c',
      'find /usr/local/wamedia/incoming /usr/local/wamedia/outgoing /usr/local/wamedia/shared ! -user root | wc -l',
    ]);
    expect(notRoot.trim()).toBe('0');
    expect(existsSync(result.backup.path)).toBe(true);
    expect(createHash('sha256').update(readFileSync(result.backup.path)).digest('hex')).toBe(
      result.backup.sha256,
    );
    for (const h of appHosts())
      expect(await imagesOn(h.name)).toEqual([expect.stringMatching(/:v2\.29\.3$/)]);
  });

  it('a failing dbupgrade job leaves every app container on the old version', async () => {
    await withLabDb('MYSQL', (db) => setKv(db, 'fault.dbupgrade_fail', '1'));
    try {
      const { workflowId } = await startRunbook(
        client,
        TASK_QUEUE,
        'upgrade',
        await upgradeInput('MYSQL', '2.29.3', '2.41.2'),
        undefined,
        labSigner('carol'),
      );
      await gateOpen(client, workflowId, 'upgrade');
      await approve(client, workflowId, 'upgrade', 'alice');
      const failure = await failureOf(client, workflowId);
      expect(failure.type).toBe('DbUpgradeFailed');
      expect(failure.message).toContain('injected lab fault');
    } finally {
      await withLabDb('MYSQL', (db) => setKv(db, 'fault.dbupgrade_fail', '0'));
    }
    for (const h of appHosts())
      expect(await imagesOn(h.name)).toEqual([expect.stringMatching(/:v2\.29\.3$/)]);
  });

  it('a health gate that fails (a Coreapp host cut off) rolls the upgraded batch back, despite a worker SIGKILL during the gate', async () => {
    const core2 = appHosts().find((h) => h.name === 'core2') as { name: string };
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'upgrade',
      await upgradeInput('MYSQL', '2.29.3', '2.41.2', { timeouts: { health: '20s', dbUpgrade: '5m' } }),
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, workflowId, 'upgrade');
    await approve(client, workflowId, 'upgrade', 'alice');
    // After the approval the run reads every host again (a host it cannot reach stops it before
    // any change); core2 is cut once the first batch (web1) is being upgraded.
    const core2Node = (
      await docker(core2.name, ['ps', '-q', '--filter', 'label=com.docker.compose.service=wacore'])
    ).trim();
    expect(core2Node).toMatch(/^[0-9a-f]{12}$/);
    await until(
      "web1's up -d in flight",
      () => client.workflow.getHandle(workflowId).describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'composeUp'),
      120_000,
    );
    await cutHost(core2.name);
    // The cluster calls a Coreapp stale unhealthy_interval after its last heartbeat; with fast SSH
    // the run could reach core2's own batch before that (its up -d then fails: unreachable). Its
    // last heartbeat is dated back two intervals, as if the cut were that old, so the gate after
    // web1 is the one that sees it (core2 cannot write a newer one while cut off; the primary
    // master forgets a node only 20 intervals after its last heartbeat).
    const staleSince = Date.now() - 2 * labState().unhealthyInterval * 1000;
    await withLabDb('MYSQL', (db) =>
      db.exec('UPDATE nodes SET last_seen = ? WHERE id LIKE ?', [staleSince, `%:${core2Node}`]),
    ).then((rows) => expect(rows).toBe(1));
    try {
      // The worker dies while the gate after web1 waits (its health stays degraded with core2 cut
      // off): a new worker's attempt goes on waiting to the same deadline, and the gate still fails.
      await until(
        'the health gate after web1 waiting',
        () => client.workflow.getHandle(workflowId).describe(),
        (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'waitWabaHealth'),
        60_000,
      );
      await worker?.kill('SIGKILL');
      await startWorker();
      const failure = await failureOf(client, workflowId);
      expect({ type: failure.type, message: failure.message }).toEqual({
        type: 'UpgradeRolledBack',
        message: expect.stringMatching(
          /^health after waweb on web1 failed: .*last verdict degraded \(.*error 1011.*\); rolled back web1 to v2\.29\.3$/,
        ),
      });
    } finally {
      await healHost(core2.name);
    }
    // The gate's wait ran again on the new worker (attempt 2), as the history records it.
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const healthWaits = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitWabaHealth')
        .map((e) => String(e.eventId)),
    );
    const retried = events.filter(
      (e) =>
        healthWaits.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) &&
        (e.activityTaskStartedEventAttributes?.attempt ?? 1) >= 2,
    );
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(await imagesOn('web1')).toEqual([expect.stringMatching(/:v2\.29\.3$/)]);
    for (const h of appHosts())
      expect(await imagesOn(h.name)).toEqual([expect.stringMatching(/:v2\.29\.3$/)]);
  });

  it('collectLogs writes one bounded, non-empty file per host and service', async () => {
    const { workflowId } = await startRunbook(client, TASK_QUEUE, 'collectLogs', {
      cluster: 'lab',
      maxBytesPerService: 3000,
    });
    const result = (await client.workflow.getHandle(workflowId).result()) as {
      files: { host: string; service: string; path: string; bytes: number }[];
    };
    expect(result.files.map((f) => `${f.host}/${f.service}`).sort()).toEqual([
      'core1/wacore',
      'core2/wacore',
      'master1/master',
      'master2/master',
      'web1/waweb',
    ]);
    for (const f of result.files) {
      expect(f.bytes).toBeGreaterThan(0);
      expect(f.bytes).toBeLessThanOrEqual(3000);
      expect(readFileSync(f.path).length).toBe(f.bytes);
      expect(f.path).toMatch(new RegExp(`debug_output-${f.host}-${f.service}\\.txt$`));
    }
  });

  it('uninstall with removeVolumes: two gates, no container left; a re-run has nothing to do', async () => {
    const input = { cluster: 'lab', removeVolumes: true, requestedBy: 'carol' };
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'uninstall',
      input,
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, workflowId, 'uninstall');
    await approve(client, workflowId, 'uninstall', 'alice');
    await gateOpen(client, workflowId, 'remove-data');
    await approve(client, workflowId, 'remove-data', 'bob');
    const result = (await client.workflow.getHandle(workflowId).result()) as {
      nothingToDo: boolean;
      volumesRemoved: boolean;
    };
    expect(result).toMatchObject({ nothingToDo: false, volumesRemoved: true });
    for (const h of labState().hosts) expect(await imagesOn(h.name)).toEqual([]);
    const again = await startRunbook(
      client,
      TASK_QUEUE,
      'uninstall',
      { ...input, removeVolumes: false },
      undefined,
      labSigner('carol'),
    );
    expect(await client.workflow.getHandle(again.workflowId).result()).toMatchObject({ nothingToDo: true });
  });

  it('PostgreSQL 2.29.1 -> 2.29.3 skips the dbupgrade job', async () => {
    await setUpCluster('PGSQL', '2.29.1');
    const before = await stats('PGSQL');
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'upgrade',
      await upgradeInput('PGSQL', '2.29.1', '2.29.3'),
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, workflowId, 'upgrade');
    await approve(client, workflowId, 'upgrade', 'bob');
    const result = (await client.workflow.getHandle(workflowId).result()) as {
      dbUpgrade: string;
      health: { verdict: string };
    };
    expect(result.dbUpgrade).toBe('skipped');
    expect(result.health.verdict).toBe('ha-connected');
    expect(((await stats('PGSQL')).dbupgrade ?? 0) - (before.dbupgrade ?? 0)).toBe(0);
    for (const h of appHosts())
      expect(await imagesOn(h.name)).toEqual([expect.stringMatching(/:v2\.29\.3$/)]);
  });
});
