// Decisions as a person (or a chat relay) sends them: read the run (its run id, the open gate's plan
// hash, the approvers' key fingerprints), build the text that binds them, sign it with the
// operator's SSH key, then send it as an Update. Used by the CLI, ChatOps and the tests.
import type { Client } from '@temporalio/client';
import {
  approveUpdate,
  type DecisionResult,
  rejectUpdate,
  statusQuery,
  verificationCodeUpdate,
} from '../../workflows/api';
import type { ApproveArgs, CodeArgs, RejectArgs } from '../model/approvals';
import { canonicalJson } from '../model/canonical';
import { decisionText, normalIdentity, sha256Hex, startText } from '../model/decisions';
import type { Signer } from '../signing/signer';
import { DecisionRefused, InputError } from './errors';

/** What a signer needs to know of a run to sign a decision on one of its gates. */
export interface RunForDecision {
  workflowId: string;
  runId: string;
  /** The open gates and the plan hash each shows. */
  gates: { gate: string; plan: string }[];
  /** Approvers and the fingerprints of their keys, as the run's policy lists them. */
  approvers: Record<string, string[]>;
  /** The plan hash a signed verification code is bound to, while the run waits for one. */
  codePlan?: string;
}

/** The run as its `status` query shows it, and its current run id. */
export async function runForDecision(client: Client, workflowId: string): Promise<RunForDecision> {
  const handle = client.workflow.getHandle(workflowId);
  const [described, status] = await Promise.all([handle.describe(), handle.query(statusQuery)]);
  return {
    workflowId,
    runId: described.runId,
    gates: status.pendingGates ?? [],
    approvers: status.approvers ?? {},
    ...(status.codePlan ? { codePlan: status.codePlan } : {}),
  };
}

/**
 * Whose key the signer holds: `as` when given (it must be one of theirs), else the approver whose
 * keys include it. A key of nobody in the policy is refused here, before anything is sent.
 */
export function identityOf(run: RunForDecision, signer: Signer, as?: string): string {
  const owners = Object.entries(run.approvers)
    .filter(([, prints]) => prints.includes(signer.fingerprint))
    .map(([name]) => name);
  if (as) {
    if (!owners.some((o) => normalIdentity(o) === normalIdentity(as)))
      throw new DecisionRefused(
        `the key ${signer.fingerprint} (${signer.source}) is not listed for ${as} in the policy of ${run.workflowId}${owners.length ? `; it is ${owners.join(', ')}'s` : ''}`,
      );
    return as;
  }
  const [owner] = owners;
  if (!owner)
    throw new DecisionRefused(
      `the key ${signer.fingerprint} (${signer.source}) belongs to no approver of ${run.workflowId} (approvers: ${Object.keys(run.approvers).join(', ') || 'none'})`,
    );
  return owner;
}

function openGate(run: RunForDecision, gate: string): { gate: string; plan: string } {
  const g = run.gates.find((x) => x.gate === gate);
  if (!g)
    throw new DecisionRefused(
      `gate "${gate}" is not open on ${run.workflowId}${run.gates.length ? ` (open: ${run.gates.map((x) => x.gate).join(', ')})` : ' (no gate is open)'}`,
    );
  return g;
}

export interface DecisionOptions {
  gate: string;
  /** The approver; default: the owner of the signer's key. */
  as?: string;
  /** approve: the comment; reject: the reason (required). */
  note?: string;
  /** A chat relay signs for `as`: its name in the policy and where the decision came from. */
  relay?: { name: string; via: string };
  /** The signing time; default now. */
  at?: string;
}

/** The signed arguments of an approve or reject, ready to send (or to paste into the Web UI). */
export async function signedDecision(
  run: RunForDecision,
  verb: 'approve' | 'reject',
  signer: Signer,
  o: DecisionOptions,
): Promise<ApproveArgs | RejectArgs> {
  if (verb === 'reject' && !o.note) throw new InputError('a rejection needs a reason');
  const gate = openGate(run, o.gate);
  const by = o.relay ? (o.as as string) : identityOf(run, signer, o.as);
  const at = o.at ?? new Date().toISOString();
  const text = decisionText({
    verb,
    workflowId: run.workflowId,
    runId: run.runId,
    gate: gate.gate,
    plan: gate.plan,
    by,
    at,
    ...(o.note !== undefined ? { note: o.note } : {}),
    ...(o.relay ? { via: o.relay.via } : {}),
  });
  const signature = await signer.sign(text);
  const common = {
    gate: gate.gate,
    by,
    at,
    plan: gate.plan,
    signature,
    ...(o.relay ? { relay: o.relay.name, via: o.relay.via } : {}),
  };
  return verb === 'approve'
    ? { ...common, ...(o.note !== undefined ? { comment: o.note } : {}) }
    : { ...common, reason: o.note as string };
}

/** Sign and send an approve or reject; the run's validator answers at once (refusals are thrown). */
export async function decide(
  client: Client,
  workflowId: string,
  verb: 'approve' | 'reject',
  signer: Signer,
  o: DecisionOptions,
): Promise<DecisionResult> {
  const run = await runForDecision(client, workflowId);
  const args = await signedDecision(run, verb, signer, o);
  const handle = client.workflow.getHandle(workflowId);
  return verb === 'approve'
    ? handle.executeUpdate(approveUpdate, { args: [args as ApproveArgs] })
    : handle.executeUpdate(rejectUpdate, { args: [args as RejectArgs] });
}

/** The verification code, signed when a signer is given (the policy may ask for it). */
export async function signedCode(
  run: RunForDecision,
  code: string,
  signer: Signer | undefined,
  o: { as?: string; relay?: { name: string; via: string }; at?: string },
): Promise<CodeArgs> {
  if (!signer) {
    if (!o.as) throw new InputError('say who typed the code (--as NAME) or sign it with your key');
    return { code, by: o.as };
  }
  const by = o.relay ? (o.as as string) : identityOf(run, signer, o.as);
  const at = o.at ?? new Date().toISOString();
  const text = decisionText({
    verb: 'code',
    workflowId: run.workflowId,
    runId: run.runId,
    gate: 'verificationCode',
    plan: run.codePlan ?? '',
    by,
    at,
    note: code,
    ...(o.relay ? { via: o.relay.via } : {}),
  });
  return {
    code,
    by,
    at,
    signature: await signer.sign(text),
    ...(o.relay ? { relay: o.relay.name, via: o.relay.via } : {}),
  };
}

export async function sendSignedCode(
  client: Client,
  workflowId: string,
  code: string,
  signer: Signer | undefined,
  o: { as?: string; relay?: { name: string; via: string } } = {},
): Promise<{ accepted: true }> {
  const run = await runForDecision(client, workflowId);
  const args = await signedCode(run, code, signer, o);
  return client.workflow.getHandle(workflowId).executeUpdate(verificationCodeUpdate, { args: [args] });
}

/**
 * The input with a signed `request`: `requestedBy` (the signer's identity) asks for exactly this
 * input, on `target` (the workflow id, or `schedule:<id>` for the runs of a schedule).
 */
export async function signStart(
  input: Record<string, unknown>,
  runbook: string,
  target: string,
  signer: Signer,
  at = new Date().toISOString(),
): Promise<Record<string, unknown>> {
  const { request: _old, ...signed } = input;
  if (typeof signed.requestedBy !== 'string')
    throw new InputError(`a ${runbook} input has no requestedBy to sign for`);
  const text = startText({
    target,
    runbook,
    input: sha256Hex(canonicalJson(signed)),
    by: signed.requestedBy,
    at,
  });
  return { ...signed, request: { at, signature: await signer.sign(text) } };
}
