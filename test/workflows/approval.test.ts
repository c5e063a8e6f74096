import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  ApprovalPolicy,
  type ApprovalPolicyInput,
  type ApproveArgs,
  type CodeArgs,
  type PreApproval,
  type RejectArgs,
} from '../../src/model/approvals';
import { type DecisionText, decisionText, preApprovalText, sha256Hex } from '../../src/model/decisions';
import { durationMs } from '../../src/model/duration';
import { check } from '../../src/model/validate';
import {
  approveSignal,
  approveUpdate,
  type DecisionResult,
  rejectSignal,
  rejectUpdate,
  verificationCodeSignal,
  verificationCodeUpdate,
} from '../../workflows/api';
import { planHashOf } from '../../workflows/lib/approval';
import { approve as cliApprove, reject as cliReject, sendCode } from '../support/decide';
import {
  codeStatusQuery,
  codeTest,
  GATE_TEST_CLUSTER,
  GATE_TEST_RUNBOOK,
  GATE_TEST_SPEC_HASH,
  type GateTestInput,
  type GateTestStatus,
  gateStatusQuery,
  gateSteps,
  gateTest,
} from '../support/gate-workflows';
import { testKey } from '../support/keys';
import { historyText, useOwnBundle } from '../support/temporal';

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
      keys: {},
      requesters: {},
      relays: [],
      signCodes: false,
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

  it('ApprovalPolicy keeps keys, requesters and relays, and refuses unknown relay fields', () => {
    const alice = testKey('alice').publicLine;
    const relay = { name: 'chatops', key: testKey('chatops').publicLine, mayActFor: ['alice'] };
    expect(
      ApprovalPolicy.parse({
        approvers: ['alice'],
        keys: { alice: [alice] },
        requesters: { dave: [testKey('dave').publicLine] },
        relays: [relay],
        signCodes: true,
      }),
    ).toMatchObject({ keys: { alice: [alice] }, relays: [relay], signCodes: true });
    const bad = check(ApprovalPolicy, {
      approvers: ['alice'],
      keys: { 'bob smith': [alice] },
      relays: [{ ...relay, mayActFor: ['alice'], speaksFor: ['bob'] }],
    });
    expect(bad.ok).toBe(false);
    const problems = bad.ok ? [] : bad.problems;
    expect(problems.some((p) => p.includes('speaksFor'))).toBe(true);
    expect(problems.some((p) => p.startsWith('keys'))).toBe(true);
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

const own = useOwnBundle(path.join(__dirname, '../support/gate-workflows.ts'));

/** Run `fn` while a worker with the test workflows polls a fresh task queue. */
async function withGateWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `gates-${randomUUID()}`;
  const worker = await Worker.create({
    connection: own.nativeConnection,
    taskQueue,
    workflowBundle: { code: own.bundle },
  });
  return worker.runUntil(fn(taskQueue));
}

/** The public key lines of the test keys of `names`, as the policy lists them. */
const keysOf = (...names: string[]): Record<string, string[]> =>
  Object.fromEntries(names.map((n) => [n, [testKey(n).publicLine]]));

/** The fingerprint of `name`'s test key (what results and decisions name). */
const fp = (name: string): string => testKey(name).signer.fingerprint;

const policy = (p: Partial<ApprovalPolicyInput> = {}): ApprovalPolicyInput => ({
  approvers: ['alice', 'bob', 'carol'],
  timeout: '45s',
  keys: keysOf('alice', 'bob', 'carol'),
  ...p,
});

/** The plan hash the test workflow's gate `gate` shows (computed offline, as a dry run would). */
const planOf = (gate: string, note?: string): string =>
  planHashOf(gate, GATE_TEST_SPEC_HASH, gateSteps(gate, note));

function startGates(taskQueue: string, input: GateTestInput, workflowId = `approval-test/${randomUUID()}`) {
  return own.client.workflow.start(gateTest, {
    taskQueue,
    workflowId,
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

const gateStatus = (handle: WorkflowHandle) => handle.query(gateStatusQuery);
const codeStatus = (handle: WorkflowHandle) => handle.query(codeStatusQuery);

function gateOpen(handle: WorkflowHandle, gate: string): Promise<GateTestStatus> {
  return until(
    `gate ${gate} to open`,
    () => gateStatus(handle),
    (s) => s.pending.some((p) => p.gate === gate),
  );
}

/** Refused Signals and pre-approvals as `by: why` lines, once there are `n` of them. */
async function refusedLines(handle: WorkflowHandle, n: number): Promise<string[]> {
  const status = await until(
    `${n} refused decision(s)`,
    () => gateStatus(handle),
    (s) => s.refused.length >= n,
  );
  return status.refused.map((r) => `${r.kind} ${r.gate} ${r.by}: ${r.why}`);
}

/** What a person signs and sends; the defaults make a good decision on the open gate. */
interface Signing {
  gate: string;
  by: string;
  /** approve: the comment; reject: the reason. */
  note?: string;
  /** Whose test key signs: default the relay's, else `by`'s (in lower case: one person, one key). */
  key?: string;
  /** The signing time; default now. */
  at?: string;
  /** The plan hash sent (and signed); default the one the open gate shows. */
  plan?: string;
  relay?: string;
  via?: string;
  /** Where the signed text differs from what is sent (forgeries, other runs, other gates). */
  signed?: Partial<DecisionText>;
}

/** The signed arguments of a decision on `handle`'s run, built as the CLI builds them. */
async function signedArgs(handle: WorkflowHandle, verb: 'approve' | 'reject', s: Signing) {
  const { runId } = await handle.describe();
  const shown = (await gateStatus(handle)).pending.find((g) => g.gate === s.gate)?.plan;
  const plan = s.plan ?? shown ?? planOf(s.gate);
  const at = s.at ?? new Date().toISOString();
  const text = decisionText({
    verb,
    workflowId: handle.workflowId,
    runId,
    gate: s.gate,
    plan,
    by: s.by,
    at,
    ...(s.note !== undefined ? { note: s.note } : {}),
    ...(s.via !== undefined ? { via: s.via } : {}),
    ...s.signed,
  });
  // The person's key whatever the case of the name they sign as.
  const signature = await testKey((s.key ?? s.relay ?? s.by).toLowerCase()).signer.sign(text);
  return {
    gate: s.gate,
    by: s.by,
    at,
    plan,
    signature,
    ...(s.relay !== undefined ? { relay: s.relay } : {}),
    ...(s.via !== undefined ? { via: s.via } : {}),
  };
}

const approval = async (handle: WorkflowHandle, s: Signing): Promise<ApproveArgs> => ({
  ...(await signedArgs(handle, 'approve', s)),
  ...(s.note !== undefined ? { comment: s.note } : {}),
});

const rejection = async (handle: WorkflowHandle, s: Signing & { note: string }): Promise<RejectArgs> => ({
  ...(await signedArgs(handle, 'reject', s)),
  reason: s.note,
});

/** Sign and send an approval by Update. */
async function approve(handle: WorkflowHandle, s: Signing): Promise<DecisionResult> {
  return handle.executeUpdate(approveUpdate, { args: [await approval(handle, s)] });
}

/** The failure an Update was refused with (by its validator). */
async function refusal(promise: Promise<unknown>, type = 'DecisionRefused'): Promise<ApplicationFailure> {
  const err = await promise.then(
    (value) => new Error(`expected the update to be refused, it returned ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(type);
  return cause as ApplicationFailure;
}

/** Why an approval by Update was refused. */
async function approvalRefused(
  handle: WorkflowHandle,
  args: ApproveArgs | Promise<ApproveArgs>,
): Promise<string> {
  return (await refusal(handle.executeUpdate(approveUpdate, { args: [await args] }))).message;
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

/** `text` as a regular expression matching it literally. */
const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The refusal of a decision signed too long before the run's clock. */
const tooOld = (at: string) =>
  new RegExp(
    `^signed at ${literally(at)}, more than 15 minutes before the run's clock \\(.+\\): sign it again$`,
  );
/** The refusal of a decision signed ahead of the run's clock. */
const tooEarly = (at: string) =>
  new RegExp(`^signed at ${literally(at)}, ahead of the run's clock \\(.+\\): check the signer's clock$`);
/** The refusal of a decision signed by `signer`'s key, which the policy does not list for `by`. */
const notTheirKey = (by: string, signer: string) =>
  `${by}: signed by key ${fp(signer)}, which is not listed for that person`;
/** The refusal of a signature by `signer`'s key over another text (another run, gate, plan, ...). */
const notThisDecision = (by: string, signer: string) =>
  `${by}: the signature by ${fp(signer)} does not match this decision`;
/** The refusal of a decision signed for `signedFor` on a gate that shows `shown`. */
const otherPlan = (gate: string, signedFor: string, shown: string) =>
  `signed for plan ${signedFor.slice(0, 12)}…, but gate "${gate}" shows plan ${shown.slice(0, 12)}…: read the plan again and sign that`;
const UNSIGNED =
  'unsigned: a decision counts only when signed with the approver\'s SSH key ("waba-runbooks approve" signs it; "waba-runbooks sign" prints one for the Web UI)';
const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

describe('ApprovalGates in a workflow', () => {
  it('approves through the Update, whose result says approved; status lists the pending gate and its plan first', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      const status = await gateOpen(handle, 'deploy');
      expect(status.pending).toEqual([
        {
          gate: 'deploy',
          summary: 'may we deploy?',
          openedAt: expect.any(String),
          plan: planOf('deploy'),
          approvals: [],
          needed: 1,
        },
      ]);
      expect(Number.isNaN(Date.parse(status.pending[0]?.openedAt ?? ''))).toBe(false);
      expect(status.decisions).toEqual([]);
      expect(status.approvers).toEqual({ alice: [fp('alice')], bob: [fp('bob')], carol: [fp('carol')] });

      const args = await approval(handle, { gate: 'deploy', by: 'alice', note: 'looks good' });
      const result: DecisionResult = await handle.executeUpdate(approveUpdate, { args: [args] });
      expect(result).toEqual({
        gate: 'deploy',
        accepted: true,
        approvals: 1,
        needed: 1,
        state: 'approved',
        key: fp('alice'),
      });

      const outcome = await handle.result();
      expect(outcome.refused).toEqual([]);
      expect(outcome.decisions).toEqual([
        {
          gate: 'deploy',
          kind: 'approve',
          by: 'alice',
          at: expect.any(String),
          plan: planOf('deploy'),
          key: fp('alice'),
          signedAt: args.at,
          comment: 'looks good',
        },
      ]);
      const after = await gateStatus(handle);
      expect(after.pending).toEqual([]);
      expect(after.hooks).toEqual(['open:deploy:may we deploy?', 'close:deploy:approved']);
    });
  });

  it("approves with the CLI's signing helper, which reads the run's plan and approvers from its status", async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const result = await cliApprove(own.client, handle.workflowId, 'deploy', 'carol', 'ok');
      expect(result).toEqual(expect.objectContaining({ state: 'approved', key: fp('carol') }));
      const outcome = await handle.result();
      expect(outcome.decisions).toEqual([
        expect.objectContaining({ by: 'carol', plan: planOf('deploy'), key: fp('carol'), comment: 'ok' }),
      ]);
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
      const args = await approval(handle, { gate: 'deploy', by: 'bob' });
      await handle.signal(approveSignal, args);
      const outcome = await handle.result();
      expect(outcome.decisions).toEqual([
        {
          gate: 'deploy',
          kind: 'approve',
          by: 'bob',
          at: expect.any(String),
          plan: planOf('deploy'),
          key: fp('bob'),
          signedAt: args.at,
        },
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
      expect(await approve(handle, { gate: 'upgrade', by: 'alice' })).toEqual({
        gate: 'upgrade',
        accepted: true,
        approvals: 1,
        needed: 2,
        state: 'open',
        key: fp('alice'),
      });
      expect(await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'alice' }))).toBe(
        'alice already approved gate "upgrade"',
      );
      await handle.signal(approveSignal, await approval(handle, { gate: 'upgrade', by: 'alice' }));

      const status = await until(
        'the refused signal',
        () => gateStatus(handle),
        (s) => s.refused.length === 1,
      );
      expect(status.pending).toEqual([
        expect.objectContaining({ gate: 'upgrade', approvals: ['alice'], needed: 2 }),
      ]);

      expect(await approve(handle, { gate: 'upgrade', by: 'bob' })).toEqual({
        gate: 'upgrade',
        accepted: true,
        approvals: 2,
        needed: 2,
        state: 'approved',
        key: fp('bob'),
      });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.kind}:${d.by}:${d.key}`)).toEqual([
        `approve:alice:${fp('alice')}`,
        `approve:bob:${fp('bob')}`,
      ]);
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
      const args = await rejection(handle, { gate: 'uninstall', by: 'carol', note: 'not during peak hours' });
      const result = await handle.executeUpdate(rejectUpdate, { args: [args] });
      expect(result).toEqual({
        gate: 'uninstall',
        accepted: true,
        approvals: 0,
        needed: 1,
        state: 'rejected',
        key: fp('carol'),
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
          plan: planOf('uninstall'),
          key: fp('carol'),
          signedAt: args.at,
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
      await handle.signal(
        rejectSignal,
        await rejection(handle, { gate: 'uninstall', by: 'bob', note: 'wrong cluster' }),
      );
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('ApprovalRejected');
      expect(failure.message).toBe('gate "uninstall" rejected by bob: wrong cluster');
    });
  });

  it("a rejection with the CLI's signing helper: the reason is signed too", async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['uninstall'],
      });
      await gateOpen(handle, 'uninstall');
      // The reason is part of the signed text: another reason under the same signature is refused.
      const signed = await rejection(handle, { gate: 'uninstall', by: 'bob', note: 'wrong cluster' });
      const altered = await refusal(
        handle.executeUpdate(rejectUpdate, { args: [{ ...signed, reason: 'approved, go ahead' }] }),
      );
      expect(altered.message).toBe(notThisDecision('bob', 'bob'));
      expect(await cliReject(own.client, handle.workflowId, 'uninstall', 'bob', 'wrong cluster')).toEqual(
        expect.objectContaining({ state: 'rejected', key: fp('bob') }),
      );
      const failure = await failureOf(handle.result());
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
      await approve(handle, { gate: 'chown', by: 'alice' });
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
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'carol' }))).toBe(
        'carol requested this run and may not decide its gates (self-approval is off)',
      );
      expect(await acceptedUpdates(handle)).toEqual([]);
      expect((await gateStatus(handle)).pending[0]?.approvals).toEqual([]);

      const bobs = await approval(handle, { gate: 'deploy', by: 'bob' });
      await handle.executeUpdate(approveUpdate, { args: [bobs] });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => d.by)).toEqual(['bob']);
      expect(await acceptedUpdates(handle)).toEqual([bobs]);
      // The refused Update left no trace at all: carol appears only in the run's input.
      const events = (await handle.fetchHistory()).events ?? [];
      const carols = (x: unknown) => historyText(x).match(/carol/g)?.length ?? 0;
      const inInput = carols(events[0]?.workflowExecutionStartedEventAttributes?.input);
      expect(inInput).toBeGreaterThanOrEqual(2);
      expect(carols(events)).toBe(inInput);
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
      const result = await approve(handle, { gate: 'deploy', by: 'carol' });
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
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'mallory' }))).toBe(
        'mallory is not an approver of this run',
      );
      const strangerReject = await refusal(
        handle.executeUpdate(rejectUpdate, {
          args: [await rejection(handle, { gate: 'deploy', by: 'mallory', note: 'because' })],
        }),
      );
      expect(strangerReject.message).toBe('mallory is not an approver of this run');
      const { comment: _none, ...withoutReason } = await approval(handle, { gate: 'deploy', by: 'bob' });
      const malformed = await refusal(handle.executeUpdate(rejectUpdate, { args: [withoutReason as never] }));
      expect(malformed.message).toMatch(/^malformed reject: reason: /);
      const notArmored = await refusal(
        handle.executeUpdate(approveUpdate, {
          args: [{ ...(await approval(handle, { gate: 'deploy', by: 'bob' })), signature: 'trust me' }],
        }),
      );
      expect(notArmored.message).toBe(
        'malformed approve: signature: expected an armored SSH signature (ssh-keygen -Y sign -n waba-runbooks)',
      );
      expect(await acceptedUpdates(handle)).toEqual([]);

      await approve(handle, { gate: 'deploy', by: 'alice' });
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
      expect(await approvalRefused(handle, approval(handle, { gate: 'start', by: 'alice' }))).toBe(
        'gate "start" is not open',
      );
      expect(await approvalRefused(handle, approval(handle, { gate: 'nope', by: 'alice' }))).toBe(
        'gate "nope" is not open',
      );

      await approve(handle, { gate: 'stop', by: 'alice' });
      await gateOpen(handle, 'start');
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'stop', by: 'bob', plan: planOf('stop') })),
      ).toBe('gate "stop" is not open (approved)');

      await approve(handle, { gate: 'start', by: 'bob' });
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
      await handle.signal(approveSignal, await approval(handle, { gate: 'deploy', by: 'mallory' }));
      await handle.signal(approveSignal, await approval(handle, { gate: 'deploy', by: 'carol' }));
      const { comment: _none, ...withoutReason } = await approval(handle, { gate: 'deploy', by: 'bob' });
      await handle.signal(rejectSignal, withoutReason as never);
      await handle.signal(approveSignal, await approval(handle, { gate: 'later', by: 'alice' }));

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

      await approve(handle, { gate: 'deploy', by: 'alice' });
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
      await approve(handle, { gate: 'a', by: 'alice' });
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

// ---------------------------------------------------------------------------------------------
// Issue 12 / TRUST.md rules 5-8: a decision counts only when signed by a key the policy lists for
// its author, for this run, this gate and the plan it shows, recently.

describe('signed decisions in a workflow (TRUST.md rules 5-8)', () => {
  it('refuses an unsigned decision, and one whose signature is not an SSH signature, with the reason', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      // As the Web UI's Update dialog sends it without `waba-runbooks sign`: a name and nothing else.
      expect(await approvalRefused(handle, { gate: 'deploy', by: 'alice' })).toBe(UNSIGNED);
      const signed = await approval(handle, { gate: 'deploy', by: 'alice' });
      const { signature: _s, ...noSignature } = signed;
      expect(await approvalRefused(handle, noSignature)).toBe(UNSIGNED);
      const { plan: _p, ...noPlan } = signed;
      expect(await approvalRefused(handle, noPlan)).toBe(UNSIGNED);
      const { at: _a, ...noTime } = signed;
      expect(await approvalRefused(handle, noTime)).toBe(UNSIGNED);
      const unsignedReject = await refusal(
        handle.executeUpdate(rejectUpdate, { args: [{ gate: 'deploy', by: 'bob', reason: 'no' }] }),
      );
      expect(unsignedReject.message).toBe(UNSIGNED);
      const garbage = '-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n';
      expect(await approvalRefused(handle, { ...signed, signature: garbage })).toMatch(
        /^alice: not a valid SSH signature \(.+\)$/,
      );
      // None of them reached the history or the gate.
      expect(await acceptedUpdates(handle)).toEqual([]);
      expect((await gateStatus(handle)).pending[0]?.approvals).toEqual([]);
      await handle.executeUpdate(approveUpdate, { args: [signed] });
      expect((await handle.result()).decisions.map((d) => d.by)).toEqual(['alice']);
    });
  });

  it("refuses a decision signed by a key the policy does not list for that person (bob's or mallory's key as alice)", async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', key: 'bob' })),
      ).toBe(notTheirKey('alice', 'bob'));
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', key: 'mallory' })),
      ).toBe(notTheirKey('alice', 'mallory'));
      // A signature copied from bob's valid approval, with alice's name put in.
      const bobs = await approval(handle, { gate: 'deploy', by: 'bob' });
      expect(await approvalRefused(handle, { ...bobs, by: 'alice' })).toBe(notTheirKey('alice', 'bob'));
      const forgedReject = await refusal(
        handle.executeUpdate(rejectUpdate, {
          args: [await rejection(handle, { gate: 'deploy', by: 'carol', key: 'mallory', note: 'stop' })],
        }),
      );
      expect(forgedReject.message).toBe(notTheirKey('carol', 'mallory'));
      expect(await acceptedUpdates(handle)).toEqual([]);
      await handle.executeUpdate(approveUpdate, { args: [bobs] });
      expect((await handle.result()).decisions.map((d) => `${d.by}:${d.key}`)).toEqual([`bob:${fp('bob')}`]);
    });
  });

  it('refuses a decision replayed from another run: another workflow, or an earlier run of the same workflow id', async () => {
    await withGateWorker(async (taskQueue) => {
      const first = await startGates(taskQueue, { policy: policy(), requestedBy: 'dave', gates: ['deploy'] });
      const other = await startGates(taskQueue, { policy: policy(), requestedBy: 'dave', gates: ['deploy'] });
      await gateOpen(first, 'deploy');
      await approve(first, { gate: 'deploy', by: 'alice', note: 'ship it' });
      await first.result();
      // What anyone with namespace access can read: the accepted Update, signature and all.
      const [copied] = (await acceptedUpdates(first)) as ApproveArgs[];
      expect(copied).toEqual(expect.objectContaining({ by: 'alice', comment: 'ship it' }));
      const copy = copied as ApproveArgs;

      // Same gate, same plan (the same spec and steps), another workflow: the run ids differ.
      const open = await gateOpen(other, 'deploy');
      expect(open.pending[0]?.plan).toBe(copy.plan);
      expect(await approvalRefused(other, copy)).toBe(notThisDecision('alice', 'alice'));
      await other.signal(approveSignal, copy);
      expect(await refusedLines(other, 1)).toEqual([
        `approve deploy alice: ${notThisDecision('alice', 'alice')}`,
      ]);

      // The same workflow id, started again: only the run id differs.
      const again = await startGates(
        taskQueue,
        { policy: policy(), requestedBy: 'dave', gates: ['deploy'] },
        first.workflowId,
      );
      await gateOpen(again, 'deploy');
      expect(await approvalRefused(again, copy)).toBe(notThisDecision('alice', 'alice'));
      expect(await acceptedUpdates(again)).toEqual([]);

      // A fresh signature for each run is accepted.
      await approve(other, { gate: 'deploy', by: 'alice' });
      await approve(again, { gate: 'deploy', by: 'alice' });
      expect((await other.result()).decisions.map((d) => d.by)).toEqual(['alice']);
      expect((await again.result()).decisions.map((d) => d.by)).toEqual(['alice']);
    });
  });

  it('refuses a decision signed for another gate of the run', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['stop', 'start'],
      });
      await gateOpen(handle, 'stop');
      const forStop = await approval(handle, { gate: 'stop', by: 'alice' });
      await handle.executeUpdate(approveUpdate, { args: [forStop] });
      await gateOpen(handle, 'start');
      // Sent to the other gate as it is: the plan it was signed for is stop's.
      expect(await approvalRefused(handle, { ...forStop, gate: 'start' })).toBe(
        otherPlan('start', planOf('stop'), planOf('start')),
      );
      // With start's plan hash put in: the signature is over stop's text.
      expect(await approvalRefused(handle, { ...forStop, gate: 'start', plan: planOf('start') })).toBe(
        notThisDecision('alice', 'alice'),
      );
      // Signed for gate "stop" over start's plan hash, sent to start: the gate is in the text too.
      expect(
        await approvalRefused(
          handle,
          approval(handle, { gate: 'start', by: 'alice', signed: { gate: 'stop' } }),
        ),
      ).toBe(notThisDecision('alice', 'alice'));
      await approve(handle, { gate: 'start', by: 'alice' });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.gate}:${d.by}:${d.plan}`)).toEqual([
        `stop:alice:${planOf('stop')}`,
        `start:alice:${planOf('start')}`,
      ]);
    });
  });

  it('refuses a decision signed for another plan hash than the gate shows', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['upgrade'],
      });
      const shown = (await gateOpen(handle, 'upgrade')).pending[0]?.plan as string;
      expect(shown).toBe(planOf('upgrade'));
      // Signed for a plan the approver read elsewhere (another spec, other steps).
      const stale = planHashOf('upgrade', GATE_TEST_SPEC_HASH, gateSteps('upgrade', 'the plan of yesterday'));
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'bob', plan: stale })),
      ).toBe(otherPlan('upgrade', stale, shown));
      const otherSpec = planHashOf('upgrade', sha256Hex('another cluster'), gateSteps('upgrade'));
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'bob', plan: otherSpec })),
      ).toBe(otherPlan('upgrade', otherSpec, shown));
      // The gate's hash sent, another signed: the signature does not cover what the gate shows.
      expect(
        await approvalRefused(
          handle,
          approval(handle, { gate: 'upgrade', by: 'bob', signed: { plan: stale } }),
        ),
      ).toBe(notThisDecision('bob', 'bob'));
      await approve(handle, { gate: 'upgrade', by: 'bob' });
      expect((await handle.result()).decisions.map((d) => d.plan)).toEqual([shown]);
    });
  });

  it("refuses a decision signed outside the time window (over 15 min before, over 5 min after the run's clock)", async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy({ minApprovals: 2 }),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const old = minutes(-16);
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', at: old })),
      ).toMatch(tooOld(old));
      const dayOld = minutes(-24 * 60);
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', at: dayOld })),
      ).toMatch(tooOld(dayOld));
      const ahead = minutes(6);
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', at: ahead })),
      ).toMatch(tooEarly(ahead));
      // A fresh time in the args, the old one signed: the time is in the signed text.
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', signed: { at: old } })),
      ).toBe(notThisDecision('alice', 'alice'));
      const late = await refusal(
        handle.executeUpdate(rejectUpdate, {
          args: [await rejection(handle, { gate: 'deploy', by: 'carol', at: old, note: 'no' })],
        }),
      );
      expect(late.message).toMatch(tooOld(old));
      // Inside the window on both sides: accepted.
      const recent = minutes(-14);
      expect(await approve(handle, { gate: 'deploy', by: 'alice', at: recent })).toEqual(
        expect.objectContaining({ approvals: 1, state: 'open' }),
      );
      const soon = minutes(4);
      expect(await approve(handle, { gate: 'deploy', by: 'bob', at: soon })).toEqual(
        expect.objectContaining({ approvals: 2, state: 'approved' }),
      );
      expect((await handle.result()).decisions.map((d) => `${d.by}@${d.signedAt}`)).toEqual([
        `alice@${recent}`,
        `bob@${soon}`,
      ]);
    });
  });

  it('a gate with minApprovals 2 cannot be passed by one key under two names', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy({ minApprovals: 2 }),
        requestedBy: 'dave',
        gates: ['upgrade'],
      });
      await gateOpen(handle, 'upgrade');
      // Upper case is the same person: recorded under the normal name.
      expect(await approve(handle, { gate: 'upgrade', by: 'ALICE' })).toEqual(
        expect.objectContaining({ approvals: 1, needed: 2, state: 'open', key: fp('alice') }),
      );
      expect(await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'alice' }))).toBe(
        'alice already approved gate "upgrade"',
      );
      expect(await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'Alice' }))).toBe(
        'Alice already approved gate "upgrade"',
      );
      // Alice's key under bob's or carol's name: not their key.
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'bob', key: 'alice' })),
      ).toBe(notTheirKey('bob', 'alice'));
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'upgrade', by: 'CAROL', key: 'alice' })),
      ).toBe(notTheirKey('CAROL', 'alice'));
      // The same by Signal.
      await handle.signal(approveSignal, await approval(handle, { gate: 'upgrade', by: 'aLiCe' }));
      await handle.signal(
        approveSignal,
        await approval(handle, { gate: 'upgrade', by: 'bob', key: 'alice' }),
      );
      expect(await refusedLines(handle, 2)).toEqual([
        'approve upgrade aLiCe: aLiCe already approved gate "upgrade"',
        `approve upgrade bob: ${notTheirKey('bob', 'alice')}`,
      ]);
      expect((await gateStatus(handle)).pending).toEqual([
        expect.objectContaining({ gate: 'upgrade', approvals: ['alice'], needed: 2 }),
      ]);
      // Bob's own key passes it.
      expect(await approve(handle, { gate: 'upgrade', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 2, state: 'approved', key: fp('bob') }),
      );
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.by}:${d.key}`)).toEqual([
        `alice:${fp('alice')}`,
        `bob:${fp('bob')}`,
      ]);
    });
  });

  it('the requester cannot approve under another case of their name (self-approval off)', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        // The policy spells bob's name with a capital: names compare case-insensitively everywhere.
        policy: policy({
          approvers: ['alice', 'Bob', 'carol'],
          keys: { alice: [testKey('alice').publicLine], Bob: [testKey('bob').publicLine] },
        }),
        requestedBy: 'Alice',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      for (const name of ['alice', 'ALICE', 'Alice']) {
        expect(
          await approvalRefused(handle, approval(handle, { gate: 'deploy', by: name, key: 'alice' })),
        ).toBe(`${name} requested this run and may not decide its gates (self-approval is off)`);
      }
      await handle.signal(approveSignal, await approval(handle, { gate: 'deploy', by: 'alice' }));
      expect(await refusedLines(handle, 1)).toEqual([
        'approve deploy alice: alice requested this run and may not decide its gates (self-approval is off)',
      ]);
      const rejected = await refusal(
        handle.executeUpdate(rejectUpdate, {
          args: [await rejection(handle, { gate: 'deploy', by: 'aLICE', key: 'alice', note: 'mine' })],
        }),
      );
      expect(rejected.message).toBe(
        'aLICE requested this run and may not decide its gates (self-approval is off)',
      );
      expect(await acceptedUpdates(handle)).toEqual([]);
      expect(await approve(handle, { gate: 'deploy', by: 'bob' })).toEqual(
        expect.objectContaining({ state: 'approved', key: fp('bob') }),
      );
      expect((await handle.result()).decisions.map((d) => d.by)).toEqual(['bob']);
    });
  });

  it('an unauthenticated requester (unsigned start) makes every gate need one more distinct approver', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'carol',
        requesterAuthenticated: false,
        gates: ['deploy', 'restart'],
      });
      const status = await gateOpen(handle, 'deploy');
      expect(status.needed).toBe(2);
      expect(status.pending).toEqual([expect.objectContaining({ gate: 'deploy', approvals: [], needed: 2 })]);
      expect(await approve(handle, { gate: 'deploy', by: 'alice' })).toEqual(
        expect.objectContaining({ approvals: 1, needed: 2, state: 'open' }),
      );
      // Not by the same person again, nor by the (unproven) requester.
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'ALICE' }))).toBe(
        'ALICE already approved gate "deploy"',
      );
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'carol' }))).toBe(
        'carol requested this run and may not decide its gates (self-approval is off)',
      );
      expect(await approve(handle, { gate: 'deploy', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 2, needed: 2, state: 'approved' }),
      );
      // Every gate of the run.
      await gateOpen(handle, 'restart');
      expect(await approve(handle, { gate: 'restart', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 1, needed: 2, state: 'open' }),
      );
      await approve(handle, { gate: 'restart', by: 'alice' });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.gate}:${d.by}`)).toEqual([
        'deploy:alice',
        'deploy:bob',
        'restart:bob',
        'restart:alice',
      ]);
    });
  });

  it('an authenticated requester, or a policy allowing self-approval, needs minApprovals only', async () => {
    await withGateWorker(async (taskQueue) => {
      const signedStart = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'carol',
        requesterAuthenticated: true,
        gates: ['deploy'],
      });
      const selfAllowed = await startGates(taskQueue, {
        policy: policy({ allowSelfApproval: true }),
        requestedBy: 'carol',
        requesterAuthenticated: false,
        gates: ['deploy'],
      });
      expect((await gateOpen(signedStart, 'deploy')).needed).toBe(1);
      expect((await gateOpen(selfAllowed, 'deploy')).needed).toBe(1);
      expect((await approve(signedStart, { gate: 'deploy', by: 'alice' })).state).toBe('approved');
      expect((await approve(selfAllowed, { gate: 'deploy', by: 'alice' })).state).toBe('approved');
      await signedStart.result();
      await selfAllowed.result();
    });
  });

  it('a chat relay may speak only for whom the policy lets it, and must say where the decision came from', async () => {
    const relayPolicy = policy({
      minApprovals: 2,
      relays: [{ name: 'chatops', key: testKey('chatops').publicLine, mayActFor: ['alice', 'carol'] }],
    });
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: relayPolicy,
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const via = 'slack:U024BE7LH';
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'bob', relay: 'chatops', via })),
      ).toBe('relay chatops may not speak for bob');
      expect(
        await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', relay: 'chatops' })),
      ).toBe('a decision relayed by chatops must say where it came from ("via")');
      expect(
        await approvalRefused(
          handle,
          approval(handle, { gate: 'deploy', by: 'alice', relay: 'slackbot', via }),
        ),
      ).toBe('relay slackbot is not in the approval policy');
      // `via` is the relay's word: a person cannot claim it with their own key.
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice', via }))).toBe(
        '"via" is said only by a relay: give "relay" too',
      );
      // Only the relay's key speaks as the relay; and `via` is signed.
      expect(
        await approvalRefused(
          handle,
          approval(handle, { gate: 'deploy', by: 'alice', relay: 'chatops', via, key: 'alice' }),
        ),
      ).toBe(
        `alice: signed by key ${fp('alice')}, which is not listed for relay chatops (a relayed decision is signed with the relay's key)`,
      );
      expect(
        await approvalRefused(
          handle,
          approval(handle, {
            gate: 'deploy',
            by: 'alice',
            relay: 'chatops',
            via,
            signed: { via: 'slack:UOTHER' },
          }),
        ),
      ).toBe(notThisDecision('alice', 'chatops'));
      // The same by Signal.
      await handle.signal(
        approveSignal,
        await approval(handle, { gate: 'deploy', by: 'bob', relay: 'chatops', via }),
      );
      expect(await refusedLines(handle, 1)).toEqual([
        'approve deploy bob: relay chatops may not speak for bob',
      ]);
      expect(await acceptedUpdates(handle)).toEqual([]);

      expect(
        await approve(handle, { gate: 'deploy', by: 'alice', relay: 'chatops', via, note: 'from slack' }),
      ).toEqual(expect.objectContaining({ approvals: 1, state: 'open', key: fp('chatops') }));
      // The relay is not a second approver: alice relayed counts once.
      expect(await approvalRefused(handle, approval(handle, { gate: 'deploy', by: 'alice' }))).toBe(
        'alice already approved gate "deploy"',
      );
      expect(await approve(handle, { gate: 'deploy', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 2, state: 'approved' }),
      );
      const outcome = await handle.result();
      expect(outcome.decisions).toEqual([
        expect.objectContaining({ by: 'alice', via, key: fp('chatops'), comment: 'from slack' }),
        expect.objectContaining({ by: 'bob', key: fp('bob') }),
      ]);
      expect(outcome.decisions[1]).not.toHaveProperty('via');
    });
  });

  it('one personal key counts once per gate, even under a relay that (wrongly) shares it', async () => {
    await withGateWorker(async (taskQueue) => {
      // The inventory refuses this policy; the gate holds even when handed one directly.
      const handle = await startGates(taskQueue, {
        policy: policy({
          minApprovals: 2,
          relays: [{ name: 'chatops', key: testKey('bob').publicLine, mayActFor: ['alice'] }],
        }),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      expect(await approve(handle, { gate: 'deploy', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 1, key: fp('bob') }),
      );
      expect(
        await approvalRefused(
          handle,
          approval(handle, { gate: 'deploy', by: 'alice', relay: 'chatops', via: 'slack:U1', key: 'bob' }),
        ),
      ).toBe(`key ${fp('bob')} already counted on gate "deploy" (as bob)`);
      expect((await gateStatus(handle)).pending).toEqual([
        expect.objectContaining({ gate: 'deploy', approvals: ['bob'] }),
      ]);
      await handle.terminate('test over');
    });
  });

  it('the Signal path applies the same checks and lists every refusal with its reason', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startGates(taskQueue, {
        policy: policy({
          relays: [{ name: 'chatops', key: testKey('chatops').publicLine, mayActFor: ['alice'] }],
        }),
        requestedBy: 'dave',
        gates: ['deploy'],
      });
      await gateOpen(handle, 'deploy');
      const old = minutes(-20);
      const ahead = minutes(10);
      const stale = planOf('deploy', 'another plan');
      const sent: [string, ApproveArgs | RejectArgs][] = [
        ['approve', { gate: 'deploy', by: 'alice' }],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', key: 'bob' })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', signed: { runId: randomUUID() } })],
        [
          'approve',
          await approval(handle, {
            gate: 'deploy',
            by: 'alice',
            signed: { workflowId: 'approval-test/other' },
          }),
        ],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', signed: { gate: 'other' } })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', plan: stale })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', at: old })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', at: ahead })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'bob', relay: 'chatops', via: 'slack:U1' })],
        ['approve', await approval(handle, { gate: 'deploy', by: 'alice', relay: 'chatops' })],
        ['reject', await rejection(handle, { gate: 'deploy', by: 'carol', key: 'mallory', note: 'forged' })],
        // An approval signed as such, sent as a rejection with the same signature.
        ['reject', { ...(await approval(handle, { gate: 'deploy', by: 'carol' })), reason: 'flipped' }],
      ];
      for (const [kind, args] of sent)
        await (kind === 'approve'
          ? handle.signal(approveSignal, args as ApproveArgs)
          : handle.signal(rejectSignal, args as RejectArgs));
      expect(await refusedLines(handle, sent.length)).toEqual([
        `approve deploy alice: ${UNSIGNED}`,
        `approve deploy alice: ${notTheirKey('alice', 'bob')}`,
        `approve deploy alice: ${notThisDecision('alice', 'alice')}`,
        `approve deploy alice: ${notThisDecision('alice', 'alice')}`,
        `approve deploy alice: ${notThisDecision('alice', 'alice')}`,
        `approve deploy alice: ${otherPlan('deploy', stale, planOf('deploy'))}`,
        expect.stringMatching(new RegExp(`^approve deploy alice: ${tooOld(old).source.slice(1)}`)),
        expect.stringMatching(new RegExp(`^approve deploy alice: ${tooEarly(ahead).source.slice(1)}`)),
        'approve deploy bob: relay chatops may not speak for bob',
        'approve deploy alice: a decision relayed by chatops must say where it came from ("via")',
        `reject deploy carol: ${notTheirKey('carol', 'mallory')}`,
        `reject deploy carol: ${notThisDecision('carol', 'carol')}`,
      ]);
      const status = await gateStatus(handle);
      expect(status.decisions).toEqual([]);
      expect(status.pending).toEqual([expect.objectContaining({ gate: 'deploy', approvals: [] })]);

      // A good signed Signal still passes.
      await handle.signal(approveSignal, await approval(handle, { gate: 'deploy', by: 'alice' }));
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.kind}:${d.by}:${d.key}`)).toEqual([
        `approve:alice:${fp('alice')}`,
      ]);
      expect(outcome.refused).toHaveLength(sent.length);
    });
  });

  it('a gate whose plan changed opens again: approvals for the old plan no longer count', async () => {
    await withGateWorker(async (taskQueue) => {
      const because = 'wa1 now runs 2.29.3 (was 2.29.1)';
      const handle = await startGates(taskQueue, {
        policy: policy(),
        requestedBy: 'dave',
        gates: ['deploy', { gate: 'deploy', note: 'test plan v2', reopenBecause: because }],
      });
      await gateOpen(handle, 'deploy');
      const forOld = await approval(handle, { gate: 'deploy', by: 'alice' });
      await handle.executeUpdate(approveUpdate, { args: [forOld] });
      const reopened = await until(
        'the gate to open again',
        () => gateStatus(handle),
        (s) => s.pending.some((p) => p.plan === planOf('deploy', 'test plan v2')),
      );
      expect(reopened.pending).toEqual([
        expect.objectContaining({
          gate: 'deploy',
          plan: planOf('deploy', 'test plan v2'),
          approvals: [],
          needed: 1,
          reopenedBecause: because,
        }),
      ]);
      // Alice's approval of the old plan, sent again, is for another plan.
      expect(await approvalRefused(handle, forOld)).toBe(
        otherPlan('deploy', planOf('deploy'), planOf('deploy', 'test plan v2')),
      );
      await approve(handle, { gate: 'deploy', by: 'alice' });
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.by}:${d.plan}`)).toEqual([
        `alice:${planOf('deploy')}`,
        `alice:${planOf('deploy', 'test plan v2')}`,
      ]);
      expect((await gateStatus(handle)).hooks).toEqual([
        'open:deploy:may we deploy?',
        'close:deploy:approved',
        `open:deploy:may we deploy?:${because}`,
        'close:deploy:approved',
      ]);
    });
  });
});

describe('pre-approvals in a workflow (signed over the plan a dry run showed)', () => {
  /** A pre-approval of `gate` by `by`, signed (by `key`, default theirs) for `plan`, valid a day. */
  async function preApproval(
    p: {
      gate: string;
      by: string;
      key?: string;
      plan?: string;
      at?: string;
      validUntil?: string;
      reason?: string;
    },
    signedFor: { cluster?: string; runbook?: string } = {},
  ): Promise<PreApproval> {
    const fields = {
      gate: p.gate,
      by: p.by,
      reason: p.reason ?? 'CHG-4711 approved by the CAB',
      plan: p.plan ?? planOf(p.gate),
      at: p.at ?? minutes(-60),
      validUntil: p.validUntil ?? minutes(24 * 60),
    };
    const text = preApprovalText({
      ...fields,
      cluster: signedFor.cluster ?? GATE_TEST_CLUSTER,
      runbook: signedFor.runbook ?? GATE_TEST_RUNBOOK,
    });
    return { ...fields, signature: await testKey(p.key ?? p.by).signer.sign(text) };
  }

  it('a pre-approval signed for the plan the gate shows counts: the gate passes without asking', async () => {
    await withGateWorker(async (taskQueue) => {
      const pre = await preApproval({ gate: 'deploy', by: 'alice' });
      const handle = await startGates(taskQueue, {
        policy: policy({ allowPreApproval: true }),
        requestedBy: 'dave',
        gates: ['deploy'],
        preApproved: [pre],
      });
      const outcome = await handle.result();
      expect(outcome.refused).toEqual([]);
      expect(outcome.decisions).toEqual([
        {
          gate: 'deploy',
          kind: 'approve',
          by: 'alice',
          at: expect.any(String),
          plan: planOf('deploy'),
          key: fp('alice'),
          signedAt: pre.at,
          comment: 'pre-approved: CHG-4711 approved by the CAB',
          preApproved: true,
        },
      ]);
      // Nobody was asked: the gate never showed as open.
      expect((await gateStatus(handle)).hooks).toEqual(['close:deploy:approved']);
    });
  });

  it('pre-approvals for another plan, expired, signed by a wrong key or for another cluster are listed as refused', async () => {
    await withGateWorker(async (taskQueue) => {
      const stale = planOf('deploy', 'the plan of last week');
      const preApproved = [
        await preApproval({ gate: 'deploy', by: 'bob', plan: stale }),
        await preApproval({
          gate: 'deploy',
          by: 'carol',
          at: minutes(-3 * 24 * 60),
          validUntil: minutes(-60),
        }),
        await preApproval({ gate: 'deploy', by: 'dave', key: 'mallory' }),
        await preApproval({ gate: 'deploy', by: 'erin' }, { cluster: 'staging' }),
        await preApproval({ gate: 'deploy', by: 'erin', at: minutes(10) }),
        await preApproval({ gate: 'deploy', by: 'alice' }),
      ];
      const handle = await startGates(taskQueue, {
        policy: policy({
          approvers: ['alice', 'bob', 'carol', 'dave', 'erin'],
          keys: keysOf('alice', 'bob', 'carol', 'dave', 'erin'),
          minApprovals: 2,
          allowPreApproval: true,
        }),
        requestedBy: 'zed',
        gates: ['deploy'],
        preApproved,
      });
      // Alice's counts; the gate opens for the second approval.
      const status = await gateOpen(handle, 'deploy');
      expect(status.pending).toEqual([
        expect.objectContaining({ gate: 'deploy', approvals: ['alice'], needed: 2 }),
      ]);
      const [expired] = preApproved.slice(1, 2);
      expect(status.refused.map((r) => `${r.kind} ${r.gate} ${r.by}: ${r.why}`)).toEqual([
        `approve deploy bob: pre-approval: pre-approved plan ${stale.slice(0, 12)}…, but gate "deploy" shows plan ${planOf('deploy').slice(0, 12)}…`,
        `approve deploy carol: pre-approval: valid until ${expired?.validUntil}, which has passed`,
        `approve deploy dave: pre-approval: ${notTheirKey('dave', 'mallory')}`,
        `approve deploy erin: pre-approval: ${notThisDecision('erin', 'erin')}`,
        `approve deploy erin: pre-approval: signed at ${preApproved[4]?.at}, ahead of the run's clock`,
      ]);
      // A refused pre-approval is no approval: bob may still approve (signed, for the gate's plan).
      expect(await approve(handle, { gate: 'deploy', by: 'bob' })).toEqual(
        expect.objectContaining({ approvals: 2, state: 'approved' }),
      );
      const outcome = await handle.result();
      expect(outcome.decisions.map((d) => `${d.by}:${d.preApproved ?? false}`)).toEqual([
        'alice:true',
        'bob:false',
      ]);
      expect(outcome.refused).toHaveLength(5);
    });
  });
});

describe('VerificationCode in a workflow', () => {
  function startCode(taskQueue: string, input: { timeout: string; delay?: string }) {
    return own.client.workflow.start(codeTest, {
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
        'VerificationCodeRefused',
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
        'VerificationCodeRefused',
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

describe('signed verification codes in a workflow (policy signCodes)', () => {
  const codePlan = planOf('register');
  function startSignedCode(taskQueue: string) {
    return own.client.workflow.start(codeTest, {
      taskQueue,
      workflowId: `code-test/${randomUUID()}`,
      args: [{ timeout: '45s', policy: policy({ signCodes: true }), plan: codePlan }],
      workflowExecutionTimeout: '60s',
    });
  }
  /** A code signed as the CLI signs it, for `handle`'s run and the plan it is bound to. */
  async function signedCodeArgs(
    handle: WorkflowHandle,
    s: { code: string; by: string; key?: string; at?: string; signed?: Partial<DecisionText> },
  ): Promise<CodeArgs> {
    const { runId } = await handle.describe();
    const at = s.at ?? new Date().toISOString();
    const text = decisionText({
      verb: 'code',
      workflowId: handle.workflowId,
      runId,
      gate: 'verificationCode',
      plan: codePlan,
      by: s.by,
      at,
      note: s.code,
      ...s.signed,
    });
    return { code: s.code, by: s.by, at, signature: await testKey(s.key ?? s.by).signer.sign(text) };
  }
  const codeRefused = async (handle: WorkflowHandle, args: CodeArgs): Promise<string> =>
    (await refusal(handle.executeUpdate(verificationCodeUpdate, { args: [args] }), 'VerificationCodeRefused'))
      .message;

  it('refuses an unsigned code, a forged one, one for another run or code, a stale one; takes a signed one', async () => {
    await withGateWorker(async (taskQueue) => {
      const handle = await startSignedCode(taskQueue);
      const status = await until(
        'the code wait',
        () => codeStatus(handle),
        (s) => s.awaiting,
      );
      expect(status.codePlan).toBe(codePlan);
      expect(await codeRefused(handle, { code: '123456', by: 'alice' })).toBe(
        'unsigned: this cluster\'s policy wants the code signed ("waba-runbooks code" signs it)',
      );
      expect(await codeRefused(handle, await signedCodeArgs(handle, { code: '123456', by: 'mallory' }))).toBe(
        'mallory is not an approver of this run',
      );
      expect(
        await codeRefused(handle, await signedCodeArgs(handle, { code: '123456', by: 'alice', key: 'bob' })),
      ).toBe(notTheirKey('alice', 'bob'));
      expect(
        await codeRefused(
          handle,
          await signedCodeArgs(handle, { code: '123456', by: 'alice', signed: { runId: randomUUID() } }),
        ),
      ).toBe(notThisDecision('alice', 'alice'));
      // The code is signed: another code under alice's signature is refused.
      const signed = await signedCodeArgs(handle, { code: '123456', by: 'alice' });
      expect(await codeRefused(handle, { ...signed, code: '654321' })).toBe(
        notThisDecision('alice', 'alice'),
      );
      const old = minutes(-16);
      expect(
        await codeRefused(handle, await signedCodeArgs(handle, { code: '123456', by: 'alice', at: old })),
      ).toMatch(tooOld(old));
      await handle.signal(verificationCodeSignal, { code: '111111', by: 'bob' });
      await until(
        'the refused signal',
        () => codeStatus(handle),
        (s) => s.refused.length === 1,
      );
      // The CLI's helper reads the code's plan and the approvers from the run's status and signs.
      expect(await sendCode(own.client, handle.workflowId, '123456', 'carol')).toEqual({ accepted: true });
      expect(await handle.result()).toEqual({ code: '123456', by: 'carol', at: expect.any(String) });
      const after = await codeStatus(handle);
      expect(after.refused.map((r) => `${r.by}: ${r.why}`)).toEqual([
        'bob: unsigned: this cluster\'s policy wants the code signed ("waba-runbooks code" signs it)',
      ]);
      expect(JSON.stringify(after)).not.toContain('111111');
    });
  });
});
