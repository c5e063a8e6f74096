import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApprovalPolicy, type ApprovalPolicyInput } from '../../src/spec/approvals';
import { durationMs } from '../../src/spec/duration';
import { check } from '../../src/spec/validate';
import {
  approveSignal,
  approveUpdate,
  type DecisionResult,
  rejectSignal,
  rejectUpdate,
} from '../../workflows/lib/approval';
import { verificationCodeSignal, verificationCodeUpdate } from '../../workflows/lib/verification-code';
import { type CodeTestStatus, codeTest, type GateTestStatus, gateTest } from '../support/gate-workflows';
import { historyText } from '../support/temporal';

// ---------------------------------------------------------------------------------------------
// The schemas (no server).

describe('approval schemas', () => {
  it('ApprovalPolicy applies its defaults', () => {
    expect(ApprovalPolicy.parse({ approvers: ['alice'] })).toEqual({
      approvers: ['alice'],
      minApprovals: 1,
      allowSelfApproval: false,
      allowPreApproval: false,
      timeout: '24h',
    });
  });

  it('ApprovalPolicy refuses more minApprovals than distinct approvers, on minApprovals', () => {
    const result = check(ApprovalPolicy, { approvers: ['alice', 'alice', 'bob'], minApprovals: 3 });
    expect(result).toEqual({
      ok: false,
      problems: ['minApprovals: minApprovals 3 exceeds the 2 distinct approver(s)'],
    });
    expect(ApprovalPolicy.safeParse({ approvers: ['alice', 'bob'], minApprovals: 2 }).success).toBe(true);
  });

  it('ApprovalPolicy refuses bad identities, durations, unknown fields and an empty approver list', () => {
    const result = check(ApprovalPolicy, {
      approvers: ['alice', 'bob smith'],
      timeout: '1 hour',
      quorum: 2,
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'approvers[1]: expected a person or bot identity (letters, digits, . _ @ -)',
        'timeout: expected a duration like 30s, 15m, 24h',
      ]),
    );
    expect(problems.some((p) => p.includes('quorum'))).toBe(true);
    expect(ApprovalPolicy.safeParse({ approvers: [] }).success).toBe(false);
    expect(ApprovalPolicy.safeParse({ approvers: ['a'], minApprovals: 0 }).success).toBe(false);
  });

  it('durationMs converts every unit and throws on anything else', () => {
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('15m')).toBe(900_000);
    expect(durationMs('24h')).toBe(86_400_000);
    expect(durationMs('2d')).toBe(172_800_000);
    expect(() => durationMs('1.5h')).toThrow(/duration/);
    expect(() => durationMs('10')).toThrow(/duration/);
    expect(() => durationMs('')).toThrow(/duration/);
    // At most nine digits: a huge value is refused, never an overflowing timer.
    expect(durationMs('999999999s')).toBe(999_999_999_000);
    expect(() => durationMs('1e20d')).toThrow(/duration/);
    expect(() => durationMs('99999999999999999999d')).toThrow(/duration/);
  });
});

// ---------------------------------------------------------------------------------------------
// The gates in real workflows, on the suite's dev server.

let bundle: string;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '../support/gate-workflows.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
  bundle = code;
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});

afterAll(async () => {
  await connection?.close();
  await nativeConnection?.close();
});

/** Run `fn` while a worker with the test workflows polls a fresh task queue. */
async function withGateWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `gates-${randomUUID()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { code: bundle },
  });
  return worker.runUntil(fn(taskQueue));
}

const policy = (p: Partial<ApprovalPolicyInput> = {}): ApprovalPolicyInput => ({
  approvers: ['alice', 'bob', 'carol'],
  timeout: '45s',
  ...p,
});

function startGates(taskQueue: string, input: { policy: unknown; requestedBy: string; gates: string[] }) {
  return client.workflow.start(gateTest, {
    taskQueue,
    workflowId: `approval-test/${randomUUID()}`,
    args: [input],
    workflowExecutionTimeout: '60s',
  });
}

/** Poll `read` (a query) until `ok` holds, for at most 15 s. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (ok(value)) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${String(JSON.stringify(last))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const gateStatus = (handle: WorkflowHandle) => handle.query<GateTestStatus>('status');
const codeStatus = (handle: WorkflowHandle) => handle.query<CodeTestStatus>('status');

function gateOpen(handle: WorkflowHandle, gate: string): Promise<GateTestStatus> {
  return until(
    `gate ${gate} to open`,
    () => gateStatus(handle),
    (s) => s.pending.some((p) => p.gate === gate),
  );
}

/** The failure an Update was refused with (by its validator). */
async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    (value) => new Error(`expected the update to be refused, it returned ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** The failure a workflow run ended with. */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    (value) => new Error(`expected the run to fail, it returned ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** The arguments of every Update the run's history shows as accepted. */
async function acceptedUpdates(handle: WorkflowHandle): Promise<unknown[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
    .flatMap(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads ?? [],
    )
    .map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown);
}

describe('ApprovalGates in a workflow', () => {
  it('approves through the Update, whose result says approved; status lists the pending gate first', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      const status = await gateOpen(handle, 'deploy');
      expect(status.pending).toEqual([
        { gate: 'deploy', summary: 'may we deploy?', openedAt: expect.any(String), approvals: [], needed: 1 },
      ]);
      expect(Number.isNaN(Date.parse(status.pending[0]?.openedAt ?? ''))).toBe(false);
      expect(status.decisions).toEqual([]);

      const result: DecisionResult = await handle.executeUpdate(approveUpdate, {
        args: [{ gate: 'deploy', by: 'alice', comment: 'looks good' }],
      });
      expect(result).toEqual({ gate: 'deploy', accepted: true, approvals: 1, needed: 1, state: 'approved' });

      const outcome = await handle.result();
      expect(outcome.refused).toEqual([]);
      expect(outcome.decisions).toEqual([
        { gate: 'deploy', kind: 'approve', by: 'alice', at: expect.any(String), comment: 'looks good' },
      ]);
      const after = await gateStatus(handle);
      expect(after.pending).toEqual([]);
      expect(after.hooks).toEqual(['open:deploy:may we deploy?', 'close:deploy:approved']);
    });
  });

  it('approves through the Signal', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      await handle.signal(approveSignal, { gate: 'deploy', by: 'bob' });
      const outcome = await handle.result();
      expect(outcome.decisions).toEqual([
        { gate: 'deploy', kind: 'approve', by: 'bob', at: expect.any(String) },
      ]);
      expect(outcome.refused).toEqual([]);
    });
  });

  it('with minApprovals 2 needs two different approvers; the same approver twice is refused', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy({ minApprovals: 2 }),
        requestedBy: 'dave',
        gates: ['upgrade'],
      });
      await gateOpen(handle, 'upgrade');
      expect(await handle.executeUpdate(approveUpdate, { args: [{ gate: 'upgrade', by: 'alice' }] })).toEqual(
        {
          gate: 'upgrade',
          accepted: true,
          approvals: 1,
          needed: 2,
          state: 'open',
        },
      );
      const twice = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'upgrade', by: 'alice' }] }),
      );
      expect(twice.type).toBe('DecisionRefused');
      expect(twice.message).toBe('alice already approved gate "upgrade"');
      await handle.signal(approveSignal, { gate: 'upgrade', by: 'alice' });

      const status = await until(
        'the refused signal',
        () => gateStatus(handle),
        (s) => s.refused.length === 1,
      );
      expect(status.pending).toEqual([
        expect.objectContaining({ gate: 'upgrade', approvals: ['alice'], needed: 2 }),
      ]);

      expect(await handle.executeUpdate(approveUpdate, { args: [{ gate: 'upgrade', by: 'bob' }] })).toEqual({
        gate: 'upgrade',
        accepted: true,
        approvals: 2,
        needed: 2,
        state: 'approved',
      });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.kind}:${d.by}`)).toEqual(['approve:alice', 'approve:bob']);
      expect(outcome.refused).toEqual([
        {
          gate: 'upgrade',
          kind: 'approve',
          by: 'alice',
          at: expect.any(String),
          why: 'alice already approved gate "upgrade"',
        },
      ]);
    });
  });

  it('a rejection through the Update fails the run with ApprovalRejected and the reason', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['uninstall'],
      });
      await gateOpen(handle, 'uninstall');
      const result = await handle.executeUpdate(rejectUpdate, {
        args: [{ gate: 'uninstall', by: 'carol', reason: 'not during peak hours' }],
      });
      expect(result).toEqual({
        gate: 'uninstall',
        accepted: true,
        approvals: 0,
        needed: 1,
        state: 'rejected',
      });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('gate "uninstall" rejected by carol: not during peak hours');
      const status = await gateStatus(handle);
      expect(status.hooks).toEqual(['open:uninstall:may we uninstall?', 'close:uninstall:rejected']);
      expect(status.decisions).toEqual([
        {
          gate: 'uninstall',
          kind: 'reject',
          by: 'carol',
          at: expect.any(String),
          reason: 'not during peak hours',
        },
      ]);
    });
  });

  it('a rejection through the Signal fails the run too', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['uninstall'],
      });
      await gateOpen(handle, 'uninstall');
      await handle.signal(rejectSignal, { gate: 'uninstall', by: 'bob', reason: 'wrong cluster' });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "uninstall" rejected by bob: wrong cluster');
    });
  });

  it('a gate nobody decides fails the run with ApprovalTimedOut after the policy timeout', async () => {
    await withGateWorker(async (taskQueue) => {
      const started = Date.now();
      const handle = await startGates(taskQueue, {
        policy: policy({ timeout: '2s', minApprovals: 2 }),
        requestedBy: 'dave',
        gates: ['chown'],
      });
      await gateOpen(handle, 'chown');
      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'chown', by: 'alice' }] });
      const failure = await failureOf(handle.result());
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(failure.type).toBe('ApprovalTimedOut');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('gate "chown" timed out after 2s with 1 of 2 approval(s)');
      const status = await gateStatus(handle);
      expect(status.pending).toEqual([]);
      expect(status.hooks).toEqual(['open:chown:may we chown?', 'close:chown:timedOut']);
    });
  });

  it('self-approval is refused by the Update validator and never reaches the history', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'carol',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const refused = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'carol' }] }),
      );
      expect(refused.type).toBe('DecisionRefused');
      expect(refused.message).toBe(
        'carol requested this run and may not decide its gates (self-approval is off)',
      );
      expect(await acceptedUpdates(handle)).toEqual([]);
      expect((await gateStatus(handle)).pending[0]?.approvals).toEqual([]);

      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'bob' }] });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => d.by)).toEqual(['bob']);
      expect(await acceptedUpdates(handle)).toEqual([{ gate: 'deploy', by: 'bob' }]);
      // The refused Update left no trace at all: carol appears only in the run's input.
      const events = (await handle.fetchHistory()).events ?? [];
      const carols = (x: unknown) => historyText(x).match(/carol/g)?.length ?? 0;
      expect(carols(events[0]?.workflowExecutionStartedEventAttributes?.input)).toBe(2);
      expect(carols(events)).toBe(2);
    });
  });

  it('self-approval is allowed when the policy allows it', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy({ allowSelfApproval: true }),
        requestedBy: 'carol',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const result = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'carol' }] });
      expect(result.state).toBe('approved');
      expect((await handle.result()).decisions.map((d) => d.by)).toEqual(['carol']);
    });
  });

  it('refuses a non-approver and a malformed decision through the Update', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const stranger = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'mallory' }] }),
      );
      expect(stranger.message).toBe('mallory is not an approver of this run');
      const strangerReject = await refusal(
        handle.executeUpdate(rejectUpdate, { args: [{ gate: 'deploy', by: 'mallory', reason: 'because' }] }),
      );
      expect(strangerReject.message).toBe('mallory is not an approver of this run');
      const malformed = await refusal(
        handle.executeUpdate(rejectUpdate, { args: [{ gate: 'deploy', by: 'bob' } as never] }),
      );
      expect(malformed.message).toMatch(/^malformed reject: reason: /);
      expect(await acceptedUpdates(handle)).toEqual([]);

      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'alice' }] });
      expect((await handle.result()).decisions.map((d) => d.by)).toEqual(['alice']);
    });
  });

  it('refuses decisions for a gate that is not open: not yet opened, unknown, or already closed', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['stop', 'start'],
      });
      await gateOpen(handle, 'stop');
      const early = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'start', by: 'alice' }] }),
      );
      expect(early.message).toBe('gate "start" is not open');
      const unknown = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'nope', by: 'alice' }] }),
      );
      expect(unknown.message).toBe('gate "nope" is not open');

      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'stop', by: 'alice' }] });
      await gateOpen(handle, 'start');
      const late = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ gate: 'stop', by: 'bob' }] }),
      );
      expect(late.message).toBe('gate "stop" is not open (approved)');

      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'start', by: 'bob' }] });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.gate}:${d.by}`)).toEqual(['stop:alice', 'start:bob']);
    });
  });

  it('records refused Signals in refused and does not apply them', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'carol',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      await handle.signal(approveSignal, { gate: 'deploy', by: 'mallory' });
      await handle.signal(approveSignal, { gate: 'deploy', by: 'carol' });
      await handle.signal(rejectSignal, { gate: 'deploy', by: 'bob' } as never);
      await handle.signal(approveSignal, { gate: 'later', by: 'alice' });

      const status = await until(
        'four refused signals',
        () => gateStatus(handle),
        (s) => s.refused.length === 4,
      );
      expect(status.decisions).toEqual([]);
      expect(status.pending).toEqual([expect.objectContaining({ gate: 'deploy', approvals: [] })]);
      expect(status.refused.map(({ kind, by, gate, why }) => ({ kind, by, gate, why }))).toEqual([
        { kind: 'approve', by: 'mallory', gate: 'deploy', why: 'mallory is not an approver of this run' },
        {
          kind: 'approve',
          by: 'carol',
          gate: 'deploy',
          why: 'carol requested this run and may not decide its gates (self-approval is off)',
        },
        {
          kind: 'reject',
          by: 'bob',
          gate: 'deploy',
          why: expect.stringMatching(/^malformed reject: reason: /),
        },
        { kind: 'approve', by: 'alice', gate: 'later', why: 'gate "later" is not open' },
      ]);

      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', by: 'alice' }] });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => d.by)).toEqual(['alice']);
      expect(outcome.refused).toHaveLength(4);
    });
  });

  it('opening the same gate twice fails the run', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['a', 'a'],
      });
      await gateOpen(handle, 'a');
      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'a', by: 'alice' }] });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('DuplicateGate');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('approval gate "a" was already opened in this run');
    });
  });

  it('a bad policy fails the run at once with InvalidInput', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: { approvers: ['alice'], minApprovals: 2 },
        requestedBy: 'dave',
        gates: ['a'],
      });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toContain('minApprovals: minApprovals 2 exceeds the 1 distinct approver(s)');
    });
  });
});

describe('VerificationCode in a workflow', () => {
  function startCode(taskQueue: string, input: { timeout: string; delay?: string }) {
    return client.workflow.start(codeTest, {
      taskQueue,
      workflowId: `code-test/${randomUUID()}`,
      args: [input],
      workflowExecutionTimeout: '60s',
    });
  }
  const awaiting = (handle: WorkflowHandle) =>
    until(
      'the code wait',
      () => codeStatus(handle),
      (s) => s.awaiting,
    );

  it('takes the code through the Update; a malformed code is refused first', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startCode(taskQueue, { timeout: '45s' });
      await awaiting(handle);
      const bad = await refusal(
        handle.executeUpdate(verificationCodeUpdate, { args: [{ code: '12a', by: 'alice' }] }),
      );
      expect(bad.message).toBe('malformed verification code: code: expected a code of 3 to 8 digits');
      expect(bad.message).not.toContain('12a');
      expect(
        await handle.executeUpdate(verificationCodeUpdate, { args: [{ code: '123456', by: 'alice' }] }),
      ).toEqual({ accepted: true });
      expect(await handle.result()).toEqual({ code: '123456', by: 'alice', at: expect.any(String) });
      const status = await codeStatus(handle);
      expect(status.awaiting).toBe(false);
      expect(status.receipts).toEqual([{ by: 'alice', at: expect.any(String) }]);
    });
  });

  it('takes the code through the Signal; refused Signals are recorded without the code', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startCode(taskQueue, { timeout: '45s' });
      await awaiting(handle);
      await handle.signal(verificationCodeSignal, { code: '98x', by: 'bob' });
      await until(
        'the refused code',
        () => codeStatus(handle),
        (s) => s.refused.length === 1,
      );
      await handle.signal(verificationCodeSignal, { code: '987654', by: 'bob' });
      expect(await handle.result()).toEqual({ code: '987654', by: 'bob', at: expect.any(String) });
      const status = await codeStatus(handle);
      expect(status.refused).toEqual([
        {
          by: 'bob',
          at: expect.any(String),
          why: 'malformed verification code: code: expected a code of 3 to 8 digits',
        },
      ]);
      expect(JSON.stringify(status)).not.toContain('98x');
    });
  });

  it('refuses a code while none is awaited', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startCode(taskQueue, { timeout: '45s', delay: '4s' });
      const early = await refusal(
        handle.executeUpdate(verificationCodeUpdate, { args: [{ code: '1111', by: 'alice' }] }),
      );
      expect(early.message).toBe('no verification code is awaited now');
      await awaiting(handle);
      await handle.executeUpdate(verificationCodeUpdate, { args: [{ code: '2222', by: 'alice' }] });
      expect((await handle.result()).code).toBe('2222');
    });
  });

  it('fails with VerificationCodeTimedOut when no code arrives in time', async () => {
    await withGateWorker(async (taskQueue) => {
      const started = Date.now();
      const handle = await startCode(taskQueue, { timeout: '2s' });
      const failure = await failureOf(handle.result());
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(failure.type).toBe('VerificationCodeTimedOut');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('no verification code arrived within 2s');
    });
  });
});
