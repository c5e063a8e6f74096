// haDrill end to end on the suite's real dev server and a real worker, with the cluster faked
// in-process (test/support/fake-cluster.ts, fake-drill.ts). Every wait bounded.

import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/client/runbooks';
import { type GatedRunStatus, type PlanStep, statusQuery, WabaStep } from '../../workflows/api';
import type { HaDrillResult } from '../../workflows/ha-drill';
import { approve, reject } from '../support/decide';
import {
  containerId,
  type FakeCluster,
  fakeCluster,
  runFailure,
  SEED,
  scenario,
  until,
  within,
} from '../support/fake-cluster';
import {
  failoverHealth,
  type HaDrillRaw,
  haDrillInput,
  healthNameOf,
  withoutStandby,
} from '../support/fake-drill';
import { keyOf } from '../support/signed-decisions';

interface DrillStatus extends GatedRunStatus {
  target: string;
  takeoverMs: number | null;
}

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<DrillStatus>;
const gateOpen = (h: WorkflowHandle) =>
  until(
    'gate drill to open',
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === 'drill'),
  );
const resultOf = (h: WorkflowHandle) =>
  within(40_000, `run ${h.workflowId}`, h.result() as Promise<HaDrillResult>);
/** Activity names in call order, consecutive repeats folded. */
const phases = (fake: FakeCluster) => fake.names().filter((n, i, all) => n !== all[i - 1]);
const onHosts = (fake: FakeCluster, name: 'composeStop' | 'composeUp') =>
  fake.callsOf(name).map((c) => `${c.host}/${c.service}`);

/** The topology lint on the fake's lab (1 Webapp, 2 Masters, 2 Coreapps, 1 shard). */
const LAB_WARNINGS = [
  'cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures; the guide advises ' +
    '"at least 2 Webapps for 100-150 messages/s, behind a load balancer (HAProxy, Nginx, ELB) for Webapp HA"',
  'cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; the guide advises ' +
    '"3 Masters on different hosts (no more needed; they are light and may share hosts with Coreapps)"',
];

const STOP_CORE1 =
  'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp1-hostname WA_API_VERSION=2.23.4 docker-compose -f x.yml stop wacore';
const UP_CORE1 =
  'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp1-hostname WA_API_VERSION=2.23.4 docker-compose -f x.yml up -d wacore';

describe('haDrill', () => {
  it('happy path: core1 named, approved, core2 takes over within the SLO, core1 back as standby', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ takeoverPolls: 2 }) });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haDrill', 'happy', haDrillInput({ target: 'core1', takeoverSlo: '30s' }));
      const atGate = await gateOpen(handle);
      expect(atGate.stage).toBe('waiting for approval: drill');
      expect(atGate.inventory).toEqual(fake.stamp('haDrill'));
      expect(atGate.pendingGates[0]?.summary).toBe(
        `failover drill on cluster lab: stop wacore on core1 (your-coreapp1-hostname, container ${containerId('core1/wacore')}, connected now); ` +
          'standby your-coreapp2-hostname should take over within 30s (the drill gives up after 30s); ' +
          'then start wacore on core1 again and wait until it is back as a standby',
      );
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      // The plan starts with where the cluster was resolved: the inventory, spec and policy hashes.
      const { source, specHash, policyHash } = fake.stamp('haDrill');
      expect(steps[0]).toEqual({
        stage: 'resolve cluster',
        note: `cluster lab from the inventory ${source}: spec sha256 ${specHash}, policy sha256 ${policyHash}`,
      });
      // Then the topology lint, in the plan the approver signs and in status.
      expect(steps.slice(1, 4)).toEqual([
        {
          stage: 'topology',
          note: 'host failures tolerated: Masters 1 (2 on 2 hosts), Coreapps 1 (2 on 2 hosts for 1 shard), Webapps 0 (1 on 1 host)',
        },
        ...LAB_WARNINGS.map((note) => ({ stage: 'topology warning', note })),
      ]);
      expect(atGate.warnings).toEqual(LAB_WARNINGS);
      expect(steps.filter((p) => p.command)).toEqual([
        { stage: 'stop wacore', host: 'core1', command: STOP_CORE1 },
        { stage: 'start wacore', host: 'core1', command: UP_CORE1 },
      ]);
      expect(fake.callsOf('composeStop')).toEqual([]);

      await approve(client, handle.workflowId, 'drill', 'alice');
      const out = await resultOf(handle);

      expect(out).toMatchObject({
        cluster: 'lab',
        inventory: fake.stamp('haDrill'),
        target: { host: 'core1', healthName: 'your-coreapp1-hostname', container: '636f7265312f' },
        takenOverBy: ['your-coreapp2-hostname'],
        takeoverSlo: '30s',
        sloMet: true,
        // Signed by alice for the plan the gate showed.
        decisions: [
          {
            gate: 'drill',
            kind: 'approve',
            by: 'alice',
            key: keyOf('alice'),
            plan: atGate.pendingGates[0]?.plan,
          },
        ],
        health: { verdict: 'ha-connected', connectedCoreapps: 1 },
      });
      // Two polls after the stop at 1 s each: at least ~2 s, far below the SLO.
      expect(out.takeoverMs).toBeGreaterThanOrEqual(1500);
      expect(out.takeoverMs).toBeLessThan(15_000);
      expect(Date.parse(out.takeoverAt) - Date.parse(out.stopIssuedAt)).toBe(out.takeoverMs);
      expect(Date.parse(out.rejoinedAt)).toBeGreaterThan(Date.parse(out.takeoverAt));
      expect(out.health.nodes).toContainEqual(
        expect.objectContaining({ host: 'your-coreapp1-hostname', gatewayStatus: 'disconnected' }),
      );

      // The timeline: connected before, nobody connected after the stop, core2 connected, core1 standby.
      const summary = out.timeline.map((t) => `${t.stage}|${t.connected.join(',')}|${t.standby.join(',')}`);
      expect(summary[0]).toBe('health precheck|your-coreapp1-hostname|your-coreapp2-hostname');
      expect(summary).toContain('waiting for takeover||your-coreapp2-hostname');
      expect(summary).toContain('waiting for takeover|your-coreapp2-hostname|');
      expect(summary).toContain(
        'waiting for core1 to rejoin as standby|your-coreapp2-hostname|your-coreapp1-hostname',
      );
      expect(out.timeline.find((t) => t.stage === 'waiting for takeover')?.verdict).toBe('degraded');
      expect(out.timeline[0]?.sinceStopMs).toBeNull();

      expect(phases(fake)).toEqual([
        'wabaHealth',
        'preflightHost',
        'composePs',
        'composeStop',
        'wabaHealth',
        'composeUp',
        'wabaHealth',
      ]);
      expect(onHosts(fake, 'composeStop')).toEqual(['core1/wacore']);
      expect(onHosts(fake, 'composeUp')).toEqual(['core1/wacore']);
      expect(fake.callsOf('composeUp')[0]?.args).toEqual({
        cluster: fake.ref(),
        host: 'core1',
        service: 'wacore',
        version: '2.23.4',
        variant: 'v1',
      });
      expect(fake.state.up.has('core1/wacore')).toBe(true);

      const done = await statusOf(handle);
      expect(done.stage).toMatch(/^done: takeover \d+\.\ds, SLO 30s met$/);
      expect(done.takeoverMs).toBe(out.takeoverMs);
      expect(done.hosts.core1).toBe('standby');
      expect(done.stagesDone).toEqual(
        expect.arrayContaining(['stop wacore on core1', 'waiting for takeover', 'start wacore on core1']),
      );
      const d = await handle.describe();
      expect(d.typedSearchAttributes.get(WabaStep)).toBe(done.stage);
      expect(fake.notified()).toEqual(['gateOpened', 'runSucceeded']);
    });
  });

  it('SLO missed: a slow takeover still completes the drill, with sloMet false', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ takeoverPolls: 3 }) });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haDrill', 'slo-missed', haDrillInput({ takeoverSlo: '1s' }));
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'drill', 'bob');
      const out = await resultOf(handle);
      expect(out.sloMet).toBe(false);
      expect(out.takeoverMs).toBeGreaterThan(1000);
      expect(out.takenOverBy).toEqual(['your-coreapp2-hostname']);
      expect((await statusOf(handle)).stage).toMatch(/^done: takeover \d+\.\ds, SLO 1s missed$/);
      expect(fake.state.up.has('core1/wacore')).toBe(true);
    });
  });

  it('target "connected" resolves the Coreapp connected now (core2), not the first Coreapp host', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ first: 'core2', takeoverPolls: 1 }) });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haDrill', 'connected', haDrillInput({ target: 'connected' }));
      const atGate = await gateOpen(handle);
      expect(atGate.target).toBe('core2');
      expect(atGate.pendingGates[0]?.summary).toContain('stop wacore on core2 (your-coreapp2-hostname');
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.find((p) => p.stage === 'stop wacore')?.host).toBe('core2');
      await approve(client, handle.workflowId, 'drill', 'alice');
      const out = await resultOf(handle);
      expect(out.target.host).toBe('core2');
      expect(out.takenOverBy).toEqual([healthNameOf('core1')]);
      expect(onHosts(fake, 'composeStop')).toEqual(['core2/wacore']);
      expect(onHosts(fake, 'composeUp')).toEqual(['core2/wacore']);
    });
  });

  for (const [label, health, input, why] of [
    [
      'no standby',
      [withoutStandby()],
      haDrillInput(),
      'no standby Coreapp (disconnected) could take over from core1' +
        '; the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"',
    ],
    [
      'unhealthy',
      [SEED.degraded()],
      haDrillInput(),
      'the cluster is not healthy: degraded (your-coreapp1-hostname:753efb1cf72c reports error 1011 Service not ready; no Coreapp is connected)',
    ],
    [
      'named standby',
      [SEED.haConnected()],
      haDrillInput({ target: 'core2' }),
      'core2 is not connected now (disconnected): a drill stops a connected Coreapp',
    ],
  ] as const) {
    it(`the precheck refuses (${label}) with PrecheckFailed before any gate or host command`, async () => {
      const fake = fakeCluster({ setUp: true, health });
      await scenario(fake, async ({ start }) => {
        const handle = await start('haDrill', `precheck-${label.replace(' ', '-')}`, input);
        const { failure } = await runFailure(handle, 20_000);
        expect(failure.type).toBe('PrecheckFailed');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toBe(`cluster lab is not ready for a failover drill: ${why}`);
        expect(fake.names()).toEqual(['wabaHealth']);
        const s = await statusOf(handle);
        expect(s.stage).toBe('health precheck');
        expect(s.pendingGates).toEqual([]);
      });
    });
  }

  it('no standby by the inventory (2 Coreapps, 2 shards): warned in status, and the precheck refuses from the health', async () => {
    const fake = fakeCluster({
      setUp: true,
      health: [withoutStandby()],
      entry: (e) => {
        e.shards = 2;
      },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('haDrill', 'no-standby-lint', haDrillInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('PrecheckFailed');
      expect(failure.message).toContain('no standby Coreapp (disconnected) could take over from core1');
      const s = await statusOf(handle);
      expect(s.warnings).toEqual([
        ...LAB_WARNINGS,
        'cluster lab: Coreapps: 2 Coreapps on 2 hosts for 2 shards tolerate 0 host failures ' +
          '(no standby: one host failure leaves a shard without a Coreapp); ' +
          'the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"',
      ]);
      expect(fake.names()).toEqual(['wabaHealth']);
    });
  });

  it('a rejection at the drill gate stops nothing', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth() });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haDrill', 'reject', haDrillInput());
      await gateOpen(handle);
      await reject(client, handle.workflowId, 'drill', 'bob', 'not during the sale');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "drill" rejected by bob: not during the sale');
      expect(fake.callsOf('composeStop')).toEqual([]);
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.state.up.has('core1/wacore')).toBe(true);
    });
  });

  it('no takeover within the deadline: the stopped wacore is started again and the run fails saying so', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ takeoverPolls: Infinity }) });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'haDrill',
        'deadline',
        haDrillInput({ takeoverSlo: '2s', timeouts: { takeover: '4s', rejoin: '15s', health: '15s' } }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'drill', 'alice');
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('TakeoverTimedOut');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'no standby took over within 4s of stopping wacore on core1: health did not reach ' +
          '"a standby connected in place of core1" within 4s: last verdict degraded ' +
          '(your-coreapp1-hostname:636f7265312f reports error 1011 Service not ready; no Coreapp is connected); ' +
          'wacore on core1 was started again',
      );
      expect(onHosts(fake, 'composeStop')).toEqual(['core1/wacore']);
      expect(onHosts(fake, 'composeUp')).toEqual(['core1/wacore']);
      const stop = fake.callsOf('composeStop')[0]?.seq ?? 0;
      expect(fake.callsOf('composeUp')[0]?.seq).toBeGreaterThan(stop);
      expect(fake.state.up.has('core1/wacore')).toBe(true);
      const s = await statusOf(handle);
      expect(s.stage).toBe('restore: start wacore on core1');
      expect(s.hosts.core1).toBe('wacore started again');
      expect(s.lastError).toContain('wacore on core1 was started again');
      const ended = fake.notifications.find((n) => n.event.kind === 'runFailed')?.event;
      expect(ended && 'reason' in ended ? ended.reason : '').toContain('wacore on core1 was started again');
    });
  });

  it('a cancellation while waiting for the takeover starts the stopped wacore again, then ends cancelled', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ takeoverPolls: Infinity }) });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'haDrill',
        'cancel',
        haDrillInput({ timeouts: { takeover: '1m', rejoin: '15s', health: '15s' } }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'drill', 'alice');
      await until(
        'the takeover wait',
        () => statusOf(handle),
        (s) => s.stage === 'waiting for takeover',
      );
      await handle.cancel();
      const err = await within(30_000, 'the cancelled run', handle.result()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(onHosts(fake, 'composeUp')).toEqual(['core1/wacore']);
      expect(fake.state.up.has('core1/wacore')).toBe(true);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    });
  });

  it('invalid inputs fail with InvalidInput naming the field, before any activity call', async () => {
    const cases: [string, HaDrillRaw, string][] = [
      [
        'not-a-coreapp',
        haDrillInput({ target: 'web1' }),
        'target: web1 is not a coreapp host (roles: webapp)',
      ],
      [
        'unknown-host',
        haDrillInput({ target: 'core9' }),
        'target: core9 is not a host of cluster lab in the inventory',
      ],
      [
        'spare-host',
        haDrillInput({ target: 'core3' }),
        'target: core3 is a spare host of cluster lab, not a member yet',
      ],
      [
        'bad-target',
        haDrillInput({ target: 'core1;reboot' }),
        'target: expected a name of lowercase letters, digits',
      ],
      [
        'bad-slo',
        haDrillInput({ takeoverSlo: 'fast' }),
        'takeoverSlo: expected a duration like 30s, 15m, 24h',
      ],
      [
        'deadline-below-slo',
        haDrillInput({ takeoverSlo: '2m', timeouts: { takeover: '1m' } }),
        'timeouts.takeover: must be at least takeoverSlo (2m)',
      ],
      ['no-requester', { ...haDrillInput(), requestedBy: undefined as never }, 'requestedBy'],
      ['zero-slo', haDrillInput({ takeoverSlo: '0s' }), 'takeoverSlo: expected a duration from 1s to 10m'],
      [
        'huge-deadline',
        haDrillInput({ timeouts: { takeover: '100000d' } }),
        'timeouts.takeover: expected a duration from 1s to 30m',
      ],
      [
        'approval-timeout-out-of-policy',
        haDrillInput({ approvalTimeout: '2d' }),
        'approvalTimeout: must be between 1s and 1d (the approval policy of cluster lab)',
      ],
      // What moved to the inventory is refused, saying where it lives now.
      [
        'old-approvals',
        { ...haDrillInput(), approvals: { approvers: ['carol'] } } as HaDrillRaw,
        'approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      ],
      [
        'inline-cluster',
        { ...haDrillInput(), cluster: { name: 'lab', hosts: [] } as never },
        'cluster: expected the name of a cluster in the worker inventory, e.g. "prod": an inline cluster spec is not accepted',
      ],
    ];
    const fake = fakeCluster({ setUp: true, health: failoverHealth() });
    await scenario(fake, async ({ start }) => {
      const failures = await Promise.all(
        cases.map(([label, input]) => start('haDrill', label, input).then((h) => runFailure(h, 20_000))),
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
