// What the runs record of a signed decision, for exact-equality expectations: the plan hash the gate
// showed, the signer's key (test/support/keys.ts) and when it was signed.
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import { runForDecision, signedDecision } from '../../src/client/decide';
import type { ApproveArgs, PreApproval, RejectArgs } from '../../src/model/approvals';
import { preApprovalText } from '../../src/model/decisions';
import { approveUpdate, type DecisionResult, rejectUpdate } from '../../workflows/api';
import { testKey } from './keys';

/** A plan hash as gates show it and decisions carry it: sha256 hex. */
export const PLAN_HASH = expect.stringMatching(/^[0-9a-f]{64}$/);

/** An ISO 8601 time, as the signer wrote it. */
export const ISO_TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

/** The SHA256 fingerprint of `name`'s test key. */
export const keyOf = (name: string): string => testKey(name).signer.fingerprint;

/**
 * The fields a decision signed by `name` with their own test key carries: `by` (lower case), the
 * signer's key, the plan hash it was signed for and when it was signed.
 */
export const signedBy = (name: string) => ({
  by: name.toLowerCase(),
  key: keyOf(name),
  plan: PLAN_HASH,
  signedAt: ISO_TIME,
});

/**
 * An approve or reject signed with `name`'s own test key and sent even when the run's policy does
 * not list that key for them, as a client that skips the CLI's own check would: what the run's
 * validator (not the client) makes of it.
 */
export async function forgedDecision(
  client: Client,
  workflowId: string,
  verb: 'approve' | 'reject',
  gate: string,
  name: string,
  note?: string,
): Promise<DecisionResult> {
  const run = await runForDecision(client, workflowId);
  const signer = testKey(name).signer;
  const args = await signedDecision(
    { ...run, approvers: { ...run.approvers, [name]: [signer.fingerprint] } },
    verb,
    signer,
    { gate, as: name, ...(note !== undefined ? { note } : {}) },
  );
  const handle = client.workflow.getHandle(workflowId);
  return verb === 'approve'
    ? handle.executeUpdate(approveUpdate, { args: [args as ApproveArgs] })
    : handle.executeUpdate(rejectUpdate, { args: [args as RejectArgs] });
}

/**
 * An approval given in advance by `by` (signed with their test key, as `waba-runbooks sign
 * preapprove` does) for `plan` of `gate`, valid from `at` (default now) for `validMs` (default a day).
 */
export async function preApproval(o: {
  cluster: string;
  runbook: string;
  gate: string;
  plan: string;
  by: string;
  reason: string;
  at?: string;
  validMs?: number;
}): Promise<PreApproval> {
  const at = o.at ?? new Date().toISOString();
  const validUntil = new Date(Date.parse(at) + (o.validMs ?? 86_400_000)).toISOString();
  const signature = await testKey(o.by).signer.sign(
    preApprovalText({
      cluster: o.cluster,
      runbook: o.runbook,
      gate: o.gate,
      plan: o.plan,
      by: o.by,
      at,
      validUntil,
      reason: o.reason,
    }),
  );
  return { gate: o.gate, by: o.by, reason: o.reason, plan: o.plan, at, validUntil, signature };
}
