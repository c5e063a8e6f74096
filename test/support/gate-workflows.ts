// Test-only workflows around the approval gates and the verification-code wait (bundled separately
// by test/workflows/approval.test.ts; not registered by the real worker).
import { defineQuery, setHandler, sleep } from '@temporalio/workflow';
import { ApprovalPolicy, type Decision, type RefusedDecision } from '../../src/spec/approvals';
import { ApprovalGates, type PendingGate } from '../../workflows/lib/approval';
import { validateInput } from '../../workflows/lib/validate';
import { type ReceivedCode, type RefusedCode, VerificationCode } from '../../workflows/lib/verification-code';

export interface GateTestStatus {
  pending: PendingGate[];
  decisions: Decision[];
  refused: RefusedDecision[];
  /** What the hooks saw: `open:<gate>:<summary>`, `close:<gate>:<outcome>`. */
  hooks: string[];
}

export interface CodeTestStatus {
  awaiting: boolean;
  receipts: { by: string; at: string }[];
  refused: RefusedCode[];
}

export const gateStatusQuery = defineQuery<GateTestStatus>('status');
export const codeStatusQuery = defineQuery<CodeTestStatus>('status');

export async function gateTest(input: {
  policy: unknown;
  requestedBy: string;
  gates: string[];
}): Promise<{ decisions: Decision[]; refused: RefusedDecision[] }> {
  const policy = validateInput('gateTest', ApprovalPolicy, input.policy);
  const hooks: string[] = [];
  // As a runbook: the handlers first, the policy once known (there: from the inventory).
  const gates = new ApprovalGates(input.requestedBy, {
    onOpen: (gate, summary) => hooks.push(`open:${gate}:${summary}`),
    onClose: (gate, outcome) => hooks.push(`close:${gate}:${outcome}`),
  });
  gates.usePolicy(policy);
  setHandler(gateStatusQuery, () => ({
    pending: gates.pending(),
    decisions: gates.decisions(),
    refused: gates.refused(),
    hooks: [...hooks],
  }));
  for (const gate of input.gates) await gates.require(gate, `may we ${gate}?`);
  return { decisions: gates.decisions(), refused: gates.refused() };
}

/** Waits for one verification code; with `delay`, sleeps that long first (codes sent meanwhile are refused). */
export async function codeTest(input: { timeout: string; delay?: string }): Promise<ReceivedCode> {
  const code = new VerificationCode();
  setHandler(codeStatusQuery, () => ({
    awaiting: code.awaiting(),
    receipts: code.receipts(),
    refused: code.refused(),
  }));
  if (input.delay) await sleep(input.delay);
  return code.wait(input.timeout);
}
