import { z } from 'zod';
import { Duration } from './duration';

/**
 * Human approval gates and verification codes: what a person (or a chat bot acting for one) sends
 * to a running workflow, and the policy a run's gates apply (resolved from the worker's inventory,
 * src/spec/policy.ts). Workflow-safe: only zod, no I/O.
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

/**
 * An approval given in advance by a named approver, in the input of a scheduled run (e.g. a change
 * approved by the CAB for Sunday's window). Honoured only when the policy allows it and the run was
 * started by a Schedule; it counts as that approver's approval when the gate opens.
 */
export const PreApproval = z.strictObject({
  gate: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a gate name such as "upgrade"'),
  by: Identity,
  reason: z.string().min(3, 'say why (e.g. the change ticket)').max(500),
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
  return preApproved.flatMap((p, i) => {
    const issues: { path: (string | number)[]; message: string }[] = [];
    if (!gates.includes(p.gate))
      issues.push({
        path: ['preApproved', i, 'gate'],
        message: `only ${gates.join(', ')} can be pre-approved`,
      });
    if (!policy.approvers.includes(p.by))
      issues.push({ path: ['preApproved', i, 'by'], message: `${p.by} is not an approver of this cluster` });
    else if (p.by === requestedBy && !policy.allowSelfApproval)
      issues.push({
        path: ['preApproved', i, 'by'],
        message: `${p.by} requested the run and self-approval is off`,
      });
    return issues;
  });
}

export const ApproveArgs = z.strictObject({
  gate: z.string().min(1).max(100),
  by: Identity,
  comment: z.string().max(500).optional(),
});
export type ApproveArgs = z.infer<typeof ApproveArgs>;

export const RejectArgs = z.strictObject({
  gate: z.string().min(1).max(100),
  by: Identity,
  reason: z.string().min(1).max(500),
});
export type RejectArgs = z.infer<typeof RejectArgs>;

/** A verification code (the registration SMS/voice code) and who typed it in. */
export const CodeArgs = z.strictObject({
  code: z.string().regex(/^\d{3,8}$/, 'expected a code of 3 to 8 digits'),
  by: Identity,
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
