// Can a runbook's gates ever be approved (TRUST.md rule 7)? The inventory loader asks this of the
// cluster's policy and of every per-runbook override, so a policy no run could ever pass is refused
// when the inventory is read, not discovered when a run fails at its start (APPROVAL_IMPOSSIBLE,
// workflows/lib/gated-run.ts). Pure.
//
// It mirrors the counting the runs do: a gate needs `minApprovals` distinct approvers, one more when
// the requester is not authenticated and self-approval is off (ApprovalGates.usePolicy); with
// self-approval off the requester never counts (gated-run.ts, ApprovalGates.check). A start is
// authenticated only when signed with a key of one of the runbook's approvers or of the policy's
// requesters (checkStart); an unsigned start may claim any name. Relays and pre-approvals do not
// change the count: each still counts as one approver, once.
import { normalIdentity } from './decisions';

/** What decides how many signers a runbook's gates can gather: its policy after overrides. */
export interface GateCounting {
  /** The runbook's approvers (the override's subset, or the cluster's). */
  approvers: readonly string[];
  minApprovals: number;
  allowSelfApproval: boolean;
  /** Who may sign a start without approving: the cluster policy's `requesters`. */
  requesters: readonly string[];
}

/** For each kind of start, whether its gates can gather enough distinct approvers. */
export interface ApprovableStarts {
  /** Unsigned, naming someone who is not an approver (naming an approver is never better). */
  unsigned: boolean;
  /** Signed by one of the runbook's approvers. */
  signedByApprover: boolean;
  /** Signed by a requester who is not one of the runbook's approvers (false when there is none). */
  signedByRequester: boolean;
}

export function approvableStarts(p: GateCounting): ApprovableStarts {
  const approvers = new Set(p.approvers.map(normalIdentity));
  const n = approvers.size;
  const min = p.minApprovals;
  const outsider = p.requesters.some((r) => !approvers.has(normalIdentity(r)));
  if (p.allowSelfApproval) {
    // Nobody is excluded and nobody needs one more.
    const ok = min <= n;
    return { unsigned: ok, signedByApprover: ok && n > 0, signedByRequester: ok && outsider };
  }
  return {
    unsigned: min + 1 <= n,
    signedByApprover: n > 0 && min <= n - 1,
    signedByRequester: outsider && min <= n,
  };
}

/**
 * Why no start of a run under `p` (unsigned, or signed by anyone allowed to request it) could ever
 * gather enough eligible distinct approvers; undefined when some start can.
 */
export function whyNeverApprovable(p: GateCounting): string | undefined {
  const n = new Set(p.approvers.map(normalIdentity)).size;
  const min = p.minApprovals;
  if (min > n) return `${min} approvals can never be given: only ${n} approver(s)`;
  const starts = approvableStarts(p);
  if (starts.unsigned || starts.signedByApprover || starts.signedByRequester) return undefined;
  return (
    `${min} approvals can never be given with self-approval off: an approver's signed start leaves ` +
    `${n - 1} other approver(s), an unsigned start needs ${min + 1} of ${n}, and no requester outside ` +
    'the approvers may start it (TRUST.md rule 7); add an approver, lower minApprovals or list a requester'
  );
}
