import { z } from 'zod';
import { normalIdentity } from './decisions';
import { Duration } from './duration';
import { oneLine } from './validate';

/**
 * Human approval gates and verification codes: what a person (or a chat bot acting for one) sends
 * to a running workflow, and the policy a run's gates apply (resolved from the worker's inventory,
 * src/model/policy.ts). Workflow-safe: only zod, no I/O.
 */

/** Who decides: a person or bot identity as the chat/CLI front end names it. */
export const Identity = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'expected a person or bot identity (letters, digits, . _ @ -)',
  );
export type Identity = z.infer<typeof Identity>;

/**
 * The policy one run's gates apply: who may approve, how many distinct approvals a gate needs,
 * whether the requester may approve, whether a scheduled run may carry approvals given in advance,
 * and how long a gate waits. A run gets it from the inventory at its start, never from its input.
 */
export const ApprovalPolicy = z
  .strictObject({
    approvers: z.array(Identity).min(1, 'a gate needs at least one approver').max(100),
    minApprovals: z.number().int().min(1).max(10).default(1),
    /** May the person who requested the run approve its gates? */
    allowSelfApproval: z.boolean().default(false),
    /** May a scheduled run's input carry approvals given in advance (see PreApproval)? */
    allowPreApproval: z.boolean().default(false),
    timeout: Duration.default('24h'),
    /** Public key lines by approver: a decision counts only when signed by one of its author's. */
    keys: z.record(Identity, z.array(z.string().max(2000)).max(10)).default({}),
    /** People who may start runs (a signed start authenticates them) but not approve. */
    requesters: z.record(Identity, z.array(z.string().max(2000)).max(10)).default({}),
    /** Chat relays: their key, and whom they may speak for. */
    relays: z
      .array(
        z.strictObject({ name: Identity, key: z.string().max(2000), mayActFor: z.array(Identity).max(100) }),
      )
      .max(20)
      .default([]),
    /** Must the registration code be signed too? */
    signCodes: z.boolean().default(false),
  })
  .superRefine((policy, ctx) => {
    const distinct = new Set(policy.approvers).size;
    if (policy.minApprovals > distinct) {
      ctx.addIssue({
        code: 'custom',
        path: ['minApprovals'],
        message: `minApprovals ${policy.minApprovals} exceeds the ${distinct} distinct approver(s)`,
      });
    }
  });
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;
/** What an operator writes (defaults not yet applied). */
export type ApprovalPolicyInput = z.input<typeof ApprovalPolicy>;

/** An armored SSHSIG, as `ssh-keygen -Y sign -n waba-runbooks` prints it (whitespace as it comes). */
export const Signature = z
  .string()
  .max(4096)
  .regex(
    /^\s*-----BEGIN SSH SIGNATURE-----[\sA-Za-z0-9+/=]+-----END SSH SIGNATURE-----\s*$/,
    'expected an armored SSH signature (ssh-keygen -Y sign -n waba-runbooks)',
  );
/** When the signer signed (ISO 8601): checked against the run's clock. */
export const SignedAt = z.iso.datetime({ offset: true });
/** sha256 hex of the plan shown at a gate. */
export const PlanHash = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected the plan hash shown at the gate (64 hex digits)');
/** A chat relay's attestation of where a decision came from, e.g. `slack:U024BE7LH`. */
export const Via = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,19}:[A-Za-z0-9._@-]{1,64}$/, 'expected <chat>:<user id>');

/** A gate's name as a decision names it. */
const GateName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a gate name such as "upgrade"');

/**
 * A comment or reason: one line of text, as signed. Control characters (newlines) and bidi overrides
 * are refused, so no two notes sign the same text, none adds lines to it, none disguises itself.
 */
const Note = (min: number) => oneLine(z.string().min(min).max(500));

/**
 * An approval given in advance by a named approver, in the input of a scheduled run (e.g. a change
 * approved by the CAB for Sunday's window), signed over the plan a dry run showed
 * (`waba-runbooks plan upgrade --input ...`, then `waba-runbooks sign preapprove ...`). Honoured
 * only when the policy allows it, the run was started by a Schedule, the gate shows that plan and
 * the signature is the approver's; it then counts as that approver's approval when the gate opens.
 */
export const PreApproval = z.strictObject({
  gate: GateName,
  by: Identity,
  reason: Note(1).min(3, 'say why (e.g. the change ticket)'),
  plan: PlanHash,
  at: SignedAt,
  validUntil: SignedAt,
  signature: Signature,
});
export type PreApproval = z.infer<typeof PreApproval>;

/** Problems of `preApproved` against the policy: allowed at all, approvers, self-approval, gates. */
export function preApprovalIssues(
  preApproved: PreApproval[],
  policy: Pick<ApprovalPolicy, 'approvers' | 'allowPreApproval' | 'allowSelfApproval'>,
  requestedBy: string,
  gates: readonly string[],
): { path: (string | number)[]; message: string }[] {
  if (preApproved.length === 0) return [];
  if (!policy.allowPreApproval)
    return [
      {
        path: ['preApproved'],
        message: "the cluster's approval policy (allowPreApproval) does not allow pre-approved gates",
      },
    ];
  const approvers = policy.approvers.map(normalIdentity);
  return preApproved.flatMap((p, i) => {
    const issues: { path: (string | number)[]; message: string }[] = [];
    if (!gates.includes(p.gate))
      issues.push({
        path: ['preApproved', i, 'gate'],
        message: `only ${gates.join(', ')} can be pre-approved`,
      });
    if (!approvers.includes(normalIdentity(p.by)))
      issues.push({ path: ['preApproved', i, 'by'], message: `${p.by} is not an approver of this cluster` });
    else if (normalIdentity(p.by) === normalIdentity(requestedBy) && !policy.allowSelfApproval)
      issues.push({
        path: ['preApproved', i, 'by'],
        message: `${p.by} requested the run and self-approval is off`,
      });
    return issues;
  });
}

/**
 * A decision on a gate. It counts only when `signature` signs the decision's text (see
 * src/model/decisions.ts) with a key the policy lists for `by` (or, with `relay`, the relay's key
 * for someone the relay may speak for). Unsigned ones parse, so the refusal can say why.
 */
const DecisionFields = {
  gate: GateName,
  by: Identity,
  at: SignedAt.optional(),
  plan: PlanHash.optional(),
  signature: Signature.optional(),
  relay: Identity.optional(),
  via: Via.optional(),
};

export const ApproveArgs = z.strictObject({ ...DecisionFields, comment: Note(0).optional() });
export type ApproveArgs = z.infer<typeof ApproveArgs>;

export const RejectArgs = z.strictObject({ ...DecisionFields, reason: Note(1) });
export type RejectArgs = z.infer<typeof RejectArgs>;

/** A verification code (the registration SMS/voice code) and who typed it in; signed where the policy asks. */
export const CodeArgs = z.strictObject({
  code: z.string().regex(/^\d{3,8}$/, 'expected a code of 3 to 8 digits'),
  by: Identity,
  at: SignedAt.optional(),
  signature: Signature.optional(),
  relay: Identity.optional(),
  via: Via.optional(),
});
export type CodeArgs = z.infer<typeof CodeArgs>;

export type DecisionKind = 'approve' | 'reject';

/** An accepted decision on a gate, as the `status` query and results show it. */
export interface Decision {
  gate: string;
  kind: DecisionKind;
  by: string;
  /** Workflow time, ISO 8601. */
  at: string;
  /** The plan hash the decision was signed for (the gate's, when it was accepted). */
  plan?: string;
  /** When the signer signed, and with which key (SHA256 fingerprint). */
  signedAt?: string;
  key?: string;
  /** A chat relay's attestation, e.g. `slack:U024BE7LH` (the relay's key signed it). */
  via?: string;
  comment?: string;
  reason?: string;
  /** Given in advance in a scheduled run's input. */
  preApproved?: true;
}

/** A decision that arrived (by Signal) and was not applied, and why. */
export interface RefusedDecision {
  gate: string;
  kind: DecisionKind;
  by: string;
  at: string;
  why: string;
}
