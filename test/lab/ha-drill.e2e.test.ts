// haDrill end to end on the lab: real worker process, real SSH, Docker and docker-compose with the
// unmodified upstream file, the simulator coordinating through MariaDB. HA is set up by haSetup;
// the operator starts, inspects and approves the drill through the CLI.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, labState, up } from '../../lab/lab';
import { startRunbook } from '../../src/client/runbooks';
import type { HaDrillResult } from '../../workflows/ha-drill';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { keyOf } from './decide';
import { cli, gateOpen, inputFile, labWorker, setUpHa, TestInventory } from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-drill-${process.pid}`;
/** The lab's fast failover timing (the product's default is 30 s). */
const FAST_UNHEALTHY_INTERVAL = 5;

describe.skipIf(unavailable)('haDrill on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const inventory = new TestInventory('drill');
  const hostOfAddress = (address: string) => labState().hosts.find((h) => h.address === address)?.name;

  beforeAll(async () => {
    await up({ log: () => {}, unhealthyInterval: FAST_UNHEALTHY_INTERVAL });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('stops the connected Coreapp, measures the takeover, brings it back as a standby, cluster healthy', async () => {
    const setUp = await setUpHa(client, TASK_QUEUE, 'lab');
    const connectedBefore = setUp.health.nodes.find(
      (n) => n.role === 'coreapp' && n.gatewayStatus === 'connected',
    );
    const target = hostOfAddress(connectedBefore?.host ?? '');
    expect(target).toMatch(/^core\d$/);
    const wacoreOn = async (host: string) =>
      (await docker(host, ['ps', '-q', '--filter', 'label=com.docker.compose.service=wacore'])).trim();
    const containerBefore = await wacoreOn(target as string);
    expect(containerBefore).not.toBe('');

    const input = {
      cluster: 'lab',
      target: 'connected',
      takeoverSlo: '45s',
      requestedBy: 'carol',
      timeouts: { takeover: '2m', rejoin: '2m', health: '2m' },
    };
    const started = await cli(
      TASK_QUEUE,
      'start',
      'haDrill',
      '--input',
      inputFile('drill', input),
      ...keyOf('carol'),
    );
    expect(started.out).toContain('"workflowId": "lab/haDrill"');
    expect(started.code).toBe(0);
    const id = 'lab/haDrill';

    await gateOpen(client, id, 'drill');
    const status = await cli(TASK_QUEUE, 'status', id);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ stage: 'waiting for approval: drill', target });
    // The plan names the exact remote commands, with both compose variables, on the connected host.
    const { steps } = JSON.parse((await cli(TASK_QUEUE, 'plan', id)).out) as {
      steps: { host?: string; command?: string }[];
    };
    const address = connectedBefore?.host as string;
    expect(steps.filter((s) => s.command)).toEqual([
      expect.objectContaining({
        host: target,
        command: `cd /root/biz && EXTERNAL_HOSTNAME=${address} WA_API_VERSION=2.23.4 docker-compose -f prod-multiconnect-compose.yml stop wacore`,
      }),
      expect.objectContaining({
        host: target,
        command: `cd /root/biz && EXTERNAL_HOSTNAME=${address} WA_API_VERSION=2.23.4 docker-compose -f prod-multiconnect-compose.yml up -d wacore`,
      }),
    ]);
    expect(await wacoreOn(target as string)).toBe(containerBefore); // nothing stopped before approval

    const approved = await cli(TASK_QUEUE, 'approve', id, '--gate', 'drill', '--as', 'bob', ...keyOf('bob'));
    expect(approved.code).toBe(0);
    const result = (await client.workflow.getHandle(id).result()) as HaDrillResult;

    expect(result.target).toMatchObject({ host: target, healthName: address });
    expect(containerBefore.startsWith(result.target.container)).toBe(true);
    expect(result.takeoverMs).toBeGreaterThan(0);
    expect(result.takeoverMs).toBeLessThan(45_000);
    expect(result.sloMet).toBe(true);
    expect(result.takenOverBy).toHaveLength(1);
    expect(result.takenOverBy[0]).not.toBe(address);
    expect(
      result.timeline.some((t) => t.stage === 'waiting for takeover' && !t.connected.includes(address)),
    ).toBe(true);
    // The previously connected Coreapp is back, as a standby, in the same container; the cluster is healthy.
    expect(result.health.verdict).toBe('ha-connected');
    const nodes = (h: string) => result.health.nodes.filter((n) => n.role === 'coreapp' && n.host === h);
    expect(nodes(address).map((n) => n.gatewayStatus)).toEqual(['disconnected']);
    expect(nodes(result.takenOverBy[0] as string).map((n) => n.gatewayStatus)).toEqual(['connected']);
    expect(await wacoreOn(target as string)).toBe(containerBefore);

    // An independent read-only check after the run agrees.
    const check = await startRunbook(client, TASK_QUEUE, 'healthCheck', { cluster: 'lab' });
    const health = (await client.workflow.getHandle(check.workflowId).result()) as {
      verdict: string;
      nodes: { host: string; role: string; gatewayStatus: string }[];
    };
    expect(health.verdict).toBe('ha-connected');
    expect(health.nodes.find((n) => n.host === address && n.role === 'coreapp')?.gatewayStatus).toBe(
      'disconnected',
    );
  });
});
