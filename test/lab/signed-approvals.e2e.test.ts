// Approvals that prove who decided (issue 12), end to end on the lab: an upgrade whose policy wants
// two approvals, started with carol's signed request, approved by alice from the CLI (her lab key)
// and by bob through the ChatOps webhook (the endpoint relays, signing with its own key); a forged,
// a replayed, a wrong-plan and an unsigned decision are refused; someone upgrades a host by hand
// between the approvals and the upgrade, so the gate opens again; `audit` verifies the finished
// run against the inventory's keys, and fails on a tampered copy of its history.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_KEY, RELAY_NAME } from '../../lab/inventory';
import { docker, labState, up } from '../../lab/lab';
import { compose } from '../../lab/operator';
import { createChatopsServer } from '../../src/chatops/server';
import { runForDecision, signedDecision } from '../../src/client/decide';
import { keyFileSigner } from '../../src/signing/signer';
import { approveUpdate, statusQuery } from '../../workflows/api';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { keyOf, labSigner } from './decide';
import {
  chatWebhook,
  cli,
  gateOpen,
  inputFile,
  labWorker,
  setUpHa,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-signed-${process.pid}`;
const HOOK_SECRET = `hook-${randomUUID()}`;

describe.skipIf(unavailable)('signed approvals on the lab', () => {
  const inventory = new TestInventory('signed');
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  let chatops: ReturnType<typeof createChatopsServer> | undefined;
  let chatopsUrl = '';

  const status = (id: string) => client.workflow.getHandle(id).query(statusQuery);
  const chat = (user: string, text: string) => chatWebhook(chatopsUrl, HOOK_SECRET, user, text);
  /** The reason an Update was refused with. */
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return ((err as WorkflowUpdateFailedError).cause as Error).message;
  };
  const imagesOf = async (host: string) => (await docker(host, ['ps', '--format', '{{.Image}}'])).trim();

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    // The cluster runs 2.29.1; this policy wants two approvals for an upgrade.
    await inventory.write((doc) => {
      const lab = doc.clusters.lab;
      if (!lab) throw new Error('no lab cluster');
      lab.version = '2.29.1';
      (lab.approvals as { runbooks?: unknown }).runbooks = { upgrade: { minApprovals: 2 } };
    });
    worker = await labWorker(TASK_QUEUE, inventory);
    chatops = createChatopsServer({
      client,
      webhookSecret: HOOK_SECRET,
      identities: new Map([
        ['U-ALICE', 'alice'],
        ['U-BOB', 'bob'],
      ]),
      relay: { name: RELAY_NAME, signer: keyFileSigner(RELAY_KEY) },
      log: () => {},
    });
    await new Promise<void>((resolve) => chatops?.listen(0, '127.0.0.1', resolve));
    chatopsUrl = `http://127.0.0.1:${(chatops.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    chatops?.close();
    chatops?.closeAllConnections();
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('two signed approvals (CLI and ChatOps), refusals, a re-opened gate, and an audit', async () => {
    await setUpHa(client, TASK_QUEUE, 'lab');
    const haSetupRun = (await client.workflow.getHandle('lab/haSetup').describe()).runId;
    const input = {
      cluster: 'lab',
      toVersion: '2.29.3',
      requestedBy: 'carol',
      rollback: 'off',
      timeouts: { health: '1m', dbUpgrade: '5m' },
    };
    const started = await cli(
      TASK_QUEUE,
      'start',
      'upgrade',
      '--input',
      inputFile('signed-up', input),
      ...keyOf('carol'),
    );
    expect(started.code, started.out).toBe(0);
    expect(JSON.parse(started.out).signedWith).toMatch(/^SHA256:\S+$/);
    const id = 'lab/upgrade';
    await gateOpen(client, id, 'upgrade', 180_000);
    const opened = await status(id);
    expect(opened.requester).toEqual({ name: 'carol', authenticated: true });
    const firstPlan = opened.pendingGates?.[0]?.plan as string;
    expect(opened.pendingGates?.[0]).toMatchObject({ needed: 2, approvals: [] });

    // Refused at once, each with its reason, and nothing counted.
    const run = await runForDecision(client, id);
    const handle = client.workflow.getHandle(id);
    const asBob = await signedDecision(run, 'approve', labSigner('bob'), { gate: 'upgrade', as: 'bob' });
    const forged = await refusal(handle.executeUpdate(approveUpdate, { args: [{ ...asBob, by: 'alice' }] }));
    expect(forged).toMatch(/^alice: signed by key SHA256:\S+, which is not listed for that person$/);
    const replayed = await signedDecision({ ...run, runId: haSetupRun }, 'approve', labSigner('alice'), {
      gate: 'upgrade',
      as: 'alice',
    });
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [replayed] }))).toMatch(
      /^alice: the signature by SHA256:\S+ does not match this decision$/,
    );
    const otherPlan = await signedDecision(
      { ...run, gates: [{ gate: 'upgrade', plan: 'f'.repeat(64) }] },
      'approve',
      labSigner('alice'),
      { gate: 'upgrade', as: 'alice' },
    );
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [otherPlan] }))).toContain(
      'signed for plan ffffffffffff…, but gate "upgrade" shows plan',
    );
    expect(
      await refusal(handle.executeUpdate(approveUpdate, { args: [{ gate: 'upgrade', by: 'alice' }] })),
    ).toMatch(/^unsigned: a decision counts only when signed/);
    expect((await status(id)).pendingGates?.[0]?.approvals).toEqual([]);

    // alice from the CLI, with her key: 1 of 2.
    const byAlice = await cli(
      TASK_QUEUE,
      'approve',
      id,
      '--gate',
      'upgrade',
      '--comment',
      'CHG-42',
      ...keyOf('alice'),
    );
    expect(byAlice.code, byAlice.out).toBe(0);
    expect(JSON.parse(byAlice.out)).toMatchObject({ approvals: 1, needed: 2, state: 'open' });

    // Meanwhile someone upgrades web1 by hand: what the approvers saw is no longer what would run.
    const web1 = labState().hosts.find((h) => h.name === 'web1') as { address: string };
    await compose(web1.address, 'prod-multiconnect-compose.yml', '2.29.3', ['up', '-d', 'waweb']);

    // bob through the ChatOps webhook: the relay signs "bob via webhook:U-BOB".
    expect(await chat('U-BOB', 'approve lab/upgrade upgrade ok from chat')).toBe(
      'approved gate upgrade of lab/upgrade (2/2)',
    );
    // The hosts are read again before anything changes: the gate opens again, saying why.
    const reopened = await until(
      'the gate to open again',
      () => status(id),
      (s) => Boolean(s.pendingGates?.[0]?.reopenedBecause),
      120_000,
    );
    const gate = reopened.pendingGates?.[0];
    expect(gate?.reopenedBecause).toContain('web1/waweb ran v2.29.1 when the gate opened, now v2.29.3');
    expect(gate?.plan).not.toBe(firstPlan);
    expect(gate?.approvals).toEqual([]);
    // Nothing was upgraded by the run: the masters still run 2.29.1.
    expect(await imagesOf('master1')).toContain(':v2.29.1');

    // The approvals again, for the new plan: alice from the CLI, bob from chat.
    expect((await cli(TASK_QUEUE, 'approve', id, '--gate', 'upgrade', ...keyOf('alice'))).code).toBe(0);
    expect(await chat('U-BOB', 'approve lab/upgrade upgrade still ok')).toBe(
      'approved gate upgrade of lab/upgrade (2/2)',
    );
    const result = (await handle.result()) as {
      hosts: { host: string; service: string; action: string }[];
      decisions: { by: string; plan: string; via?: string }[];
    };
    expect(result.hosts.find((h) => h.host === 'web1')?.action).toBe('already on target');
    expect(result.hosts.filter((h) => h.action === 'upgraded').map((h) => h.host)).toEqual([
      'master1',
      'master2',
      'core1',
      'core2',
    ]);
    expect(
      result.decisions.map(
        (d) => `${d.by}${d.via ? ` via ${d.via}` : ''} ${d.plan === firstPlan ? 'old' : 'new'}`,
      ),
    ).toEqual(['alice old', 'bob via webhook:U-BOB old', 'alice new', 'bob via webhook:U-BOB new']);

    // The audit verifies every decision against the inventory's keys...
    const audit = await cli(TASK_QUEUE, '-o', 'text', 'audit', id, '--inventory', inventory.file);
    expect(audit.code, audit.out).toBe(0);
    expect(audit.out).toContain('every decision verifies');
    expect(audit.out).toMatch(/ok {3}\S+ start by carol \(input\) key SHA256:/);
    expect(audit.out.match(/ok {3}\S+ approve upgrade by alice \(update\)/g)).toHaveLength(2);
    expect(audit.out.match(/ok {3}\S+ approve upgrade by bob via webhook:U-BOB \(update\)/g)).toHaveLength(2);

    // ...and fails on a copy of the history where alice's comment was changed.
    const json = JSON.parse(historyToJSON(await handle.fetchHistory())) as {
      events: {
        workflowExecutionUpdateAcceptedEventAttributes?: {
          acceptedRequest: { input: { args: { payloads: { data: string }[] } } };
        };
      }[];
    };
    const tamper = json.events
      .flatMap(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.args.payloads ?? [],
      )
      .find((p) => Buffer.from(p.data, 'base64').toString().includes('CHG-42'));
    if (!tamper) throw new Error("no Update carrying alice's comment in the history");
    tamper.data = Buffer.from(
      Buffer.from(tamper.data, 'base64').toString().replace('CHG-42', 'CHG-43'),
    ).toString('base64');
    const copy = path.join(os.tmpdir(), `waba-tampered-${process.pid}.json`);
    writeFileSync(copy, JSON.stringify(json));
    const tampered = await cli(
      TASK_QUEUE,
      '-o',
      'text',
      'audit',
      id,
      '--history',
      copy,
      '--inventory',
      inventory.file,
    );
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(
      /FAIL \S+ approve upgrade by alice \(update\).*does not match this decision/,
    );
    expect(tampered.out).toContain('NOT every decision verifies');
  });
});
