// haSetup end to end on the suite's real dev server and a real worker, with the cluster faked
// in-process (test/support/fake-cluster.ts): every branch of the runbook, every wait bounded.
import { randomUUID } from 'node:crypto';
import { ActivityFailure, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { InputError, plan, startRunbook } from '../../src/client/runbooks';
import type { Decision } from '../../src/model/approvals';
import { type GatedRunStatus, type PlanStep, statusQuery } from '../../workflows/api';
import type { HaSetupResult } from '../../workflows/ha-setup';
import { approve, reject, sendCode } from '../support/decide';
import {
  type FakeCluster,
  fakeCluster,
  haSetupInput,
  nonRetryable,
  retryable,
  runFailure,
  SEED,
  scenario,
  TIMEOUTS,
  until,
  updateRefusal,
  within,
} from '../support/fake-cluster';
import { approverKeyLine } from '../support/inventory';
import { testKey } from '../support/keys';
import { forgedDecision, keyOf, PLAN_HASH, signedBy } from '../support/signed-decisions';

interface HaStatus extends GatedRunStatus {
  awaitingCode: boolean;
  found: string[];
}

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<HaStatus>;

const gateOpen = (h: WorkflowHandle, gate = 'register') =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
  );

const awaitingCode = (h: WorkflowHandle) =>
  until(
    'the verification code wait',
    () => statusOf(h),
    (s) => s.awaitingCode,
  );

const result = (h: WorkflowHandle, ms = 30_000) =>
  within(ms, `run ${h.workflowId}`, h.result() as Promise<HaSetupResult>);

/** Activity names in call order, consecutive repeats folded: the run's phases. */
const phases = (fake: FakeCluster) => fake.names().filter((n, i, all) => n !== all[i - 1]);

const HOSTS = ['web1', 'master1', 'master2', 'core1', 'core2'];
/** The result's containers as sorted `host/service/state`, and what a set-up cluster shows. */
const containerStates = (out: HaSetupResult) =>
  out.containers.map((c) => `${c.host}/${c.service}/${c.state}`).sort();
const ALL_RUNNING = [
  'core1/wacore/running',
  'core2/wacore/running',
  'master1/master/running',
  'master2/master/running',
  'web1/waweb/running',
];
const EXTERNAL: Record<string, string> = {
  web1: 'your-webapp1-hostname',
  master1: 'your-master1-hostname',
  master2: 'your-master2-hostname',
  core1: 'your-coreapp1-hostname',
  core2: 'your-coreapp2-hostname',
};
/** A fresh cluster: password, preflight, upload, `ps` (nothing runs yet), up -d, `ps` until all run. */
const SETUP_PHASES = [
  'checkDbSecret',
  'preflightHost',
  'prerequisitesHost',
  'uploadSetupFiles',
  'composePs',
  'composeUp',
  'composePs',
];

describe('haSetup', () => {
  it('happy path: approval, 202, code by Update, ha-connected; Webapps, then Masters, then Coreapps', async () => {
    const fake = fakeCluster({ variants: { core2: 'v2' } });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'happy', haSetupInput());
      const id = handle.workflowId;

      const atGate = await gateOpen(handle);
      expect(atGate.stage).toBe('waiting for approval: register');
      // carol signed the start: she is authenticated, so one approval suffices.
      expect(atGate.requester).toEqual({ name: 'carol', authenticated: true });
      expect(atGate.approvers).toEqual({ alice: [keyOf('alice')], bob: [keyOf('bob')] });
      expect(atGate.pendingGates).toEqual([
        {
          gate: 'register',
          summary: 'register +39 3331234567 (sms) on cluster lab',
          openedAt: expect.any(String),
          plan: PLAN_HASH,
          approvals: [],
          needed: 1,
        },
      ]);
      expect(atGate.awaitingCode).toBe(false);
      expect(fake.callsOf('wabaRegister')).toEqual([]);

      // A code nobody asked for yet is refused.
      const early = await updateRefusal(sendCode(client, id, '123456', 'alice'));
      expect(early.message).toBe('no verification code is awaited now');

      expect(await approve(client, id, 'register', 'bob', 'number checked')).toEqual({
        gate: 'register',
        accepted: true,
        approvals: 1,
        needed: 1,
        state: 'approved',
        key: keyOf('bob'),
      });
      const waiting = await awaitingCode(handle);
      expect(waiting.stage).toBe('waiting for verification code');
      expect(waiting.pendingGates).toEqual([]);
      expect(fake.callsOf('wabaRegister')).toHaveLength(1);
      expect(fake.callsOf('wabaVerify')).toEqual([]);

      expect(await sendCode(client, id, '123456', 'alice')).toEqual({ accepted: true });
      const out = await result(handle);

      expect(out).toEqual({
        cluster: 'lab',
        inventory: fake.stamp('haSetup'),
        version: '2.23.4',
        alreadyRegistered: false,
        uploads: expect.any(Array),
        containers: expect.any(Array),
        found: [],
        registration: { status: 202, codeBy: 'alice', codeAt: expect.any(String) },
        decisions: [
          {
            gate: 'register',
            kind: 'approve',
            ...signedBy('bob'),
            plan: atGate.pendingGates[0]?.plan,
            at: expect.any(String),
            comment: 'number checked',
          },
        ],
        health: { verdict: 'ha-connected', reasons: [], nodes: expect.any(Array), connectedCoreapps: 1 },
      });
      expect(out.uploads).toHaveLength(10);
      expect(out.uploads.every((u) => u.uploaded)).toBe(true);
      expect([...new Set(out.uploads.map((u) => u.host))].sort()).toEqual([...HOSTS].sort());
      expect(containerStates(out)).toEqual(ALL_RUNNING);
      // The code reaches wabaVerify only, never the result.
      expect(JSON.stringify(out)).not.toContain('123456');

      // Role order: every waweb before any master before any wacore, each with the detected variant.
      const ups = fake.callsOf('composeUp');
      expect(ups.map((c) => c.service)).toEqual(['waweb', 'master', 'master', 'wacore', 'wacore']);
      expect(ups.map((c) => c.host)).toEqual([
        'web1',
        expect.stringMatching(/^master[12]$/),
        expect.stringMatching(/^master[12]$/),
        expect.stringMatching(/^core[12]$/),
        expect.stringMatching(/^core[12]$/),
      ]);
      expect(new Set(ups.map((c) => c.host)).size).toBe(5);
      for (const c of ups) {
        expect(c.args).toMatchObject({ version: '2.23.4', variant: c.host === 'core2' ? 'v2' : 'v1' });
      }

      // The whole run, phase by phase.
      expect(phases(fake)).toEqual([
        ...SETUP_PHASES,
        'wabaLogin',
        'wabaHealth',
        'wabaRegister',
        'wabaVerify',
        'wabaHealth',
      ]);
      expect(fake.callsOf('checkDbSecret')).toHaveLength(1);
      // The host keys of every host, once, after the password check and before any command.
      expect(fake.hostKeyChecks).toEqual([{ hosts: HOSTS, attempt: 1, callsBefore: 1 }]);
      expect(
        fake
          .callsOf('preflightHost')
          .map((c) => c.host)
          .sort(),
      ).toEqual([...HOSTS].sort());
      expect(fake.callsOf('wabaLogin')[0]?.args).toEqual({ cluster: fake.ref(), firstLogin: true });
      // The number, certificate and PIN are the inventory's: only the method comes from the input.
      expect(fake.callsOf('wabaRegister')[0]?.args).toEqual({ cluster: fake.ref(), method: 'sms' });
      expect(fake.callsOf('wabaVerify').map((c) => c.args.code)).toEqual(['123456']);
      expect(fake.calls.every((c) => c.outcome === 'ok' && c.attempt === 1)).toBe(true);

      const done = await statusOf(handle);
      expect(done.stage).toBe('done: ha-connected');
      expect(done.stagesDone).toEqual(
        expect.arrayContaining([
          'waiting for approval: register',
          'register',
          'waiting for verification code',
          'verify',
          'health connected',
        ]),
      );
      expect(done.hosts['your-coreapp1-hostname:753efb1cf72c']).toBe('connected');
      expect(done.awaitingCode).toBe(false);
      expect(done.lastError).toBeNull();
    });
  });

  it('201 at POST /v1/account (already registered) skips the code wait', async () => {
    const fake = fakeCluster({ registerStatus: 201 });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'reg201', haSetupInput());
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'register', 'alice');
      const out = await result(handle);
      expect(out.registration).toEqual({ status: 201 });
      expect(out.alreadyRegistered).toBe(false);
      expect(out.health.verdict).toBe('ha-connected');
      expect(fake.callsOf('wabaRegister')).toHaveLength(1);
      expect(fake.callsOf('wabaVerify')).toEqual([]);
      const done = await statusOf(handle);
      expect(done.stagesDone).not.toContain('waiting for verification code');
      expect(done.awaitingCode).toBe(false);
    });
  });

  it('a re-run on a set-up, ha-connected cluster does nothing twice: no upload, no up -d, no gate; it says what it found', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'rerun', haSetupInput());
      const out = await result(handle);
      expect(out).toMatchObject({
        alreadyRegistered: true,
        registration: { status: 'skipped' },
        decisions: [],
        health: { verdict: 'ha-connected', connectedCoreapps: 1 },
      });
      // Every stage checked, nothing done twice: files in place, every service running this version.
      expect(out.uploads.every((u) => !u.uploaded)).toBe(true);
      expect(fake.callsOf('composeUp')).toEqual([]);
      expect(fake.callsOf('wabaRegister')).toEqual([]);
      expect(fake.callsOf('wabaVerify')).toEqual([]);
      // One `ps` per host: it showed everything running, so the wait needs no second look.
      expect(
        fake
          .callsOf('composePs')
          .map((c) => c.host)
          .sort(),
      ).toEqual([...HOSTS].sort());
      expect(phases(fake)).toEqual([
        'checkDbSecret',
        'preflightHost',
        'prerequisitesHost',
        'uploadSetupFiles',
        'composePs',
        'wabaLogin',
        'wabaHealth',
      ]);
      const expectedFound = [
        ...HOSTS.map((h) => `setup files already in place on ${h}`),
        'waweb already running on web1 (v2.23.4)',
        'master already running on master1 (v2.23.4)',
        'master already running on master2 (v2.23.4)',
        'wacore already running on core1 (v2.23.4)',
        'wacore already running on core2 (v2.23.4)',
        'cluster lab already registered (ha-connected)',
      ];
      expect(out.found).toEqual(expectedFound);
      expect(containerStates(out)).toEqual(ALL_RUNNING);

      const done = await statusOf(handle);
      expect(done.found).toEqual(expectedFound);
      expect(done.hosts).toMatchObject({
        web1: 'waweb already running on web1 (v2.23.4)',
        core2: 'wacore already running on core2 (v2.23.4)',
      });
      expect(done.stagesDone.some((s) => s.startsWith('waiting for approval'))).toBe(false);
      expect(done.pendingGates).toEqual([]);
      expect(done.decisions).toEqual([]);
      // The plan still lists every stage (and, after preflight, the detected compose).
      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(steps.filter((p) => p.command?.includes(' up -d ')).map((p) => p.note)).toEqual(
        HOSTS.map(() => 'skipped when already running v2.23.4'),
      );
    });
  });

  it('a re-run on a cluster running another version starts every service again (up -d on the new version)', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.23.3', inventoryVersion: '2.23.4' });
    await scenario(fake, async ({ start }) => {
      const out = await result(await start('haSetup', 'rerun-other-version', haSetupInput()));
      expect(out.alreadyRegistered).toBe(true);
      expect(fake.callsOf('composeUp').map((c) => `${c.host}/${c.service}`)).toEqual([
        'web1/waweb',
        expect.stringMatching(/^master[12]\/master$/),
        expect.stringMatching(/^master[12]\/master$/),
        expect.stringMatching(/^core[12]\/wacore$/),
        expect.stringMatching(/^core[12]\/wacore$/),
      ]);
      expect(out.found.filter((f) => f.includes('already running'))).toEqual([]);
    });
  });

  it('a re-run where one service is down starts only that one', async () => {
    const fake = fakeCluster({ setUp: true });
    fake.state.up.delete('core2/wacore');
    await scenario(fake, async ({ start }) => {
      const out = await result(await start('haSetup', 'rerun-one-down', haSetupInput()));
      expect(fake.callsOf('composeUp').map((c) => `${c.host}/${c.service}`)).toEqual(['core2/wacore']);
      expect(out.found).toContain('wacore already running on core1 (v2.23.4)');
      expect(out.found).not.toContain('wacore already running on core2 (v2.23.4)');
      expect(out.health.verdict).toBe('ha-connected');
    });
  });

  it('a re-run on a cluster already in Multiconnect accepts its multiconnect verdict', async () => {
    const fake = fakeCluster({ setUp: true, shards: 2 });
    await scenario(fake, async ({ start }) => {
      const out = await result(await start('haSetup', 'rerun-mc', haSetupInput()));
      expect(out.alreadyRegistered).toBe(true);
      expect(out.registration).toEqual({ status: 'skipped' });
      expect(out.health.verdict).toBe('multiconnect-connected:2');
      expect(fake.callsOf('wabaRegister')).toEqual([]);
    });
  });

  it('a rejection at the gate fails the run with ApprovalRejected before wabaRegister', async () => {
    const fake = fakeCluster();
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'reject', haSetupInput());
      await gateOpen(handle);
      expect(await reject(client, handle.workflowId, 'register', 'alice', 'wrong number')).toMatchObject({
        state: 'rejected',
      });
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('gate "register" rejected by alice: wrong number');
      expect(fake.callsOf('wabaRegister')).toEqual([]);
      expect(fake.callsOf('wabaVerify')).toEqual([]);
      const s = await statusOf(handle);
      expect(s.pendingGates).toEqual([]);
      expect(s.lastError).toBe('gate "register" rejected by alice: wrong number');
      expect(s.decisions).toEqual([
        {
          gate: 'register',
          kind: 'reject',
          ...signedBy('alice'),
          at: expect.any(String),
          reason: 'wrong number',
        },
      ]);
    });
  });

  it('an approval timeout fails the run with ApprovalTimedOut', async () => {
    const fake = fakeCluster({
      entry: (e) => {
        e.approvals.timeout = { default: '2s', min: '1s', max: '1h' };
      },
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('haSetup', 'approval-timeout', haSetupInput());
      await gateOpen(handle);
      const opened = Date.now();
      const { failure } = await runFailure(handle, 20_000);
      expect(Date.now() - opened).toBeLessThan(12_000);
      expect(failure.type).toBe('ApprovalTimedOut');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('gate "register" timed out after 2s with 0 of 1 approval(s)');
      expect(fake.callsOf('wabaRegister')).toEqual([]);
    });
  });

  it('self-approval and a non-approver are refused by the Update; the run keeps waiting', async () => {
    const fake = fakeCluster({
      registerStatus: 201,
      entry: (e) => {
        e.approvals.approvers.push({ name: 'carol', keys: [approverKeyLine('carol')] });
      },
    });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'refused', haSetupInput({ requestedBy: 'carol' }));
      const id = handle.workflowId;
      await gateOpen(handle);

      const self = await updateRefusal(approve(client, id, 'register', 'carol'));
      expect(self.type).toBe('DecisionRefused');
      expect(self.message).toBe(
        'carol requested this run and may not decide its gates (self-approval is off)',
      );
      // Signed with mallory's own key, sent past the client's check: the run refuses it.
      const stranger = await updateRefusal(forgedDecision(client, id, 'approve', 'register', 'mallory'));
      expect(stranger.type).toBe('DecisionRefused');
      expect(stranger.message).toBe('mallory is not an approver of this run');
      const strangerReject = await updateRefusal(
        forgedDecision(client, id, 'reject', 'register', 'mallory', 'no'),
      );
      expect(strangerReject.message).toBe('mallory is not an approver of this run');

      // Still waiting at the same gate, nothing applied, nothing registered.
      await new Promise((r) => setTimeout(r, 1000));
      const s = await statusOf(handle);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(s.stage).toBe('waiting for approval: register');
      expect(s.pendingGates).toEqual([expect.objectContaining({ gate: 'register', approvals: [] })]);
      expect(s.decisions).toEqual([]);
      expect(fake.callsOf('wabaRegister')).toEqual([]);

      await approve(client, id, 'register', 'alice');
      const out = await result(handle);
      expect(out.decisions.map((d) => (d as Decision).by)).toEqual(['alice']);
      expect(fake.callsOf('wabaRegister')).toHaveLength(1);
    });
  });

  it('no code within timeouts.code fails with VerificationCodeTimedOut; wabaVerify never runs', async () => {
    const fake = fakeCluster({ registerStatus: 202 });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'haSetup',
        'code-timeout',
        haSetupInput({ timeouts: { ...TIMEOUTS, code: '2s' } }),
      );
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'register', 'bob');
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('VerificationCodeTimedOut');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('no verification code arrived within 2s');
      expect(fake.callsOf('wabaRegister')).toHaveLength(1);
      expect(fake.callsOf('wabaVerify')).toEqual([]);
      expect((await statusOf(handle)).awaitingCode).toBe(false);
    });
  });

  it('health that never reaches ha-connected fails with HealthGateFailed within the deadline, naming the last verdict', async () => {
    const fake = fakeCluster({
      registerStatus: 201,
      health: (state) => (state.registered ? SEED.degraded() : SEED.unregistered()),
    });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start(
        'haSetup',
        'health-gate',
        haSetupInput({ timeouts: { ...TIMEOUTS, health: '6s' } }),
      );
      await gateOpen(handle);
      const pollsBefore = fake.callsOf('wabaHealth').length;
      await approve(client, handle.workflowId, 'register', 'alice');
      const approved = Date.now();
      const { failure } = await runFailure(handle, 30_000);
      const elapsed = Date.now() - approved;
      expect(elapsed).toBeGreaterThanOrEqual(5_500);
      expect(elapsed).toBeLessThan(15_000);
      expect(failure.type).toBe('HealthGateFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'health did not reach "exactly one Coreapp connected" within 6s: last verdict degraded ' +
          '(your-coreapp1-hostname:753efb1cf72c reports error 1011 Service not ready; no Coreapp is connected)',
      );
      expect(fake.callsOf('wabaHealth').length - pollsBefore).toBeGreaterThanOrEqual(2);
    });
  });

  it('containers that never run fail with ContainersNotRunning, naming them, before the API is touched', async () => {
    const fake = fakeCluster({ notRunning: ['core2/wacore'] });
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'haSetup',
        'not-running',
        haSetupInput({ timeouts: { ...TIMEOUTS, containers: '2s' } }),
      );
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('ContainersNotRunning');
      expect(failure.message).toBe('not running after 2s: core2/wacore');
      expect(fake.callsOf('composePs').filter((c) => c.host === 'core2').length).toBeGreaterThanOrEqual(2);
      expect(phases(fake)).toEqual(SETUP_PHASES);
    });
  });

  it('a retryable activity failure (composeUp throws once) is retried and the run succeeds', async () => {
    const fake = fakeCluster({ registerStatus: 201 }).fail(
      'composeUp',
      retryable('ssh: connection reset by peer'),
      { host: 'core1' },
    );
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'retry', haSetupInput());
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'register', 'alice');
      const out = await result(handle);
      expect(out.health.verdict).toBe('ha-connected');
      const core1 = fake.callsOf('composeUp').filter((c) => c.host === 'core1');
      expect(core1.map((c) => [c.attempt, c.outcome])).toEqual([
        [1, 'failed'],
        [2, 'ok'],
      ]);
      expect(core1[0]?.error).toBe('ssh: connection reset by peer');
      // The retry stayed inside the Coreapp step.
      expect(fake.callsOf('composeUp').map((c) => c.service)).toEqual([
        'waweb',
        'master',
        'master',
        'wacore',
        'wacore',
        'wacore',
      ]);
      expect(out.containers.filter((c) => c.service === 'wacore')).toHaveLength(2);
    });
  });

  it('a host-key mismatch fails the run at the host-key stage, before any command runs on any host', async () => {
    const fake = fakeCluster({ hostKeyMismatch: ['master2'] });
    await scenario(fake, async ({ start }) => {
      const started = Date.now();
      const handle = await start('haSetup', 'hostkey', haSetupInput());
      const { cause, failure } = await runFailure(handle, 20_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(cause).toBeInstanceOf(ActivityFailure);
      expect((cause as ActivityFailure).activityType).toBe('checkHostKeys');
      expect(failure.type).toBe('HostKeyMismatch');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        'host key of master2 (10.0.0.22) does not match ssh.knownHosts.master2; nothing was run',
      );
      // One check of all five hosts, not retried; no preflight (no `docker version`) on any host.
      expect(fake.hostKeyChecks).toEqual([{ hosts: HOSTS, attempt: 1, callsBefore: 1 }]);
      await new Promise((r) => setTimeout(r, 500));
      expect(fake.names()).toEqual(['checkDbSecret']);
      const s = await statusOf(handle);
      expect(s.stage).toBe('host keys');
      expect(s.lastError).toContain('host key of master2');
    });
  });

  it('a non-retryable preflight failure fails the run at once; nothing after preflight runs', async () => {
    const message = 'docker does not answer on master2: Cannot connect to the Docker daemon';
    const fake = fakeCluster().fail('preflightHost', nonRetryable('PreflightFailed', message), {
      host: 'master2',
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('haSetup', 'preflight-fails', haSetupInput());
      const { cause, failure } = await runFailure(handle, 20_000);
      expect((cause as ActivityFailure).activityType).toBe('preflightHost');
      expect(failure.type).toBe('PreflightFailed');
      expect(failure.nonRetryable).toBe(true);
      expect(fake.callsOf('preflightHost').filter((c) => c.host === 'master2')).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
      expect([...new Set(fake.names())]).toEqual(['checkDbSecret', 'preflightHost']);
    });
  });

  // Progress.failed reports the activity and the cause, not the generic \"Activity task failed\".
  it('after an activity failure, status.lastError names its cause', async () => {
    const message = 'neither docker-compose nor docker compose is installed on master2';
    const fake = fakeCluster().fail('preflightHost', nonRetryable('PreflightFailed', message), {
      host: 'master2',
    });
    await scenario(fake, async ({ start }) => {
      const handle = await start('haSetup', 'last-error', haSetupInput());
      const { failure } = await runFailure(handle, 20_000);
      expect(failure.type).toBe('PreflightFailed'); // holds today
      const s = await statusOf(handle);
      expect(s.stage).toBe('preflight'); // holds today
      expect(s.lastError).toContain(message); // today: "Activity task failed"
    });
  });

  it('a failing health API counts as "not yet": each poll is one attempt, the next poll decides', async () => {
    const fake = fakeCluster({ setUp: true }).fail(
      'wabaHealth',
      retryable('connect ECONNREFUSED 10.0.0.11:9090'),
      { times: 3 },
    );
    await scenario(fake, async ({ start }) => {
      const out = await result(await start('haSetup', 'health-flaky', haSetupInput()), 40_000);
      expect(out.alreadyRegistered).toBe(true);
      expect(out.health.verdict).toBe('ha-connected');
      // No activity-level retries: the gate polls again (every second at first).
      expect(fake.callsOf('wabaHealth').map((c) => [c.attempt, c.outcome])).toEqual([
        [1, 'failed'],
        [1, 'failed'],
        [1, 'failed'],
        [1, 'ok'],
        [1, 'ok'],
      ]);
    });
  });

  it('each wait is one heartbeating activity that polls: no wabaHealth or ps activity, no poll timer in the run', async () => {
    const fake = fakeCluster({ registerStatus: 201 });
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'waits', haSetupInput());
      await gateOpen(handle);
      await approve(client, handle.workflowId, 'register', 'alice');
      const out = await result(handle);
      expect(out.health.verdict).toBe('ha-connected');
      // One attempt per wait; the polls inside them are the fake's wabaHealth and composePs calls.
      expect(fake.waits.map((w) => [w.name, w.attempt, w.outcome])).toEqual([
        ['waitContainersRunning', 1, 'ok'],
        ['waitWabaHealth', 1, 'ok'],
        ['waitWabaHealth', 1, 'ok'],
      ]);
      const [running, before, after] = fake.waits;
      expect(running?.args).toMatchObject({ cluster: fake.ref(), version: '2.23.4', deadline: '15s' });
      expect(before?.args).toMatchObject({
        what: 'unregistered or registered',
        condition: { anyOf: [{ verdictNotIn: ['degraded'] }, { minConnectedCoreapps: 1 }] },
        deadline: '15s',
      });
      expect(after?.args).toMatchObject({
        what: 'exactly one Coreapp connected',
        condition: { verdictIn: ['ha-connected'] },
        // The progress callback asks for the readings that changed.
        record: true,
      });
      // The deadline travels as an instant the run fixed: a retried attempt cannot extend it.
      const until = (after?.args as { until: number }).until;
      const healthCalls = fake.callsOf('wabaHealth');
      expect(until - (healthCalls.at(-1)?.at ?? 0)).toBeGreaterThan(10_000);
      expect(until - (healthCalls.at(-1)?.at ?? 0)).toBeLessThanOrEqual(15_000);

      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes;
        return a?.activityType?.name ? [a] : [];
      });
      const names = scheduled.map((a) => a.activityType?.name);
      expect(names).not.toContain('wabaHealth');
      // `ps` is an activity of its own only for the look before anything starts (one per host).
      expect(names.filter((n) => n === 'composePs')).toHaveLength(HOSTS.length);
      expect(names.filter((n) => n === 'waitWabaHealth')).toHaveLength(2);
      const gate = scheduled.find((a) => a.activityType?.name === 'waitWabaHealth');
      expect(Number(gate?.heartbeatTimeout?.seconds)).toBe(5);
      expect(gate?.retryPolicy?.maximumAttempts).toBe(3);
      // The deadline (15 s) plus a margin for the last poll.
      expect(Number(gate?.startToCloseTimeout?.seconds)).toBe(75);
      // The only timers are the gates' own (approval), none per poll.
      const timers = events.filter((e) => e.timerStartedEventAttributes);
      expect(timers.length).toBeLessThanOrEqual(2);
    });
  });

  // The health gate's failure names the cause of the last error.
  it('when health never answers, HealthGateFailed names the cause of the last error', async () => {
    const fake = fakeCluster({ setUp: true }).fail(
      'wabaHealth',
      retryable('connect ECONNREFUSED 10.0.0.11:9090'),
      { times: 1000 },
    );
    await scenario(fake, async ({ start }) => {
      const handle = await start(
        'haSetup',
        'health-down',
        haSetupInput({ timeouts: { ...TIMEOUTS, health: '4s' } }),
      );
      const { failure } = await runFailure(handle, 30_000);
      // These hold today (see the passing tests above); only the last expectation fails.
      expect(failure.type).toBe('HealthGateFailed');
      expect(failure.message).toMatch(
        /^health did not reach "unregistered or registered" within 4s: no answer \(/,
      );
      expect(failure.message).toContain('ECONNREFUSED');
    });
  });

  it('a rejected database password (DbPasswordRejected) stops the run before any preflightHost', async () => {
    const fake = fakeCluster().fail(
      'checkDbSecret',
      nonRetryable(
        'DbPasswordRejected',
        'cluster.db.passwordRef: the password contains a forbidden character',
      ),
    );
    await scenario(fake, async ({ start }) => {
      const { failure } = await runFailure(await start('haSetup', 'dbpw', haSetupInput()), 20_000);
      expect(failure.type).toBe('DbPasswordRejected');
      expect(failure.message).toContain('forbidden character');
      expect(fake.names()).toEqual(['checkDbSecret']);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });

  it('invalid input fails with InvalidInput naming the field, before any activity call', async () => {
    const fake = fakeCluster();
    const inline = { ...haSetupInput(), cluster: { name: 'lab', hosts: [] } };
    const moved = { ...haSetupInput(), approvals: { approvers: ['mallory'] } };
    await scenario(fake, async ({ start }) => {
      const started = Date.now();
      const [spec, policy] = await Promise.all([
        start('haSetup', 'inline-cluster', inline).then((h) => runFailure(h, 20_000)),
        start('haSetup', 'moved-policy', moved).then((h) => runFailure(h, 20_000)),
      ]);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(spec.failure.type).toBe('InvalidInput');
      expect(spec.failure.nonRetryable).toBe(true);
      expect(spec.failure.message).toContain(
        'cluster: expected the name of a cluster in the worker inventory, e.g. "prod": an inline cluster spec is not accepted',
      );
      expect(policy.failure.type).toBe('InvalidInput');
      expect(policy.failure.message).toContain(
        'approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
  });

  it('a cluster the inventory lacks, or one without what haSetup needs, fails at once naming it', async () => {
    const fake = fakeCluster({ clusters: ['lab', 'prod'] });
    const noNumber = fakeCluster({
      entry: (e) => {
        delete e.registration;
      },
    });
    await scenario(fake, async ({ start }) => {
      const unknown = await runFailure(await start('haSetup', 'unknown', haSetupInput({}, 'prodd')), 20_000);
      expect(unknown.failure.type).toBe('UnknownCluster');
      expect(unknown.failure.nonRetryable).toBe(true);
      expect(unknown.failure.message).toBe(
        'cluster "prodd" is not in the worker\'s inventory test-inventory.yaml (it has: lab, prod)',
      );
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    });
    await scenario(noNumber, async ({ start }) => {
      const { failure } = await runFailure(await start('haSetup', 'no-number', haSetupInput()), 20_000);
      expect(failure.type).toBe('InventoryIncomplete');
      expect(failure.message).toBe(
        'cluster lab in the inventory (test-inventory.yaml) cannot run haSetup: clusters.lab.registration: haSetup needs it (the number, its certificate and PIN)',
      );
      expect(noNumber.calls).toEqual([]);
    });
  });

  it('while waiting, status shows the open gate and plan lists an up -d command per host with both variables', async () => {
    const fake = fakeCluster();
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'queries', haSetupInput());
      const s = await gateOpen(handle);
      expect(s).toMatchObject({
        runbook: 'haSetup',
        cluster: 'lab',
        stage: 'waiting for approval: register',
        lastError: null,
        awaitingCode: false,
        decisions: [],
        refusedDecisions: [],
        pendingGates: [expect.objectContaining({ gate: 'register', needed: 1, approvals: [] })],
      });
      expect(s.stagesDone).toEqual(
        expect.arrayContaining([
          'preflight',
          'upload',
          'start waweb',
          'start master',
          'start wacore',
          'wait running',
          'health unregistered',
        ]),
      );
      expect(s.hosts).toMatchObject({ web1: 'waweb started', core1: 'wacore started' });

      const steps = (await plan(client, handle.workflowId)) as PlanStep[];
      const ups = steps.filter((p) => p.command?.includes(' up -d '));
      expect(ups.map((p) => p.host)).toEqual(HOSTS);
      for (const p of ups) {
        expect(p.command).toContain(`EXTERNAL_HOSTNAME=${EXTERNAL[p.host as string]} `);
        expect(p.command).toContain('WA_API_VERSION=2.23.4 ');
      }
      expect(ups.find((p) => p.host === 'core1')).toEqual({
        stage: 'start wacore',
        host: 'core1',
        command:
          'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp1-hostname WA_API_VERSION=2.23.4 docker-compose -f x.yml up -d wacore',
        note: 'skipped when already running v2.23.4',
      });
      // Every stage, in order, with its hosts.
      const stages = steps.map((p) => p.stage).filter((st, i, all) => st !== all[i - 1]);
      expect(stages).toEqual([
        'validate',
        'resolve cluster',
        'run guard',
        'database password',
        'host keys',
        'preflight',
        'prerequisites',
        'upload',
        'check containers',
        'start waweb',
        'start master',
        'start wacore',
        'wait running',
        'health unregistered',
        'approval',
        'register',
        'waiting for verification code',
        'verify',
        'health connected',
      ]);
      for (const stage of ['host keys', 'preflight', 'upload', 'check containers', 'wait running'])
        expect([...new Set(steps.filter((p) => p.stage === stage).map((p) => p.host))]).toEqual(HOSTS);
      // Preflight and upload, command by command, as the activities run them.
      expect(steps.filter((p) => p.host === 'web1' && /^(preflight|upload)$/.test(p.stage))).toEqual([
        {
          stage: 'preflight',
          host: 'web1',
          command: "docker version --format '{{.Server.Version}}'",
          note: 'Docker answers',
        },
        {
          stage: 'preflight',
          host: 'web1',
          command: expect.stringMatching(/^if command -v docker-compose /),
          note: 'the compose found is used for every compose command on web1',
        },
        { stage: 'upload', host: 'web1', command: 'mkdir -p /root/biz' },
        {
          stage: 'upload',
          host: 'web1',
          command: expect.stringMatching(/^sha256sum \/root\/biz\/x\.yml /),
          note: expect.stringMatching(/^\/root\/biz\/x\.yml sent only when its sha256 differs/),
        },
        {
          stage: 'upload',
          host: 'web1',
          command: expect.stringMatching(/^sha256sum \/root\/biz\/db\.env /),
          note: expect.stringMatching(/^\/root\/biz\/db\.env sent only when its sha256 differs/),
        },
      ]);
      expect(steps.find((p) => p.stage === 'host keys' && p.host === 'core1')?.note).toBe(
        'SSH key exchange with 10.0.0.31:22, closed before logging in: the key must be ssh.knownHosts.core1',
      );
      // The `ps` each host is asked, as src/model/commands.ts builds it: the project's containers
      // from the daemon, in the work dir (v1: the project is named after its physical path).
      const ps = steps.find((p) => p.stage === 'check containers' && p.host === 'web1')?.command;
      expect(ps).toContain('cd /root/biz && { p=$COMPOSE_PROJECT_NAME;');
      expect(ps).toContain('basename "$(pwd -P)"');
      expect(ps).toContain('docker ps -a -q --no-trunc --filter "label=com.docker.compose.project=$p"');
      expect(ps).toContain('docker inspect');
      // The API calls, in order.
      expect(steps.flatMap((p) => (p.api ? [`${p.stage}: ${p.api}`] : []))).toEqual([
        'health unregistered: POST /v1/users/login',
        'health unregistered: GET /v1/health',
        'register: POST /v1/account',
        'verify: POST /v1/account/verify',
        'health connected: GET /v1/health',
      ]);
      // After preflight the compose of each host is known: no "detected at preflight" remark left.
      expect(steps.some((p) => p.note?.includes('detected at preflight'))).toBe(false);
    });
  });

  it("plan: before preflight it says the compose is detected there; after, it shows each host's own", async () => {
    // The password check fails once (retried after 2 s): a window in which preflight has not run.
    const fake = fakeCluster({ variants: { core2: 'v2' } }).fail('checkDbSecret', retryable('vault slow'));
    await scenario(fake, async ({ client, start }) => {
      const handle = await start('haSetup', 'plan-variants', haSetupInput());
      const early = (await until(
        'the plan of the resolved cluster',
        () => plan(client, handle.workflowId),
        (p) => p.length > 1,
      )) as PlanStep[];
      expect(fake.callsOf('preflightHost')).toEqual([]);
      const earlyUp = early.find((p) => p.stage === 'start wacore' && p.host === 'core2');
      expect(earlyUp?.command).toContain(' docker-compose -f x.yml up -d wacore');
      expect(earlyUp?.note).toBe(
        'skipped when already running v2.23.4; shown for docker-compose (v1); the compose of each host is detected at preflight (v2: docker compose)',
      );
      // Deterministic: asked twice, the same answer.
      expect(await plan(client, handle.workflowId)).toEqual(early);

      await gateOpen(handle);
      const late = (await plan(client, handle.workflowId)) as PlanStep[];
      expect(late.map((p) => `${p.stage} ${p.host ?? ''}`)).toEqual(
        early.map((p) => `${p.stage} ${p.host ?? ''}`),
      );
      expect(late.find((p) => p.stage === 'start wacore' && p.host === 'core2')).toEqual({
        stage: 'start wacore',
        host: 'core2',
        command:
          'cd /root/biz && EXTERNAL_HOSTNAME=your-coreapp2-hostname WA_API_VERSION=2.23.4 docker compose -f x.yml up -d wacore',
        note: 'skipped when already running v2.23.4',
      });
      expect(late.find((p) => p.stage === 'start wacore' && p.host === 'core1')?.command).toContain(
        ' docker-compose -f x.yml up -d wacore',
      );
    });
  });

  it('startRunbook refuses a second concurrent haSetup on the same cluster', async () => {
    const cluster = `dup-${randomUUID().slice(0, 8)}`;
    const fake = fakeCluster({ clusters: [cluster] });
    const input = haSetupInput({}, cluster);
    await scenario(fake, async ({ client, taskQueue, track }) => {
      const first = await startRunbook(
        client,
        taskQueue,
        'haSetup',
        input,
        undefined,
        testKey('carol').signer,
      );
      const handle = client.workflow.getHandle(first.workflowId, first.runId);
      track(handle);
      expect(first.workflowId).toBe(`${cluster}/haSetup`);
      // Signed by carol: she is authenticated and the gate needs the policy's one approval.
      const atGate = await gateOpen(handle);
      expect(atGate.requester).toEqual({ name: 'carol', authenticated: true });
      expect(atGate.pendingGates[0]?.needed).toBe(1);
      // The Web UI list shows what the run is about: runbook and cluster.
      expect(await (await handle.describe()).staticSummary()).toBe(`haSetup ${cluster}`);

      const second = await within(
        15_000,
        'the second start',
        startRunbook(client, taskQueue, 'haSetup', input).then(
          (s) => new Error(`the second start was accepted: ${JSON.stringify(s)}`),
          (e: unknown) => e,
        ),
      );
      expect(second).toBeInstanceOf(InputError);
      expect((second as Error).message).toBe(
        `a haSetup run is already in progress on cluster ${cluster} (workflow ${cluster}/haSetup); ` +
          'wait for it to finish or cancel it before starting another',
      );
      // The first run is untouched and still the only one.
      const d = await client.workflow.getHandle(first.workflowId).describe();
      expect(d.runId).toBe(first.runId);
      expect(d.status.name).toBe('RUNNING');

      // Invalid input is refused locally, before anything starts.
      const bad = { ...haSetupInput({}, cluster), workDir: '/root/.ssh' };
      await expect(startRunbook(client, taskQueue, 'haSetup', bad)).rejects.toThrow(
        /invalid haSetup input:\n {2}workDir: unknown field: the work directory lives in the inventory/,
      );

      await handle.terminate('test: end the first run');
      expect((await handle.describe()).status.name).toBe('TERMINATED');
    });
  });
});
