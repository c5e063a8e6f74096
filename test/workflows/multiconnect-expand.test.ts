// multiconnectExpand end to end on the suite's real dev server and a real worker, with the cluster
// faked in-process (test/support/fake-cluster.ts). Every wait bounded.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/client/runbooks';
import { type GatedRunStatus, type PlanStep, statusQuery } from '../../workflows/api';
import type { MulticonnectExpandResult } from '../../workflows/multiconnect-expand';
import { approve, reject } from '../support/decide';
import {
  type FakeCluster,
  fakeCluster,
  multiconnectInput,
  runFailure,
  SEED,
  scenario,
  stateHealth,
  until,
  updateRefusal,
  within,
} from '../support/fake-cluster';
import type { RawEntry } from '../support/inventory';
import { keyOf, PLAN_HASH, signedBy } from '../support/signed-decisions';

interface McStatus extends GatedRunStatus {
  found: string[];
}

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<McStatus>;

const gateOpen = (h: WorkflowHandle, gate = 'shards') =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
  );

const result = (h: WorkflowHandle, ms = 30_000) =>
  within(ms, `run ${h.workflowId}`, h.result() as Promise<MulticonnectExpandResult>);

/** The activity types a run's history scheduled, in order. */
async function scheduledActivities(h: WorkflowHandle): Promise<string[]> {
  const history = await h.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

const phases = (fake: FakeCluster) => fake.names().filter((n, i, all) => n !== all[i - 1]);

/** The topology lint on the fake's lab (1 Webapp, 2 Masters): what falls short of the guide. */
const LAB_WARNINGS = [
  'cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures; the guide advises ' +
    '"at least 2 Webapps for 100-150 messages/s, behind a load balancer (HAProxy, Nginx, ELB) for Webapp HA"',
  'cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; the guide advises ' +
    '"3 Masters on different hosts (no more needed; they are light and may share hosts with Coreapps)"',
];
const NO_STANDBY_WARNING =
  'cluster lab: Coreapps: 2 Coreapps on 2 hosts for 2 shards tolerate 0 host failures ' +
  '(no standby: one host failure leaves a shard without a Coreapp); ' +
  'the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"';

/** The inventory's policy of lab asks two approvals (of alice and bob) at each gate. */
const twoApprovals = {
  entry: (e: RawEntry) => {
    e.approvals.minApprovals = 2;
  },
};

describe('multiconnectExpand', () => {
  it('happy path: two approvals, shards 2, core3 added as a standby Coreapp', async () => {
    const fake = fakeCluster({ setUp: true, variants: { core3: 'v2' }, ...twoApprovals });
    const input = multiconnectInput({ addCoreapps: ['core3'] });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('multiconnectExpand', 'happy', input);
      const id = handle.workflowId;

      const atGate = await gateOpen(handle);
      expect(atGate.stage).toBe('waiting for approval: shards');
      expect(atGate.inventory).toEqual(fake.stamp('multiconnectExpand'));
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'shards',
          summary: 'set 2 shards on cluster lab (now 1 connected); add core3 as standby',
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 2,
        },
      ]);

      // The added host was checked before the gate: its key, then preflight; then the prerequisites
      // from every host of the cluster as it will be; nothing else yet.
      expect(fake.hostKeyChecks).toEqual([{ hosts: ['core3'], attempt: 1, callsBefore: 1 }]);
      expect(phases(fake)).toEqual(['wabaHealth', 'preflightHost', 'prerequisitesHost']);
      expect(
        fake
          .callsOf('prerequisitesHost')
          .map((c) => c.host)
          .sort(),
      ).toEqual(['core1', 'core2', 'core3', 'master1', 'master2', 'web1']);

      // The plan: every stage; SSH only to the added host; wacore started there with the compose
      // preflight found (v2) and both compose variables.
      const steps = (await plan(client, id)) as PlanStep[];
      expect(steps.map((p) => `${p.stage}${p.host ? ` ${p.host}` : ''}${p.api ? `: ${p.api}` : ''}`)).toEqual(
        [
          'validate',
          'resolve cluster',
          'topology',
          'topology warning',
          'topology warning',
          'run guard',
          'health precheck: GET /v1/health',
          'host keys core3',
          'preflight core3',
          'preflight core3',
          'prerequisites',
          ...['web1', 'master1', 'master2', 'core1', 'core2', 'core3'].map((h) => `prerequisites ${h}`),
          'prerequisites web1',
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
      // core3 has compose v2: its project is named after the logical work dir.
      expect(steps.find((p) => p.stage === 'check containers')).toMatchObject({
        host: 'core3',
        command: expect.stringContaining('cd /root/biz && { p=$COMPOSE_PROJECT_NAME;'),
      });
      expect(steps.find((p) => p.stage === 'check containers')?.command).toContain('basename "$(pwd -L)"');
      expect(steps.find((p) => p.stage === 'set shards')?.note).toBe('shards: 2');
      // The topology lint of the cluster as it will be (core3 added, 2 shards), in the plan the
      // approvers sign and in status.
      expect(steps.find((p) => p.stage === 'topology')?.note).toBe(
        'host failures tolerated: Masters 1 (2 on 2 hosts), Coreapps 1 (3 on 3 hosts for 2 shards), Webapps 0 (1 on 1 host)',
      );
      expect(steps.filter((p) => p.stage === 'topology warning').map((p) => p.note)).toEqual(LAB_WARNINGS);
      expect(atGate.warnings).toEqual(LAB_WARNINGS);

      expect(await approve(client, id, 'shards', 'alice')).toEqual({
        gate: 'shards',
        accepted: true,
        approvals: 1,
        needed: 2,
        state: 'open',
        key: keyOf('alice'),
      });
      const twice = await updateRefusal(approve(client, id, 'shards', 'alice'));
      expect(twice.message).toBe('alice already approved gate "shards"');
      const half = await statusOf(handle);
      expect(half.pendingGates).toEqual([expect.objectContaining({ gate: 'shards', approvals: ['alice'] })]);
      expect(fake.callsOf('wabaSetShards')).toEqual([]);

      expect(await approve(client, id, 'shards', 'bob')).toMatchObject({ approvals: 2, state: 'approved' });
      const out = await result(handle);
      // Both signed the plan the gate showed.
      const shardsPlan = atGate.pendingGates[0]?.plan;

      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('multiconnectExpand'),
        shards: 2,
        addedHosts: ['core3'],
        found: [],
        decisions: [
          { gate: 'shards', kind: 'approve', ...signedBy('alice'), plan: shardsPlan, at: expect.any(String) },
          { gate: 'shards', kind: 'approve', ...signedBy('bob'), plan: shardsPlan, at: expect.any(String) },
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
      // The number and certificate are the inventory's: only the shard count comes from the run.
      expect(shards[0]?.args).toEqual({ cluster: fake.ref(), shards: 2 });
      const ups = fake.callsOf('composeUp');
      expect(ups.map((c) => `${c.host}/${c.service}`)).toEqual(['core3/wacore']);
      expect(ups[0]?.args).toMatchObject({ version: '2.23.4', variant: 'v2' });
      expect(fake.callsOf('preflightHost').map((c) => c.host)).toEqual(['core3']);
      expect(fake.callsOf('uploadSetupFiles').map((c) => c.host)).toEqual(['core3']);
      // The added host is named with the run's cluster reference: the activities find its address
      // and pinned key among the spare hosts of the spec the run resolved.
      expect(fake.callsOf('preflightHost')[0]?.args).toEqual({ cluster: fake.ref(), host: 'core3' });
      expect(fake.spec(fake.ref()).spareHosts.find((h) => h.name === 'core3')).toMatchObject({
        address: '10.0.0.33',
        externalHostname: 'your-coreapp3-hostname',
      });
      expect(phases(fake)).toEqual([
        'wabaHealth',
        'preflightHost',
        'prerequisitesHost',
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
          multiconnectInput({ addCoreapps: ['core3'] }),
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
    const fake = fakeCluster({ setUp: true, ...twoApprovals });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'reject',
        multiconnectInput({ addCoreapps: ['core3'] }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'shards', 'alice');
      await reject(client, handle.workflowId, 'shards', 'bob', 'not this week');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "shards" rejected by bob: not this week');
      // core3 was checked before the gate; the shards were never set, nothing started.
      expect(phases(fake)).toEqual(['wabaHealth', 'preflightHost', 'prerequisitesHost']);
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
        multiconnectInput({ addCoreapps: ['core3'], timeouts: { health: '5s' } }),
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
        multiconnectInput({ addCoreapps: ['core3'], timeouts: { health: '5s' } }),
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
        multiconnectInput({ addCoreapps: ['core3'] }),
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
        multiconnectInput({ addCoreapps: ['core3'] }),
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

  it('a shard count that leaves no standby Coreapp is refused before anything is touched, naming the numbers', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ start }) => {
      // 2 shards on the 2 Coreapps of the cluster, none added: nobody would stand by.
      const handle = await start('multiconnectExpand', 'no-standby-refused', multiconnectInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'invalid multiconnectExpand input: shards: 2 shards on 2 Coreapp(s) (2 in the cluster, 0 added) leave no standby Coreapp: ' +
          'one host failure would stop a shard; the guide advises "shards + X Coreapps on different hosts to tolerate X host failures": ' +
          'add a spare Coreapp host in addCoreapps, or set acceptNoStandby: true to go ahead without a standby',
      );
      // No activity with a side effect ran: the run's history schedules the inventory read and the
      // chat notification of the failure, nothing else (no health read, key check, SSH or API
      // call, not the cluster's lock).
      expect(await scheduledActivities(handle)).toEqual(['resolveCluster', 'notify']);
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
      const s = await statusOf(handle);
      expect(s.pendingGates).toEqual([]);
      expect(s.warnings).toEqual([...LAB_WARNINGS, NO_STANDBY_WARNING]);
      expect(s.lastError).toContain('leave no standby Coreapp');
    });
  });

  it('acceptNoStandby: true goes ahead without a standby; the warning stays in status and in the plan', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'multiconnectExpand',
        'no-standby-accepted',
        multiconnectInput({ acceptNoStandby: true }),
      );
      const atGate = await gateOpen(handle);
      expect(atGate.warnings).toEqual([...LAB_WARNINGS, NO_STANDBY_WARNING]);
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.filter((p) => p.stage.startsWith('topology')).map((p) => p.note)).toEqual([
        'host failures tolerated: Masters 1 (2 on 2 hosts), Coreapps 0 (2 on 2 hosts for 2 shards), Webapps 0 (1 on 1 host)',
        ...LAB_WARNINGS,
        NO_STANDBY_WARNING,
      ]);
      await approve(client, handle.workflowId, 'shards', 'alice');
      const out = await result(handle);
      expect(out.shards).toBe(2);
      expect(out.addedHosts).toEqual([]);
      expect(fake.callsOf('wabaSetShards')).toHaveLength(1);
    });
  });

  it('invalid inputs fail with InvalidInput naming the field, before any activity call', async () => {
    const cases: [string, unknown, string][] = [
      [
        'shards-3',
        { ...multiconnectInput(), shards: 3 as never },
        'shards: expected one of 1, 2, 4, 8, 16, 32',
      ],
      [
        'already-in-cluster',
        multiconnectInput({ addCoreapps: ['core1'] }),
        'addCoreapps[0]: core1 is already a member of cluster lab (only spare hosts can be added)',
      ],
      [
        'unknown-host',
        multiconnectInput({ addCoreapps: ['core3', 'core9'] }),
        'addCoreapps[1]: core9 is not a spare host of cluster lab in the inventory',
      ],
      [
        'too-many-shards',
        multiconnectInput({ addCoreapps: ['core3'], shards: 4 }),
        'shards: 4 shards need at least 4 Coreapp hosts; the cluster would have 3',
      ],
      [
        'not-a-coreapp',
        multiconnectInput({ addCoreapps: ['core4'] }),
        'addCoreapps[0]: core4 is not a coreapp host (roles: master)',
      ],
      [
        'bad-name',
        multiconnectInput({ addCoreapps: ['core3;reboot'] }),
        'addCoreapps[0]: expected a name of lowercase letters, digits, ".", "_" or "-" (max 63)',
      ],
      [
        'accept-no-standby-string',
        multiconnectInput({ acceptNoStandby: 'yes' as never }),
        'acceptNoStandby: ',
      ],
      ['accept-no-standby-number', multiconnectInput({ acceptNoStandby: 1 as never }), 'acceptNoStandby: '],
      [
        'accept-no-standby-false',
        multiconnectInput({ acceptNoStandby: false }),
        'shards: 2 shards on 2 Coreapp(s) (2 in the cluster, 0 added) leave no standby Coreapp',
      ],
      [
        'zero-health-timeout',
        multiconnectInput({ timeouts: { health: '0s' } }),
        'timeouts.health: expected a duration from 1s to 2h',
      ],
      [
        'approval-timeout-out-of-policy',
        { ...multiconnectInput(), approvalTimeout: '2d' },
        'approvalTimeout: must be between 1s and 1d (the approval policy of cluster lab)',
      ],
      // Fields that moved to the inventory are refused, saying where they live now.
      [
        'old-add-coreapp-hosts',
        {
          ...multiconnectInput(),
          addCoreappHosts: [{ name: 'core3', address: '10.0.0.33', roles: ['coreapp'] }],
        },
        'addCoreappHosts: unknown field: name spare hosts of the inventory in "addCoreapps" instead',
      ],
      [
        'old-approvals',
        { ...multiconnectInput(), approvals: { approvers: ['alice', 'bob'], minApprovals: 2 } },
        'approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      ],
      [
        'old-registration',
        {
          ...multiconnectInput(),
          registration: { cc: '39', phoneNumber: '3331234567', certRef: 'env:CERT' },
        },
        'registration: unknown field: the number, certificate and PIN live in the inventory',
      ],
      [
        'inline-cluster',
        { ...multiconnectInput(), cluster: { name: 'lab', hosts: [] } },
        'cluster: expected the name of a cluster in the worker inventory, e.g. "prod": an inline cluster spec is not accepted',
      ],
    ];
    // A spare host of another role: core4 is a spare master in this inventory.
    const fake = fakeCluster({
      setUp: true,
      entry: (e) => {
        const core4 = e.hosts.find((h: { name: string }) => h.name === 'core4');
        if (core4) core4.roles = ['master'];
      },
    });
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

  it('a host listed twice in addCoreapps fails with InvalidInput naming the repeated element', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'multiconnectExpand',
        'twice',
        multiconnectInput({ addCoreapps: ['core3', 'core3'] }),
      );
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('addCoreapps[1]: core3 is listed twice');
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });

  it('a spare host without a pinned host key is refused when the inventory is loaded, not at a run', () => {
    expect(() =>
      fakeCluster({
        entry: (e) => {
          delete e.ssh.knownHosts.core3;
        },
      }),
    ).toThrow(/clusters\.lab\.ssh\.knownHosts\.core3: no pinned host key for hosts\[\d+\] core3/);
  });
});
