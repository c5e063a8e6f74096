import {
  ApplicationFailure,
  condition,
  defineSignal,
  defineUpdate,
  metricMeter,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type ApprovalPolicy,
  ApproveArgs,
  type Decision,
  type DecisionKind,
  type PreApproval,
  type RefusedDecision,
  RejectArgs,
} from '../../src/spec/approvals';
import { durationMs } from '../../src/spec/duration';
import { clean, describeIssues } from '../../src/spec/validate';

/** Failure types a gate raises (all non-retryable). */
export const APPROVAL_REJECTED = 'ApprovalRejected';
export const APPROVAL_TIMED_OUT = 'ApprovalTimedOut';
export const DECISION_REFUSED = 'DecisionRefused';
export const DUPLICATE_GATE = 'DuplicateGate';

/** How long gates wait for people, for Prometheus (seconds, by runbook, gate and outcome). */
const gateWait = () =>
  // Made when used: this module is also imported outside workflows (for the Update definitions).
  metricMeter.createHistogram('waba_gate_wait_seconds', 'float', 's', 'Time an approval gate stayed open');

export type GateState = 'open' | 'approved' | 'rejected';
export type GateOutcome = 'approved' | 'rejected' | 'timedOut';

/** What the `approve` / `reject` Updates return to the person who sent them. */
export interface DecisionResult {
  gate: string;
  accepted: true;
  /** Distinct approvals this gate has now. */
  approvals: number;
  needed: number;
  state: GateState;
}

/** An open gate, as the `status` query shows it. */
export interface PendingGate {
  gate: string;
  summary: string;
  openedAt: string;
  /** Who approved so far, in order. */
  approvals: string[];
  needed: number;
}

export interface ApprovalHooks {
  onOpen?(gate: string, summary: string): void;
  onClose?(gate: string, outcome: GateOutcome): void;
}

export const approveUpdate = defineUpdate<DecisionResult, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<DecisionResult, [RejectArgs]>('reject');
export const approveSignal = defineSignal<[ApproveArgs]>('approve');
export const rejectSignal = defineSignal<[RejectArgs]>('reject');

interface Gate {
  gate: string;
  summary: string;
  openedAt: string;
  /** `open` until enough approvals or one rejection arrive, or the timeout closes it. */
  state: GateState | 'timedOut';
  approvals: Decision[];
  rejection?: Decision;
}

type Checked =
  | { ok: true; gate: Gate; args: ApproveArgs | RejectArgs }
  | { ok: false; gate: string; by: string; why: string };

/** A readable fragment of an untrusted field, for the record of refused decisions. */
function field(payload: unknown, key: string): string {
  const value =
    typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : '';
  return typeof value === 'string' ? clean(value, 100) : '';
}

/**
 * Human approval gates of one workflow run. Construct it once, at the start of the workflow (before
 * any `await`, so decisions buffered by the server reach its handlers), then `await require(...)`
 * before each step a person must allow.
 *
 * Decisions arrive as Updates `approve` / `reject` (refused ones are rejected by the validator and
 * never reach the history) or as Signals of the same names (refused ones are not applied and are
 * listed by `refused()`). A decision is refused when it is malformed, its gate is not open, its
 * author is not an approver, its author requested the run and self-approval is off, or its author
 * already approved that gate. The same rules apply to `reject`.
 */
export class ApprovalGates {
  private readonly gates = new Map<string, Gate>();
  private readonly log: Decision[] = [];
  private readonly advance: PreApproval[] = [];
  private readonly refusals: RefusedDecision[] = [];
  private approvers: ReadonlySet<string> = new Set();
  private timeoutMs = 0;
  private policy: ApprovalPolicy | undefined;

  /**
   * Handlers are registered here, at the start of the workflow; the policy comes from the inventory
   * once the run's cluster is resolved ({@link usePolicy}). Until then no gate is open, so every
   * decision is refused.
   */
  constructor(
    private readonly requestedBy: string,
    private readonly hooks: ApprovalHooks = {},
  ) {
    const refuse = (why: string): never => {
      throw ApplicationFailure.create({ type: DECISION_REFUSED, nonRetryable: true, message: why });
    };
    for (const kind of ['approve', 'reject'] as const) {
      const update = kind === 'approve' ? approveUpdate : rejectUpdate;
      const signal = kind === 'approve' ? approveSignal : rejectSignal;
      setHandler(
        update,
        (args: ApproveArgs | RejectArgs) => {
          const checked = this.check(kind, args);
          if (!checked.ok) return refuse(checked.why); // the validator ran just before: defensive only
          return this.apply(kind, checked.gate, checked.args);
        },
        {
          validator: (args: unknown) => {
            const checked = this.check(kind, args);
            if (!checked.ok) refuse(checked.why);
          },
          description: `${kind} an open approval gate: {gate, by, ${kind === 'approve' ? 'comment?' : 'reason'}}`,
        },
      );
      setHandler(
        signal,
        (args: ApproveArgs | RejectArgs) => {
          const checked = this.check(kind, args);
          if (checked.ok) {
            this.apply(kind, checked.gate, checked.args);
          } else {
            const { gate, by, why } = checked;
            this.refusals.push({ gate, kind, by, at: new Date().toISOString(), why });
          }
        },
        { description: `${kind} an open approval gate (refused decisions are recorded, not applied)` },
      );
    }
  }

  /** The policy every gate of this run applies (the cluster's, from the inventory). Call once, before `require`. */
  usePolicy(policy: ApprovalPolicy): void {
    this.policy = policy;
    this.approvers = new Set(policy.approvers);
    this.timeoutMs = durationMs(policy.timeout);
  }

  /** The policy in use; a gate before `usePolicy` is a programming error. */
  private rules(): ApprovalPolicy {
    if (!this.policy) throw new Error('ApprovalGates: no policy yet (usePolicy first)');
    return this.policy;
  }

  /**
   * Approvals given in advance (already checked against the policy when the run resolved); each counts
   * as its approver's approval the moment its gate opens. Call before `require`.
   */
  preApprove(preApproved: PreApproval[]): void {
    this.advance.push(...preApproved);
  }

  /**
   * Open `gate` and wait until `minApprovals` distinct approvers approved it (returns their
   * decisions), someone rejected it (throws `ApprovalRejected`) or the policy timeout passed (throws
   * `ApprovalTimedOut`). The gate is closed afterwards in every case. Gate names are unique per run.
   */
  async require(gate: string, summary: string): Promise<Decision[]> {
    const policy = this.rules();
    if (gate === '' || this.gates.has(gate)) {
      throw ApplicationFailure.create({
        type: DUPLICATE_GATE,
        nonRetryable: true,
        message:
          gate === ''
            ? 'an approval gate needs a name'
            : `approval gate "${gate}" was already opened in this run`,
      });
    }
    const g: Gate = { gate, summary, openedAt: new Date().toISOString(), state: 'open', approvals: [] };
    this.gates.set(gate, g);
    for (const p of this.advance.filter((a) => a.gate === gate && this.approvers.has(a.by))) {
      if (g.state !== 'open' || g.approvals.some((d) => d.by === p.by)) continue;
      this.apply('approve', g, { gate, by: p.by, comment: `pre-approved: ${p.reason}` }, true);
    }
    // Nobody is asked when the approvals given in advance already suffice.
    if (g.state === 'open') {
      this.hooks.onOpen?.(gate, summary);
      await condition(() => g.state !== 'open', this.timeoutMs, { summary: `approval gate ${gate}` });
    }
    // The decisions decide, even when the timer fired in the same activation.
    if (g.state === 'open') g.state = 'timedOut';
    this.hooks.onClose?.(gate, g.state);
    gateWait().record((Date.now() - Date.parse(g.openedAt)) / 1000, {
      runbook: workflowInfo().workflowType,
      gate,
      outcome: g.state,
    });

    if (g.state === 'approved') return g.approvals.map((d) => ({ ...d }));
    if (g.state === 'rejected' && g.rejection) {
      const { by, reason } = g.rejection;
      throw ApplicationFailure.create({
        type: APPROVAL_REJECTED,
        nonRetryable: true,
        message: `gate "${gate}" rejected by ${by}: ${reason}`,
        details: [{ ...g.rejection }],
      });
    }
    throw ApplicationFailure.create({
      type: APPROVAL_TIMED_OUT,
      nonRetryable: true,
      message:
        `gate "${gate}" timed out after ${policy.timeout} with ` +
        `${g.approvals.length} of ${policy.minApprovals} approval(s)`,
      details: [{ gate, timeout: policy.timeout, approvals: g.approvals.map((d) => d.by) }],
    });
  }

  /** The open gates, plain JSON. */
  pending(): PendingGate[] {
    return [...this.gates.values()]
      .filter((g) => g.state === 'open')
      .map((g) => ({
        gate: g.gate,
        summary: g.summary,
        openedAt: g.openedAt,
        approvals: g.approvals.map((d) => d.by),
        needed: this.rules().minApprovals,
      }));
  }

  /** Every accepted decision, in the order it was applied. */
  decisions(): Decision[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Every refused Signal decision, in order (refused Updates never reach the workflow's history). */
  refused(): RefusedDecision[] {
    return this.refusals.map((r) => ({ ...r }));
  }

  private check(kind: DecisionKind, payload: unknown): Checked {
    const parsed = (kind === 'approve' ? ApproveArgs : RejectArgs).safeParse(payload);
    if (!parsed.success) {
      return {
        ok: false,
        gate: field(payload, 'gate'),
        by: field(payload, 'by'),
        why: `malformed ${kind}: ${describeIssues(parsed.error).join('; ')}`,
      };
    }
    const args = parsed.data;
    const refused = (why: string): Checked => ({ ok: false, gate: args.gate, by: args.by, why });
    const gate = this.gates.get(args.gate);
    if (!gate) return refused(`gate "${args.gate}" is not open`);
    if (gate.state !== 'open') return refused(`gate "${args.gate}" is not open (${gate.state})`);
    if (!this.approvers.has(args.by)) return refused(`${args.by} is not an approver of this run`);
    if (args.by === this.requestedBy && !this.rules().allowSelfApproval) {
      return refused(`${args.by} requested this run and may not decide its gates (self-approval is off)`);
    }
    if (gate.approvals.some((d) => d.by === args.by)) {
      return refused(`${args.by} already approved gate "${args.gate}"`);
    }
    return { ok: true, gate, args };
  }

  private apply(
    kind: DecisionKind,
    gate: Gate,
    args: ApproveArgs | RejectArgs,
    preApproved = false,
  ): DecisionResult {
    const decision: Decision = { gate: gate.gate, kind, by: args.by, at: new Date().toISOString() };
    if (preApproved) decision.preApproved = true;
    if ('comment' in args && args.comment !== undefined) decision.comment = args.comment;
    if ('reason' in args) decision.reason = args.reason;
    this.log.push(decision);
    if (kind === 'reject') {
      gate.rejection = decision;
      gate.state = 'rejected';
    } else {
      gate.approvals.push(decision);
      if (gate.approvals.length >= this.rules().minApprovals) gate.state = 'approved';
    }
    return {
      gate: gate.gate,
      accepted: true,
      approvals: gate.approvals.length,
      needed: this.rules().minApprovals,
      state: gate.state === 'timedOut' ? 'open' : gate.state,
    };
  }
}
