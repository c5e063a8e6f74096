// multiconnectExpand end to end on the suite's real dev server and a real worker, with the cluster
// faked in-process (test/support/fake-cluster.ts). Every wait bounded.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { approve, plan, reject } from '../../src/client/runbooks';
import type { Decision } from '../../src/spec/approvals';
import type { PendingGate } from '../../workflows/lib/approval';
import type { PlanStep } from '../../workflows/lib/plan';
import type { RunStatus } from '../../workflows/lib/progress';
import type { MulticonnectExpandResult } from '../../workflows/multiconnect-expand';
import {
  type FakeCluster,
  fakeCluster,
  type MulticonnectRaw,
  multiconnectInput,
  runFailure,
  SEED,
  scenario,
  spareHost,
  stateHealth,
  until,
  updateRefusal,
  within,
} from '../support/fake-cluster';

interface McStatus extends RunStatus {
  pendingGates: PendingGate[];
  decisions: Decision[];
  refusedDecisions: unknown[];
  found: string[];
}

const statusOf = (h: WorkflowHandle) => h.query<McStatus>('status');

const gateOpen = (h: WorkflowHandle, gate = 'shards') =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
  );

const result = (h: WorkflowHandle, ms = 30_000) =>
  within(ms, `run ${h.workflowId}`, h.result() as Promise<MulticonnectExpandResult>);

const phases = (fake: FakeCluster) => fake.names().filter((n, i, all) => n !== all[i - 1]);

const twoApprovers = { approvers: ['alice', 'bob'], minApprovals: 2 };

describe('multiconnectExpand', () => {
  it('happy path: two approvals, shards 2, core3 added as a standby Coreapp', async () => {
    const fake = fakeCluster({ setUp: true, variants: { core3: 'v2' } });
    const input = multiconnectInput({ add: [spareHost('core3')], approvals: twoApprovers });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('multiconnectExpand', 'happy', input);
      const id = handle.workflowId;

      const atGate = await gateOpen(handle);
      expect(atGate.stage).toBe('waiting for approval: shards');
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'shards',
          summary: 'set 2 shards on cluster lab (now 1 connected); add core3 as standby',
          openedAt: expect.any(String),
          approvals: [],
          needed: 2,
        },
      ]);

      // The added host was checked before the gate: its key, then preflight; nothing else yet.
      expect(fake.hostKeyChecks).toEqual([{ hosts: ['core3'], attempt: 1, callsBefore: 1 }]);
      expect(fake.names()).toEqual(['wabaHealth', 'preflightHost']);

      // The plan: every stage; SSH only to the added host; wacore started there with the compose
      // preflight found (v2) and both compose variables.
      const steps = (await plan(client, id)) as PlanStep[];
      expect(steps.map((p) => `${p.stage}${p.host ? ` ${p.host}` : ''}${p.api ? `: ${p.api}` : ''}`)).toEqual(
        [
          'validate',
          'run guard',
          'health precheck: GET /v1/health',
          'host keys core3',
          'preflight core3',
          'preflight core3',
          'approval',
          'set shards: POST /v1/account/shards',
          'wait connected: GET /v1/health',
          'upload core3',
          'upload core3',
          'upload core3',
          'check containers core3',
          'start wacore core3',
          'wait standby: GET /v1/health',
          'final health: GET /v1/health',
        ],
      );
      expect(steps.find((p) => p.stage === 'start wacore')).toEqual({
        stage: 'start wacore',
        host: 'core3',
        command:
          'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp3-hostname WA_API_VERSION=2.23.4 docker compose -f x.yml up -d wacore',
      });
      expect(steps.find((p) => p.stage === 'check containers')?.command).toContain(
        'EXTERNAL_HOSTNAME=your-coreapp3-hostname WA_API_VERSION=2.23.4 docker compose -f x.yml ps ',
      );
      expect(steps.find((p) => p.stage === 'set shards')?.note).toBe('shards: 2');

      expect(await approve(client, id, 'shards', 'alice')).toEqual({
        gate: 'shards',
        accepted: true,
        approvals: 1,
        needed: 2,
        state: 'open',
      });
      const twice = await updateRefusal(approve(client, id, 'shards', 'alice'));
      expect(twice.message).toBe('alice already approved gate "shards"');
      const half = await statusOf(handle);
      expect(half.pendingGates).toEqual([expect.objectContaining({ gate: 'shards', approvals: ['alice'] })]);
      expect(fake.callsOf('wabaSetShards')).toEqual([]);

      expect(await approve(client, id, 'shards', 'bob')).toMatchObject({ approvals: 2, state: 'approved' });
      const out = await result(handle);

      expect(out).toEqual({
        cluster: 'lab',
        shards: 2,
        addedHosts: ['core3'],
        found: [],
        decisions: [
          { gate: 'shards', kind: 'approve', by: 'alice', at: expect.any(String) },
          { gate: 'shards', kind: 'approve', by: 'bob', at: expect.any(String) },
        ],
        health: {
          verdict: 'multiconnect-connected:2',
          reasons: [],
          nodes: expect.any(Array),
          connectedCoreapps: 2,
        },
      });
      expect(out.health.nodes).toContainEqual(
        expect.objectContaining({
          host: 'your-coreapp3-hostname',
          role: 'coreapp',
          gatewayStatus: 'disconnected',
        }),
      );

      const shards = fake.callsOf('wabaSetShards');
      expect(shards).toHaveLength(1);
      expect(shards[0]?.args).toMatchObject({
        cluster: 'lab',
        cc: '39',
        phoneNumber: '3331234567',
        certRef: 'env:CERT',
        shards: 2,
      });
      const ups = fake.callsOf('composeUp');
      expect(ups.map((c) => `${c.host}/${c.service}`)).toEqual(['core3/wacore']);
      expect(ups[0]?.args).toMatchObject({ version: '2.23.4', variant: 'v2' });
      expect(fake.callsOf('preflightHost').map((c) => c.host)).toEqual(['core3']);
      expect(fake.callsOf('uploadSetupFiles').map((c) => c.host)).toEqual(['core3']);
      // The added host travels with the cluster, so the activities can find its address and key.
      const cluster = fake.callsOf('preflightHost')[0]?.args.cluster as { hosts: { name: string }[] };
      expect(cluster.hosts.map((h) => h.name)).toEqual([
        'web1',
        'master1',
        'master2',
        'core1',
        'core2',
        'core3',
      ]);
      expect(phases(fake)).toEqual([
        'wabaHealth',
        'preflightHost',
        'wabaSetShards',
        'wabaHealth',
        'uploadSetupFiles',
        'composePs',
        'composeUp',
        'wabaHealth',
      ]);
      expect(fake.hostKeyChecks).toHaveLength(1);

      const done = await statusOf(handle);
      expect(done.stage).toBe('done: multiconnect-connected:2');
      expect(done.hosts.core3).toBe('standby');
      expect(done.pendingGates).toEqual([]);
    });
  });

  for (const [label, options, verdict] of [
    ['unregistered', {}, 'unregistered'],
    [
      'degraded',
      { setUp: true, health: [SEED.degraded()] },
      'degraded (your-coreapp1-hostname:753efb1cf72c reports error 1011 Service not ready; no Coreapp is connected)',
    ],
  ] as const) {
    it(`the precheck refuses a ${label} cluster with PrecheckFailed before any gate`, async () => {
      const fake = fakeCluster(options);
      await scenario(fake, async ({ start }) => {
        const handle = await start(
          'multiconnectExpand',
          `precheck-${label}`,
          multiconnectInput({ add: [spareHost('core3')] }),
        );
        const { failure } = await runFailure(handle, 20_000);
        expect(failure.type).toBe('PrecheckFailed');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toBe(`cluster lab is not ready for Multiconnect: ${verdict}`);
        expect(fake.names()).toEqual(['wabaHealth']);
        const s = await statusOf(handle);
        expect(s.stage).toBe('health precheck');
        expect(s.stagesDone.some((x) => x.startsWith('waiting for approval'))).toBe(false);
        expect(s.pendingGates).toEqual([]);
        expect(s.decisions).toEqual([]);
      });
    });
  }

  it('a rejection at the shards gate fails with ApprovalRejected before wabaSetShards', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'reject',
        multiconnectInput({ approvals: twoApprovers }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'shards', 'alice');
      await reject(client, handle.workflowId, 'shards', 'bob', 'not this week');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "shards" rejected by bob: not this week');
      expect(fake.names()).toEqual(['wabaHealth']);
    });
  });

  it('a standby that never shows up fails with HealthGateFailed naming the target and last verdict', async () => {
    // Health follows the shards but never lists the added Coreapp.
    const fake = fakeCluster({
      setUp: true,
      health: (state) => (state.shards === 2 ? SEED.twoShards() : stateHealth(state)),
    });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'no-standby',
        multiconnectInput({ add: [spareHost('core3')], timeouts: { health: '5s' } }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'shards', 'alice');
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('HealthGateFailed');
      expect(failure.message).toBe(
        'health did not reach "multiconnect-connected:2 with 1 added standby Coreapp(s)" within 5s: ' +
          'last verdict multiconnect-connected:2',
      );
      expect(fake.callsOf('composeUp').map((c) => c.host)).toEqual(['core3']);
    });
  });

  it('shards that never connect fail with HealthGateFailed before any host is added', async () => {
    const fake = fakeCluster({ setUp: true, health: [SEED.haConnected()] });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'no-shards',
        multiconnectInput({ add: [spareHost('core3')], timeouts: { health: '5s' } }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'shards', 'bob');
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('HealthGateFailed');
      expect(failure.message).toBe(
        'health did not reach "2 Coreapps connected" within 5s: last verdict ha-connected',
      );
      expect(fake.callsOf('wabaSetShards')).toHaveLength(1);
      // Checked before the gate, but never touched: no upload, no up -d.
      expect(fake.callsOf('preflightHost').map((c) => c.host)).toEqual(['core3']);
      expect(fake.callsOf('uploadSetupFiles')).toEqual([]);
      expect(fake.callsOf('composeUp')).toEqual([]);
    });
  });

  it('a host-key mismatch on an added host fails before the gate: shards untouched, nothing run on it', async () => {
    const fake = fakeCluster({ setUp: true, hostKeyMismatch: ['core3'] });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'multiconnectExpand',
        'hostkey',
        multiconnectInput({ add: [spareHost('core3')] }),
      );
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('HostKeyMismatch');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'host key of core3 (10.0.0.33) does not match ssh.knownHosts.core3; nothing was run',
      );
      expect(fake.hostKeyChecks).toEqual([{ hosts: ['core3'], attempt: 1, callsBefore: 1 }]);
      expect(fake.names()).toEqual(['wabaHealth']);
      const s = await statusOf(handle);
      expect(s.stage).toBe('host keys');
      expect(s.pendingGates).toEqual([]);
      expect(s.stagesDone.some((x) => x.startsWith('waiting for approval'))).toBe(false);
    });
  });

  it('a re-run where the added Coreapp already runs does not start it again and says so', async () => {
    const fake = fakeCluster({ setUp: true, shards: 2 });
    fake.state.up.add('core3/wacore');
    fake.state.versions.core3 = '2.23.4';
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'rerun',
        multiconnectInput({ add: [spareHost('core3')] }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'shards', 'alice');
      const out = await result(handle);
      expect(out.found).toEqual(['wacore already running on core3 (v2.23.4)']);
      expect(out.health.verdict).toBe('multiconnect-connected:2');
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.callsOf('composePs').map((c) => c.host)).toEqual(['core3']);
      const done = await statusOf(handle);
      expect(done.found).toEqual(['wacore already running on core3 (v2.23.4)']);
      expect(done.hosts.core3).toBe('standby');
    });
  });

  it('invalid inputs fail with InvalidInput naming the field, before any activity call', async () => {
    const withoutKey = multiconnectInput({ add: [spareHost('core3')] });
    delete withoutKey.cluster.ssh?.knownHosts.core3;
    const cases: [string, MulticonnectRaw, string][] = [
      [
        'shards-3',
        { ...multiconnectInput(), shards: 3 as never },
        'shards: expected one of 1, 2, 4, 8, 16, 32',
      ],
      [
        'already-in-cluster',
        multiconnectInput({ add: [spareHost('core1')] }),
        'addCoreappHosts[0].name: core1 is already in the cluster',
      ],
      ['no-pinned-key', withoutKey, 'cluster.ssh.knownHosts.core3: no pinned host key for added host core3'],
      [
        'too-many-shards',
        multiconnectInput({ add: [spareHost('core3')], shards: 4 }),
        'shards: 4 shards need at least 4 Coreapp hosts; the cluster would have 3',
      ],
      [
        'not-a-coreapp',
        multiconnectInput({ add: [{ ...spareHost('core3'), roles: ['master'] }] }),
        'addCoreappHosts[0].roles: an added host must have the role coreapp',
      ],
    ];
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ start }) => {
      const failures = await Promise.all(
        cases.map(([label, input]) =>
          start('multiconnectExpand', label, input).then((h) => runFailure(h, 20_000)),
        ),
      );
      failures.forEach(({ failure }, i) => {
        const [label, , field] = cases[i] as (typeof cases)[number];
        expect(failure.type, label).toBe('InvalidInput');
        expect(failure.nonRetryable, label).toBe(true);
        expect(failure.message, label).toContain(field);
      });
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });
});
