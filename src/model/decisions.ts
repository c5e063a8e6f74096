// The texts a person signs (TRUST.md rule 5): one canonical line-per-field text for each kind of
// decision, binding the run, the gate, the plan hash shown at the gate, the decision, the signer's
// identity and the time. The CLI builds it to sign; the workflow rebuilds it from the decision it
// received and its own workflow info, then verifies the signature. Pure.
import { sha256 } from '@noble/hashes/sha2';
import { utf8 } from './ssh/bytes';
import { toHex } from './ssh/hex';

export type DecisionVerb = 'approve' | 'reject' | 'code' | 'preapprove';

/** Identities compare case-insensitively (TRUST.md rule 7): every comparison goes through this. */
export const normalIdentity = (name: string): string => name.trim().toLowerCase();

/** One signed decision on a gate of one run. */
export interface DecisionText {
  verb: Exclude<DecisionVerb, 'preapprove'>;
  workflowId: string;
  runId: string;
  gate: string;
  /** sha256 hex of the plan shown at the gate (`code`: the gate it answers, plan of the run). */
  plan: string;
  by: string;
  /** ISO 8601, UTC, as the signer wrote it. */
  at: string;
  /** The comment, the reason or the code. */
  note?: string;
  /** A chat relay's attestation, e.g. `slack:U024BE7LH` (the relay signs). */
  via?: string;
}

const line = (k: string, v: string) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}`;

export function decisionText(d: DecisionText): string {
  return [
    'waba-runbooks decision v1',
    line('workflow', d.workflowId),
    line('run', d.runId),
    line('gate', d.gate),
    line('decision', d.verb),
    line('plan', d.plan),
    line('by', normalIdentity(d.by)),
    line('at', d.at),
    ...(d.via ? [line('via', d.via)] : []),
    ...(d.note !== undefined
      ? [line(d.verb === 'reject' ? 'reason' : d.verb === 'code' ? 'code' : 'comment', d.note)]
      : []),
    '',
  ].join('\n');
}

/** An approval given in advance for a plan (from a dry run), before the run that uses it exists. */
export interface PreApprovalText {
  cluster: string;
  runbook: string;
  gate: string;
  plan: string;
  by: string;
  at: string;
  validUntil: string;
  reason: string;
}

export function preApprovalText(p: PreApprovalText): string {
  return [
    'waba-runbooks pre-approval v1',
    line('cluster', p.cluster),
    line('runbook', p.runbook),
    line('gate', p.gate),
    line('plan', p.plan),
    line('by', normalIdentity(p.by)),
    line('at', p.at),
    line('valid-until', p.validUntil),
    line('reason', p.reason),
    '',
  ].join('\n');
}

/** A signed start: who asked for this exact input of this run (or schedule). */
export interface StartText {
  /** The workflow id, or `schedule:<id>` for the runs a schedule starts. */
  target: string;
  runbook: string;
  /** sha256 hex of the input's canonical JSON without its `request` field. */
  input: string;
  by: string;
  at: string;
}

export function startText(s: StartText): string {
  return [
    'waba-runbooks start v1',
    line('target', s.target),
    line('runbook', s.runbook),
    line('input', s.input),
    line('by', normalIdentity(s.by)),
    line('at', s.at),
    '',
  ].join('\n');
}

/** sha256 hex of a text (plan and input hashes). */
export const sha256Hex = (text: string): string => toHex(sha256(utf8(text)));
