// Whether a decision counts (TRUST.md rules 5-7): signed by a key the policy lists for its author
// (or by a relay allowed to speak for them), over the text that binds this run, this gate, the plan
// hash the gate shows, the decision and a time close to the run's clock. Pure: the Update validators
// and the Signal handlers call it, and `waba-runbooks audit` runs it again offline.
import type { ApprovalPolicy, ApproveArgs, CodeArgs, PreApproval, RejectArgs } from './approvals';
import { decisionText, normalIdentity, preApprovalText, startText } from './decisions';
import { fromBase64 } from './ssh/bytes';
import { verifySshSignature } from './ssh/sshsig';

/** A decision may be signed this long before the run's clock reads it... */
export const MAX_DECISION_AGE_MS = 15 * 60_000;
/** ...and this far ahead of it (the signer's clock runs fast). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** A pre-approval is valid at most this long. */
export const MAX_PRE_APPROVAL_MS = 30 * 86_400_000;

export type Check = { ok: true; fingerprint: string } | { ok: false; why: string };

/** The public keys of a policy, parsed once per run: by normalised name, and the relays'. */
export interface PolicyKeys {
  approvers: Map<string, Uint8Array[]>;
  requesters: Map<string, Uint8Array[]>;
  relays: Map<string, { key: Uint8Array; mayActFor: Set<string> }>;
}

const blobOf = (line: string): Uint8Array | undefined => {
  try {
    return fromBase64(line.split(' ')[1] ?? '');
  } catch {
    return undefined;
  }
};
const blobs = (lines: readonly string[]) => lines.map(blobOf).filter((b): b is Uint8Array => b !== undefined);

export function policyKeys(policy: Pick<ApprovalPolicy, 'keys' | 'requesters' | 'relays'>): PolicyKeys {
  return {
    approvers: new Map(
      Object.entries(policy.keys).map(([name, lines]) => [normalIdentity(name), blobs(lines)]),
    ),
    requesters: new Map(
      Object.entries(policy.requesters).map(([name, lines]) => [normalIdentity(name), blobs(lines)]),
    ),
    relays: new Map(
      policy.relays.flatMap((r) => {
        const key = blobOf(r.key);
        return key
          ? [[normalIdentity(r.name), { key, mayActFor: new Set(r.mayActFor.map(normalIdentity)) }]]
          : [];
      }),
    ),
  };
}

const iso = (t: number) => new Date(t).toISOString();

/** `at` close enough to the run's clock `now`. */
function timeProblem(at: string, now: number, clock = "the run's clock"): string | undefined {
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return 'its time is not a date';
  if (t < now - MAX_DECISION_AGE_MS)
    return `signed at ${at}, more than ${MAX_DECISION_AGE_MS / 60_000} minutes before ${clock} (${iso(now)}): sign it again`;
  if (t > now + MAX_CLOCK_SKEW_MS)
    return `signed at ${at}, ahead of ${clock} (${iso(now)}): check the signer's clock`;
  return undefined;
}

/**
 * The keys that may sign for `by`: theirs, or (with `relay`) the relay's, when the relay may speak
 * for them and says where the decision came from (`via`).
 */
function signingKeys(
  keys: PolicyKeys,
  by: string,
  relay: string | undefined,
  via: string | undefined,
): { ok: true; keys: Uint8Array[]; whose: string } | { ok: false; why: string } {
  if (relay === undefined) {
    if (via !== undefined) return { ok: false, why: '"via" is said only by a relay: give "relay" too' };
    return { ok: true, keys: keys.approvers.get(normalIdentity(by)) ?? [], whose: 'that person' };
  }
  const r = keys.relays.get(normalIdentity(relay));
  if (!r) return { ok: false, why: `relay ${relay} is not in the approval policy` };
  if (!r.mayActFor.has(normalIdentity(by)))
    return { ok: false, why: `relay ${relay} may not speak for ${by}` };
  if (!via) return { ok: false, why: `a decision relayed by ${relay} must say where it came from ("via")` };
  return {
    ok: true,
    keys: [r.key],
    whose: `relay ${relay} (a relayed decision is signed with the relay's key)`,
  };
}

export interface GateDecision {
  verb: 'approve' | 'reject';
  args: ApproveArgs | RejectArgs;
  workflowId: string;
  runId: string;
  /** The plan hash the gate shows now. */
  plan: string;
  now: number;
  keys: PolicyKeys;
}

/** The signature of an approve/reject: present, fresh, for this plan, by a key of its author. */
export function checkGateDecision(d: GateDecision): Check {
  const { args } = d;
  if (!args.signature || !args.at || !args.plan)
    return {
      ok: false,
      why: 'unsigned: a decision counts only when signed with the approver\'s SSH key ("waba-runbooks approve" signs it; "waba-runbooks sign" prints one for the Web UI)',
    };
  if (args.plan !== d.plan)
    return {
      ok: false,
      why: `signed for plan ${args.plan.slice(0, 12)}…, but gate "${args.gate}" shows plan ${d.plan.slice(0, 12)}…: read the plan again and sign that`,
    };
  const late = timeProblem(args.at, d.now);
  if (late) return { ok: false, why: late };
  const keys = signingKeys(d.keys, args.by, args.relay, args.via);
  if (!keys.ok) return keys;
  const note = 'reason' in args ? args.reason : args.comment;
  const text = decisionText({
    verb: d.verb,
    workflowId: d.workflowId,
    runId: d.runId,
    gate: args.gate,
    plan: args.plan,
    by: args.by,
    at: args.at,
    ...(note !== undefined ? { note } : {}),
    ...(args.via ? { via: args.via } : {}),
  });
  const v = verifySshSignature(args.signature, text, keys.keys, undefined, keys.whose);
  return v.ok ? v : { ok: false, why: `${args.by}: ${v.why}` };
}

/** A signed verification code (where the policy asks for one), bound to this run and its plan. */
export function checkCode(
  args: CodeArgs,
  c: {
    workflowId: string;
    runId: string;
    plan: string;
    now: number;
    keys: PolicyKeys;
    approversOnly: boolean;
  },
): Check {
  if (!args.signature || !args.at)
    return {
      ok: false,
      why: 'unsigned: this cluster\'s policy wants the code signed ("waba-runbooks code" signs it)',
    };
  const late = timeProblem(args.at, c.now);
  if (late) return { ok: false, why: late };
  const keys = signingKeys(c.keys, args.by, args.relay, args.via);
  if (!keys.ok) return keys;
  const text = decisionText({
    verb: 'code',
    workflowId: c.workflowId,
    runId: c.runId,
    gate: 'verificationCode',
    plan: c.plan,
    by: args.by,
    at: args.at,
    note: args.code,
    ...(args.via ? { via: args.via } : {}),
  });
  const v = verifySshSignature(args.signature, text, keys.keys, undefined, keys.whose);
  return v.ok ? v : { ok: false, why: `${args.by}: ${v.why}` };
}

/** A pre-approval: the approver's signature over this cluster, runbook, gate and plan, still valid. */
export function checkPreApproval(
  p: PreApproval,
  c: { cluster: string; runbook: string; plan: string; now: number; keys: PolicyKeys },
): Check {
  if (p.plan !== c.plan)
    return {
      ok: false,
      why: `pre-approved plan ${p.plan.slice(0, 12)}…, but gate "${p.gate}" shows plan ${c.plan.slice(0, 12)}…`,
    };
  const [at, until] = [Date.parse(p.at), Date.parse(p.validUntil)];
  if (!(at <= c.now + MAX_CLOCK_SKEW_MS))
    return { ok: false, why: `signed at ${p.at}, ahead of the run's clock` };
  if (!(until >= c.now)) return { ok: false, why: `valid until ${p.validUntil}, which has passed` };
  if (!(until - at <= MAX_PRE_APPROVAL_MS)) return { ok: false, why: 'valid for more than 30 days' };
  const text = preApprovalText({ ...p, cluster: c.cluster, runbook: c.runbook });
  const v = verifySshSignature(p.signature, text, c.keys.approvers.get(normalIdentity(p.by)) ?? []);
  return v.ok ? v : { ok: false, why: `${p.by}: ${v.why}` };
}

export interface StartRequest {
  at: string;
  signature: string;
}

/**
 * A signed start: `requestedBy` signed this input (its hash) for this run, or for the schedule that
 * started it, with a key of an approver or a requester of the policy. A run's start is signed just
 * before it (fresh at `now`); a schedule's is the creator's, made once just before creating it: fresh
 * at `scheduleCreatedAt` (the server's time), so it cannot serve a schedule re-created later under
 * the same id.
 */
export function checkStart(
  request: StartRequest,
  c: {
    requestedBy: string;
    runbook: string;
    inputHash: string;
    /** The workflow id, or `schedule:<id>` for a run a schedule started (confirmed: see activities/schedules.ts). */
    target: string;
    now: number;
    /** When the server created the schedule; unknown for runs from before that was confirmed: not checked. */
    scheduleCreatedAt?: number;
    keys: PolicyKeys;
  },
): Check {
  const scheduled = c.target.startsWith('schedule:');
  const freshAt = scheduled ? c.scheduleCreatedAt : c.now;
  if (freshAt !== undefined) {
    const late = timeProblem(request.at, freshAt, scheduled ? "the schedule's creation" : undefined);
    if (late) return { ok: false, why: late };
  }
  const by = normalIdentity(c.requestedBy);
  const keys = [...(c.keys.approvers.get(by) ?? []), ...(c.keys.requesters.get(by) ?? [])];
  const text = startText({
    target: c.target,
    runbook: c.runbook,
    input: c.inputHash,
    by: c.requestedBy,
    at: request.at,
  });
  const v = verifySshSignature(request.signature, text, keys);
  return v.ok ? v : { ok: false, why: `${c.requestedBy}: ${v.why}` };
}
