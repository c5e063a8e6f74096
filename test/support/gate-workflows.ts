// Test-only workflows around the approval gates and the verification-code wait (bundled separately
// by test/workflows/approval.test.ts; not registered by the real worker).
import { defineQuery, setHandler, sleep } from '@temporalio/workflow';
import { ApprovalPolicy, type Decision, PreApproval, type RefusedDecision } from '../../src/model/approvals';
import { sha256Hex } from '../../src/model/decisions';
import { fingerprintOfLine } from '../../src/model/ssh/public-key';
import type { PendingGate, PlanStep } from '../../workflows/api';
import { ApprovalGates } from '../../workflows/lib/approval';
import { validateInput } from '../../workflows/lib/validate';
import { type ReceivedCode, type RefusedCode, VerificationCode } from '../../workflows/lib/verification-code';

/** The runbook name pre-approvals of the test workflow are signed for. */
export const GATE_TEST_RUNBOOK = 'gateTest';
/** The cluster the test workflow's gates bind when its input names none. */
export const GATE_TEST_CLUSTER = 'test-cluster';
/** The spec hash the test workflow's plans bind when its input gives none. */
export const GATE_TEST_SPEC_HASH = sha256Hex('gate test spec');

/**
 * The plan a test gate shows: one step naming the gate, with `note` (default `test plan`). The test
 * computes the same hash offline (planHashOf) to sign pre-approvals and forgeries.
 */
export const gateSteps = (gate: string, note = 'test plan'): PlanStep[] => [{ stage: gate, note }];

/** A gate of the test run: its name, or its name with the plan's note and why it opens again. */
export type GateTestGate = string | { gate: string; note?: string; reopenBecause?: string };

export interface GateTestInput {
  policy: unknown;
  requestedBy: string;
  gates: GateTestGate[];
  /** Was the start request signed by the requester? Default true. */
  requesterAuthenticated?: boolean;
  specHash?: string;
  cluster?: string;
  /** Approvals given in advance (checked when their gate opens). */
  preApproved?: unknown[];
}

export interface GateTestStatus {
  pending: PendingGate[];
  /** The same, under the name the client's signing helpers read (src/client/decide.ts). */
  pendingGates: PendingGate[];
  /** Approvers and the fingerprints of their keys (src/client/decide.ts finds its identity here). */
  approvers: Record<string, string[]>;
  needed: number;
  decisions: Decision[];
  refused: RefusedDecision[];
  /** What the hooks saw: `open:<gate>:<summary>[:<reopened because>]`, `close:<gate>:<outcome>`. */
  hooks: string[];
}

export interface CodeTestStatus {
  awaiting: boolean;
  receipts: { by: string; at: string }[];
  refused: RefusedCode[];
  /** The plan a signed code is bound to, while one is awaited (src/client/decide.ts reads it). */
  codePlan?: string;
  approvers: Record<string, string[]>;
}

export const gateStatusQuery = defineQuery<GateTestStatus>('status');
export const codeStatusQuery = defineQuery<CodeTestStatus>('status');

const fingerprints = (policy: ApprovalPolicy | undefined): Record<string, string[]> =>
  policy
    ? Object.fromEntries(
        policy.approvers.map((a) => [
          a,
          (policy.keys[a] ?? []).map(fingerprintOfLine).filter((f): f is string => f !== undefined),
        ]),
      )
    : {};

export async function gateTest(
  input: GateTestInput,
): Promise<{ decisions: Decision[]; refused: RefusedDecision[] }> {
  const hooks: string[] = [];
  // As a runbook: the handlers first, the policy once known (there: from the inventory).
  const gates = new ApprovalGates(input.requestedBy, {
    onOpen: (gate, summary, _plan, reopenedBecause) =>
      hooks.push(`open:${gate}:${summary}${reopenedBecause ? `:${reopenedBecause}` : ''}`),
    onClose: (gate, outcome) => hooks.push(`close:${gate}:${outcome}`),
  });
  let policy: ApprovalPolicy | undefined;
  setHandler(gateStatusQuery, () => ({
    pending: gates.pending(),
    pendingGates: gates.pending(),
    approvers: fingerprints(policy),
    needed: policy ? gates.neededApprovals() : 0,
    decisions: gates.decisions(),
    refused: gates.refused(),
    hooks: [...hooks],
  }));
  policy = validateInput('gateTest', ApprovalPolicy, input.policy);
  const preApproved = validateInput('gateTest', PreApproval.array(), input.preApproved ?? []);
  gates.usePolicy(policy, {
    specHash: input.specHash ?? GATE_TEST_SPEC_HASH,
    cluster: input.cluster ?? GATE_TEST_CLUSTER,
    runbook: GATE_TEST_RUNBOOK,
    requesterAuthenticated: input.requesterAuthenticated ?? true,
  });
  gates.preApprove(preApproved);
  for (const g of input.gates) {
    const { gate, note, reopenBecause } = typeof g === 'string' ? { gate: g } : g;
    await gates.require(gate, `may we ${gate}?`, gateSteps(gate, note), reopenBecause);
  }
  return { decisions: gates.decisions(), refused: gates.refused() };
}

/**
 * Waits for one verification code; with `delay`, sleeps that long first (codes sent meanwhile are
 * refused); with `policy` (signCodes) and `plan`, the code must be signed by an approver.
 */
export async function codeTest(input: {
  timeout: string;
  delay?: string;
  policy?: unknown;
  plan?: string;
}): Promise<ReceivedCode> {
  const code = new VerificationCode();
  const policy = input.policy ? validateInput('codeTest', ApprovalPolicy, input.policy) : undefined;
  if (policy) code.requireSignatures(policy, input.plan ?? '');
  setHandler(codeStatusQuery, () => ({
    awaiting: code.awaiting(),
    receipts: code.receipts(),
    refused: code.refused(),
    approvers: fingerprints(policy),
    ...(code.codePlan() ? { codePlan: code.codePlan() } : {}),
  }));
  if (input.delay) await sleep(input.delay);
  return code.wait(input.timeout);
}
