// Scale-out on the lab (issue 14): two worker processes poll one task queue, with the payload codec
// on; the one running a compose `up -d` (haSetup) and then the one running the child's `docker wait`
// (upgrade) is SIGKILLed; the other finishes every run, and the lab's own counters show each side
// effect once (register, verify, the dbupgrade job). The upgrade is approved through ChatOps, whose
// client uses the codec: the approval of an encrypted run is answered and stored encrypted.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RELAY_KEY, RELAY_NAME } from '../../lab/inventory';
import { up } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import { createChatopsServer } from '../../src/chatops/server';
import { startRunbook } from '../../src/client/runbooks';
import { keyFileSigner } from '../../src/signing/signer';
import { connectClient, type TemporalClient } from '../../src/temporal-client';
import { historyText } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { approve, labSigner, sendCode } from './decide';
import {
  chatWebhook,
  gateOpen,
  labStats,
  labWorker,
  smsCode,
  statusOf,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-scale-${process.pid}`;
const CODEC = { WABA_CODEC_KEYS: `lab:${randomBytes(32).toString('base64')}` };
const HOOK_SECRET = `hook-${randomUUID()}`;

describe.skipIf(unavailable)(
  'two workers on one task queue, one SIGKILLed mid-run, payloads encrypted',
  () => {
    const inventory = new TestInventory('scale-out');
    let temporal: TemporalClient;
    let workers: WorkerProcess[] = [];
    let chatops: ReturnType<typeof createChatopsServer> | undefined;
    let chatopsUrl = '';
    const stats = () => labStats('MYSQL');
    const delta = (after: Record<string, number>, before: Record<string, number>, k: string) =>
      (after[k] ?? 0) - (before[k] ?? 0);
    const chat = (user: string, text: string) => chatWebhook(chatopsUrl, HOOK_SECRET, user, text);

    /** The worker process whose identity (`<pid>@<host>`) last took `activity` of run `id`: killed. */
    async function killWorkerRunning(id: string, activity: string): Promise<void> {
      const pending = await until(
        `${activity} in flight`,
        async () =>
          (await temporal.client.workflow.getHandle(id).describe()).raw.pendingActivities?.find(
            (a) => a.activityType?.name === activity && a.lastWorkerIdentity,
          ),
        (a) => Boolean(a),
        180_000,
      );
      const pid = Number(String(pending?.lastWorkerIdentity).split('@')[0]);
      const victim = workers.find((w) => w.child.pid === pid);
      if (!victim) throw new Error(`no test worker has pid ${pid} (identity ${pending?.lastWorkerIdentity})`);
      await victim.kill('SIGKILL');
      workers = workers.filter((w) => w !== victim);
    }

    beforeAll(async () => {
      await up({ log: () => {} });
      await cleanSlate('MYSQL');
      temporal = await connectClient({ env: { TEMPORAL_ADDRESS: inject('temporalAddress'), ...CODEC } });
      await inventory.write((doc) => {
        const lab = doc.clusters.lab;
        if (lab) lab.version = '2.29.1';
      });
      workers = await Promise.all([
        labWorker(TASK_QUEUE, inventory, CODEC),
        labWorker(TASK_QUEUE, inventory, CODEC),
      ]);
      chatops = createChatopsServer({
        client: temporal.client,
        webhookSecret: HOOK_SECRET,
        identities: new Map([['U-BOB', 'bob']]),
        relay: { name: RELAY_NAME, signer: keyFileSigner(RELAY_KEY) },
        log: () => {},
      });
      await new Promise<void>((resolve) => chatops?.listen(0, '127.0.0.1', resolve));
      chatopsUrl = `http://127.0.0.1:${(chatops.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      chatops?.close();
      chatops?.closeAllConnections();
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      await temporal?.close();
    });

    it('haSetup and an upgrade complete on the surviving worker, each side effect once', async () => {
      const client = temporal.client;
      const before = await stats();
      const { workflowId: ha } = await startRunbook(
        client,
        TASK_QUEUE,
        'haSetup',
        { cluster: 'lab', requestedBy: 'carol' },
        undefined,
        labSigner('carol'),
      );
      await killWorkerRunning(ha, 'composeUp');
      expect(workers).toHaveLength(1);
      await gateOpen(client, ha, 'register', 180_000);
      await approve(client, ha, 'register', 'alice');
      await until(
        'the code wait',
        () => statusOf(client, ha),
        (s) => s.awaitingCode === true,
        120_000,
      );
      await sendCode(client, ha, await smsCode('MYSQL'), 'alice');
      const setUp = (await client.workflow.getHandle(ha).result()) as { health: { verdict: string } };
      expect(setUp.health.verdict).toBe('ha-connected');

      // A second worker again, then an upgrade approved from chat; the worker waiting on the
      // dbupgrade job is killed.
      workers.push(await labWorker(TASK_QUEUE, inventory, CODEC));
      const { workflowId: upgrade } = await startRunbook(
        client,
        TASK_QUEUE,
        'upgrade',
        {
          cluster: 'lab',
          toVersion: '2.29.3',
          requestedBy: 'carol',
          timeouts: { health: '40s', dbUpgrade: '5m' },
        },
        undefined,
        labSigner('carol'),
      );
      await gateOpen(client, upgrade, 'upgrade', 180_000);
      expect(await chat('U-BOB', 'pending')).toContain(`${upgrade} · gate upgrade (0/1)`);
      expect(await chat('U-BOB', `approve ${upgrade} upgrade CHG-7 from chat`)).toBe(
        `approved gate upgrade of ${upgrade} (1/1)`,
      );
      await killWorkerRunning(`${upgrade}/dbUpgrade`, 'waitDbUpgrade');
      const upgraded = (await client.workflow.getHandle(upgrade).result()) as {
        dbUpgrade: { exitCode: number };
        health: { verdict: string };
        hosts: { action: string }[];
        decisions: { by: string; via?: string }[];
      };
      expect(upgraded.dbUpgrade.exitCode).toBe(0);
      expect(upgraded.health.verdict).toBe('ha-connected');
      expect(upgraded.hosts.every((h) => h.action === 'upgraded')).toBe(true);
      expect(upgraded.decisions).toEqual([expect.objectContaining({ by: 'bob', via: 'webhook:U-BOB' })]);
      // Stored encrypted: the chat comment is nowhere in the raw history.
      const raw = historyText(await client.workflow.getHandle(upgrade).fetchHistory());
      expect(raw).toContain(Buffer.from('binary/encrypted').toString('base64')); // metadata stays base64
      expect(raw).not.toContain('CHG-7');

      const after = await stats();
      expect(delta(after, before, 'register')).toBe(1);
      expect(delta(after, before, 'verify')).toBe(1);
      expect(delta(after, before, 'dbupgrade')).toBe(1);
    });
  },
);
