// The worker against a production-shaped Temporal: the temporal-server binary on PostgreSQL
// (scripts/temporal-server), not the dev server. haSetup and then an upgrade of the PostgreSQL
// cluster on the lab, with the worker SIGKILLed mid-compose and the server restarted at a gate and
// again mid-upgrade; every side effect happens once (the simulator's counters) and each service
// ends with one container (creation times).
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_OF_ENGINE } from '../../lab/inventory';
import { labState, up } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import { startRunbook } from '../../src/client/runbooks';
import {
  type ProductionServer,
  productionServerUnavailable,
  startProductionServer,
} from '../support/production-server';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { approve, labSigner, sendCode } from './decide';
import {
  appContainersCreated,
  gateOpen,
  labStats,
  smsCode,
  statusOf,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = (await labUnavailable()) ?? productionServerUnavailable();
const TASK_QUEUE = `waba-prod-server-${process.pid}`;
const ENGINE = 'PGSQL';
const CLUSTER = CLUSTER_OF_ENGINE[ENGINE];

describe.skipIf(unavailable)('the worker against temporal-server on PostgreSQL', () => {
  let server: ProductionServer | undefined;
  let worker: WorkerProcess | undefined;
  let connection: Connection | undefined;
  let client: Client;
  const inventory = new TestInventory('prod-server');
  const startWorker = async () => {
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: server?.address ?? '',
      WABA_TASK_QUEUE: TASK_QUEUE,
      WABA_INVENTORY: inventory.file,
    });
  };
  const pendingActivity = (id: string, type: string) =>
    until(
      `${type} in flight in ${id}`,
      () => client.workflow.getHandle(id).describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === type),
      180_000,
    );
  /** App containers created on the lab's hosts since `since` (ms), counted per host and service. */
  async function containersCreatedSince(since: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const hosts = labState().hosts.filter((h) => !h.spare);
    for (const c of (await Promise.all(hosts.map((h) => appContainersCreated(h.name)))).flat())
      if (c.created >= since) counts[`${c.host}/${c.service}`] = (counts[`${c.host}/${c.service}`] ?? 0) + 1;
    return counts;
  }

  beforeAll(async () => {
    await up({ log: () => {} });
    server = await startProductionServer();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    await inventory.setVersion(CLUSTER, '2.23.4');
    await startWorker();
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await connection?.close();
    await server?.down();
  });

  it('haSetup: worker SIGKILLed mid-compose, server restarted at the register gate; registered once', async () => {
    await cleanSlate(ENGINE);
    const before = await labStats(ENGINE);
    const started = Date.now();
    const { workflowId: id } = await startRunbook(
      client,
      TASK_QUEUE,
      'haSetup',
      { cluster: CLUSTER, requestedBy: 'carol' },
      undefined,
      labSigner('carol'),
    );
    await pendingActivity(id, 'composeUp');
    await worker?.kill('SIGKILL');
    await startWorker();

    await gateOpen(client, id, 'register', 180_000);
    await server?.restart();
    // The query answers once the restarted server has loaded the run again.
    await gateOpen(client, id, 'register', 60_000);
    await approve(client, id, 'register', 'alice');
    await until(
      'the code wait',
      () => statusOf(client, id),
      (s) => s.awaitingCode === true,
      60_000,
    );
    await sendCode(client, id, await smsCode(ENGINE), 'alice');
    const result = (await client.workflow.getHandle(id).result()) as { health: { verdict: string } };
    expect(result.health.verdict).toBe('ha-connected');

    const after = await labStats(ENGINE);
    expect((after.register ?? 0) - (before.register ?? 0)).toBe(1);
    expect((after.verify ?? 0) - (before.verify ?? 0)).toBe(1);
    // One container per host and service, none re-created by the retried step.
    const created = await containersCreatedSince(started - 1_000);
    expect(Object.keys(created).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(created).every((n) => n === 1)).toBe(true);
    // The run is found through the search attributes the script registered (SQL visibility).
    await until(
      'the run in visibility',
      async () => {
        const found: string[] = [];
        for await (const w of client.workflow.list({
          query: `WabaCluster = "${CLUSTER}" AND WabaRunbook = "haSetup"`,
        }))
          found.push(w.workflowId);
        return found;
      },
      (found) => found.includes(id),
      30_000,
    );
  });

  it('upgrade 2.23.4 -> 2.29.1: server restarted mid-upgrade; one backup, one new container per service', async () => {
    const before = await labStats(ENGINE);
    const started = Date.now();
    const { workflowId: id } = await startRunbook(
      client,
      TASK_QUEUE,
      'upgrade',
      {
        cluster: CLUSTER,
        toVersion: '2.29.1',
        requestedBy: 'carol',
        rollback: 'auto',
        timeouts: { health: '60s' },
      },
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, id, 'upgrade', 180_000);
    await approve(client, id, 'upgrade', 'alice');
    await pendingActivity(id, 'composeUp');
    await server?.restart();
    const result = (await client.workflow.getHandle(id).result()) as {
      toVersion: string;
      hosts: { action: string }[];
      health: { verdict: string };
    };
    expect(result.toVersion).toBe('2.29.1');
    expect(result.hosts.every((h) => h.action === 'upgraded')).toBe(true);
    expect(result.health.verdict).not.toBe('degraded');

    const after = await labStats(ENGINE);
    expect((after.backup ?? 0) - (before.backup ?? 0)).toBe(1);
    const created = await containersCreatedSince(started - 1_000);
    expect(Object.keys(created).length).toBe(result.hosts.length);
    expect(Object.values(created).every((n) => n === 1)).toBe(true);
  });
});
