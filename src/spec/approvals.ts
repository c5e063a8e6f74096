import { z } from 'zod';

/**
 * Human approval gates and verification codes: what a person (or a chat bot acting for one) sends
 * to a running workflow. Workflow-safe: only zod, no I/O.
 */

/** Who decides: a person or bot identity as the chat/CLI front end names it. */
export const Identity = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'expected a person or bot identity (letters, digits, . _ @ -)',
  );
export type Identity = z.infer<typeof Identity>;

const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `30s`, `15m`, `24h`, `2d` or `500ms`. */
export const Duration = z.string().regex(DURATION_PATTERN, 'expected a duration like 30s, 15m, 24h');
export type Duration = z.infer<typeof Duration>;

/** Milliseconds of a {@link Duration}; throws on anything else. */
export function durationMs(d: string): number {
  const match = DURATION_PATTERN.exec(d);
  if (!match) throw new Error(`expected a duration like 30s, 15m, 24h, got "${d}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Who may open a gate, how many distinct approvers it needs, and how long it waits. */
export const ApprovalPolicy = z
  .strictObject({
    approvers: z.array(Identity).min(1, 'a gate needs at least one approver'),
    minApprovals: z.number().int().min(1).default(1),
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
  gate: z.string().min(1),
  by: Identity,
  reason: z.string().min(3, 'say why (e.g. the change ticket)').max(500),
});
export type PreApproval = z.infer<typeof PreApproval>;

/** Schema issues of `preApproved` against the policy: allowed at all, approvers, self-approval, gates. */
export function preApprovalIssues(
  preApproved: PreApproval[],
  policy: ApprovalPolicy,
  requestedBy: string,
  gates: readonly string[],
): { path: (string | number)[]; message: string }[] {
  if (preApproved.length === 0) return [];
  if (!policy.allowPreApproval)
    return [
      { path: ['preApproved'], message: 'approvals.allowPreApproval is false: gates cannot be pre-approved' },
    ];
  return preApproved.flatMap((p, i) => {
    const issues: { path: (string | number)[]; message: string }[] = [];
    if (!gates.includes(p.gate))
      issues.push({
        path: ['preApproved', i, 'gate'],
        message: `only ${gates.join(', ')} can be pre-approved`,
      });
    if (!policy.approvers.includes(p.by))
      issues.push({ path: ['preApproved', i, 'by'], message: `${p.by} is not in approvals.approvers` });
    else if (p.by === requestedBy && !policy.allowSelfApproval)
      issues.push({
        path: ['preApproved', i, 'by'],
        message: `${p.by} requested the run and self-approval is off`,
      });
    return issues;
  });
}

export const ApproveArgs = z.strictObject({
  gate: z.string().min(1),
  by: Identity,
  comment: z.string().max(500).optional(),
});
export type ApproveArgs = z.infer<typeof ApproveArgs>;

export const RejectArgs = z.strictObject({
  gate: z.string().min(1),
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
