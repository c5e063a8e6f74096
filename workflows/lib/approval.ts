import { ApplicationFailure, condition, metricMeter, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  type ApprovalPolicy,
  ApproveArgs,
  type Decision,
  type DecisionKind,
  type PreApproval,
  type RefusedDecision,
  RejectArgs,
} from '../../src/model/approvals';
import { canonicalJson } from '../../src/model/canonical';
import {
  checkGateDecision,
  checkPreApproval,
  type PolicyKeys,
  policyKeys,
} from '../../src/model/decision-check';
import { normalIdentity, sha256Hex } from '../../src/model/decisions';
import { durationMs } from '../../src/model/duration';
import {
  APPROVAL_REJECTED,
  APPROVAL_TIMED_OUT,
  DECISION_REFUSED,
  DUPLICATE_GATE,
} from '../../src/model/errors';
import { clean, describeIssues } from '../../src/model/validate';
import {
  approveSignal,
  approveUpdate,
  type DecisionResult,
  type GateState,
  type PendingGate,
  type PlanStep,
  type Requester,
  rejectSignal,
  rejectUpdate,
} from '../api';
import { runContext } from './run-context';

/** How long gates wait for people, for Prometheus (seconds, by runbook, gate and outcome). */
const gateWait = () =>
  // Made when used: this module is also imported outside workflows (tests use planHashOf).
  metricMeter.createHistogram('waba_gate_wait_seconds', 'float', 's', 'Time an approval gate stayed open');

/**
 * When each open gate opened (unix seconds; 0 once it closed), by runbook, cluster and gate: what
 * "a gate waits too long" alerts on. A gauge, not "opened" minus "closed" counters: a restarted
 * worker resets counters, and the difference would be wrong. Like every workflow metric it is not
 * in the history and is not emitted while replaying.
 */
const gateOpened = () =>
  metricMeter.createGauge(
    'waba_gate_opened_timestamp_seconds',
    'float',
    's',
    'When a still-open approval gate opened (unix seconds), 0 once it closed',
  );

export type GateOutcome = 'approved' | 'rejected' | 'timedOut';

export interface ApprovalHooks {
  onOpen?(gate: string, summary: string, plan: string, reopenedBecause?: string): void;
  onClose?(gate: string, outcome: GateOutcome): void;
}

interface Gate {
  gate: string;
  summary: string;
  openedAt: string;
  plan: string;
  /** `open` until enough approvals or one rejection arrive, or the timeout closes it. */
  state: GateState | 'timedOut';
  approvals: Decision[];
  rejection?: Decision;
  reopenedBecause?: string;
}

type Checked =
  | { ok: true; gate: Gate; args: ApproveArgs | RejectArgs; key: string }
  | { ok: false; gate: string; by: string; why: string };

/** A readable fragment of an untrusted field, for the record of refused decisions. */
function field(payload: unknown, key: string): string {
  const value =
    typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : '';
  return typeof value === 'string' ? clean(value, 100) : '';
}

/** The hash a decision on `gate` signs: the gate, the cluster's spec and every step of the plan. */
export const planHashOf = (gate: string, specHash: string, steps: readonly PlanStep[]): string =>
  sha256Hex(canonicalJson({ gate, spec: specHash, steps }));

/**
 * Human approval gates of one workflow run. Construct it once, at the start of the workflow (before
 * any `await`, so decisions buffered by the server reach its handlers), give it the cluster's
 * policy once the run is resolved ({@link usePolicy}), then `await require(...)` before each step a
 * person must allow, with the plan the gate shows.
 *
 * Decisions arrive as Updates `approve` / `reject` (refused ones are rejected by the validator and
 * never reach the history) or as Signals of the same names (refused ones are not applied and are
 * listed by `refused()`). A decision counts only when it is signed (TRUST.md rule 5): with a key the
 * policy lists for its author (or by a relay the policy lets speak for them), over this run, this
 * gate and the plan hash the gate shows, recently. It is refused when it is malformed or unsigned,
 * its gate is not open, its author is not an approver, requested the run with self-approval off,
 * or already approved that gate; names compare case-insensitively.
 */
export class ApprovalGates {
  private readonly gates = new Map<string, Gate>();
  private readonly log: Decision[] = [];
  private readonly advance: PreApproval[] = [];
  private readonly refusals: RefusedDecision[] = [];
  private approvers: ReadonlySet<string> = new Set();
  private timeoutMs = 0;
  private current: ApprovalPolicy | undefined;
  private keys: PolicyKeys | undefined;
  private specHash = '';
  private needed = 1;
  private context = { cluster: '', runbook: '' };
  private requesterAuthenticated = false;

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
          return this.apply(kind, checked.gate, checked.args, checked.key);
        },
        {
          validator: (args: unknown) => {
            const checked = this.check(kind, args);
            if (!checked.ok) refuse(checked.why);
          },
          description: `${kind} an open approval gate: {gate, by, at, plan, signature, ${kind === 'approve' ? 'comment?' : 'reason'}}, signed (waba-runbooks sign)`,
        },
      );
      setHandler(
        signal,
        (args: ApproveArgs | RejectArgs) => {
          const checked = this.check(kind, args);
          if (checked.ok) {
            this.apply(kind, checked.gate, checked.args, checked.key);
          } else {
            const { gate, by, why } = checked;
            this.refusals.push({ gate, kind, by, at: new Date().toISOString(), why });
          }
        },
        { description: `${kind} an open approval gate (refused decisions are recorded, not applied)` },
      );
    }
  }

  /**
   * The policy every gate of this run applies (the cluster's, from the inventory) and what the plan
   * hashes bind: the cluster's spec hash. A run whose requester is not authenticated (an unsigned
   * start) needs one more distinct approver than `minApprovals` when self-approval is off (TRUST.md
   * rule 7). Call once, before `require`.
   */
  usePolicy(
    policy: ApprovalPolicy,
    opts: { specHash: string; cluster: string; runbook: string; requesterAuthenticated: boolean },
  ): void {
    this.current = policy;
    this.keys = policyKeys(policy);
    this.approvers = new Set(policy.approvers.map(normalIdentity));
    this.timeoutMs = durationMs(policy.timeout);
    this.specHash = opts.specHash;
    this.context = { cluster: opts.cluster, runbook: opts.runbook };
    this.requesterAuthenticated = opts.requesterAuthenticated;
    this.needed = policy.minApprovals + (opts.requesterAuthenticated || policy.allowSelfApproval ? 0 : 1);
  }

  /** Who asked for the run, and whether the start request proved it. */
  requester(): Requester {
    return { name: this.requestedBy, authenticated: this.requesterAuthenticated };
  }

  /** Distinct approvals each gate needs in this run. */
  neededApprovals(): number {
    return this.needed;
  }

  /** The policy the gates apply (after `usePolicy`). */
  policy(): ApprovalPolicy {
    return this.rules();
  }

  /** The policy in use; a gate before `usePolicy` is a programming error. */
  private rules(): ApprovalPolicy {
    if (!this.current) throw new Error('ApprovalGates: no policy yet (usePolicy first)');
    return this.current;
  }

  /**
   * Approvals given in advance (their authors, the policy and the scheduled start already checked
   * when the run resolved); each counts as its approver's approval the moment its gate opens with
   * the plan it was signed for. Call before `require`.
   */
  preApprove(preApproved: PreApproval[]): void {
    this.advance.push(...preApproved);
  }

  /**
   * Open `gate` showing `steps` and wait until enough distinct approvers approved it (returns their
   * decisions), someone rejected it (throws `ApprovalRejected`) or the policy timeout passed (throws
   * `ApprovalTimedOut`). The gate is closed afterwards in every case. Gate names are unique per run,
   * except that an approved gate opens again (`reopenBecause`) when its plan changed before the step
   * it guards: the approvals given for the old plan no longer count.
   */
  async require(
    gate: string,
    summary: string,
    steps: readonly PlanStep[],
    reopenBecause?: string,
  ): Promise<Decision[]> {
    const policy = this.rules();
    const earlier = this.gates.get(gate);
    const reopening = earlier?.state === 'approved' && reopenBecause !== undefined;
    if (gate === '' || (earlier && !reopening)) {
      throw ApplicationFailure.create({
        type: DUPLICATE_GATE,
        nonRetryable: true,
        message:
          gate === ''
            ? 'an approval gate needs a name'
            : `approval gate "${gate}" was already opened in this run`,
      });
    }
    const g: Gate = {
      gate,
      summary,
      openedAt: new Date().toISOString(),
      plan: planHashOf(gate, this.specHash, steps),
      state: 'open',
      approvals: [],
      ...(reopening ? { reopenedBecause: reopenBecause } : {}),
    };
    this.gates.set(gate, g);
    for (const p of this.advance.filter((a) => a.gate === gate)) {
      if (g.state !== 'open' || g.approvals.some((d) => normalIdentity(d.by) === normalIdentity(p.by)))
        continue;
      const keys = this.keys as PolicyKeys;
      const ok = checkPreApproval(p, { ...this.context, plan: g.plan, now: Date.now(), keys });
      if (!ok.ok) {
        this.refusals.push({
          gate,
          kind: 'approve',
          by: p.by,
          at: new Date().toISOString(),
          why: `pre-approval: ${ok.why}`,
        });
        continue;
      }
      this.apply(
        'approve',
        g,
        { gate, by: p.by, at: p.at, plan: p.plan, comment: `pre-approved: ${p.reason}` },
        ok.fingerprint,
        true,
      );
    }
    // Nobody is asked when the approvals given in advance already suffice.
    if (g.state === 'open') {
      this.hooks.onOpen?.(gate, summary, g.plan, g.reopenedBecause);
      const opened = gateOpened().withTags({
        runbook: workflowInfo().workflowType,
        cluster: runContext().cluster ?? 'unknown',
        gate,
      });
      opened.set(Date.parse(g.openedAt) / 1000);
      try {
        await condition(() => g.state !== 'open', this.timeoutMs, { summary: `approval gate ${gate}` });
      } finally {
        // Closed however the wait ended: decided, timed out, or the run cancelled.
        opened.set(0);
      }
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
        `${g.approvals.length} of ${this.needed} approval(s)`,
      details: [{ gate, timeout: policy.timeout, approvals: g.approvals.map((d) => d.by) }],
    });
  }

  /** The plan hash gate `gate` shows (or showed last). */
  planOf(gate: string): string | undefined {
    return this.gates.get(gate)?.plan;
  }

  /** The open gates, plain JSON. */
  pending(): PendingGate[] {
    return [...this.gates.values()]
      .filter((g) => g.state === 'open')
      .map((g) => ({
        gate: g.gate,
        summary: g.summary,
        openedAt: g.openedAt,
        plan: g.plan,
        approvals: g.approvals.map((d) => d.by),
        needed: this.needed,
        ...(g.reopenedBecause ? { reopenedBecause: g.reopenedBecause } : {}),
      }));
  }

  /** Every accepted decision, in the order it was applied (those of a re-opened gate's old plan too). */
  decisions(): Decision[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Every refused Signal decision and pre-approval, in order (refused Updates never reach the history). */
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
    const by = normalIdentity(args.by);
    const refused = (why: string): Checked => ({ ok: false, gate: args.gate, by: args.by, why });
    const gate = this.gates.get(args.gate);
    if (!gate) return refused(`gate "${args.gate}" is not open`);
    if (gate.state !== 'open') return refused(`gate "${args.gate}" is not open (${gate.state})`);
    if (!this.approvers.has(by)) return refused(`${args.by} is not an approver of this run`);
    if (by === normalIdentity(this.requestedBy) && !this.rules().allowSelfApproval) {
      return refused(`${args.by} requested this run and may not decide its gates (self-approval is off)`);
    }
    if (gate.approvals.some((d) => normalIdentity(d.by) === by)) {
      return refused(`${args.by} already approved gate "${args.gate}"`);
    }
    const info = workflowInfo();
    const signed = checkGateDecision({
      verb: kind,
      args,
      workflowId: info.workflowId,
      runId: info.runId,
      plan: gate.plan,
      now: Date.now(),
      keys: this.keys as PolicyKeys,
    });
    if (!signed.ok) return refused(signed.why);
    // One personal key counts once per gate, whatever name it is sent under (a relay's key may
    // carry several people's decisions; the inventory keeps relay and personal keys apart).
    const reused = gate.approvals.find((d) => d.key === signed.fingerprint && !(d.via && args.relay));
    if (reused)
      return refused(`key ${signed.fingerprint} already counted on gate "${args.gate}" (as ${reused.by})`);
    return { ok: true, gate, args, key: signed.fingerprint };
  }

  private apply(
    kind: DecisionKind,
    gate: Gate,
    args: ApproveArgs | RejectArgs,
    key: string,
    preApproved = false,
  ): DecisionResult {
    const decision: Decision = {
      gate: gate.gate,
      kind,
      by: normalIdentity(args.by),
      at: new Date().toISOString(),
      plan: gate.plan,
      key,
      ...(args.at ? { signedAt: args.at } : {}),
      ...(args.via ? { via: args.via } : {}),
    };
    if (preApproved) decision.preApproved = true;
    if ('comment' in args && args.comment !== undefined) decision.comment = args.comment;
    if ('reason' in args) decision.reason = args.reason;
    this.log.push(decision);
    if (kind === 'reject') {
      gate.rejection = decision;
      gate.state = 'rejected';
    } else {
      gate.approvals.push(decision);
      if (gate.approvals.length >= this.needed) gate.state = 'approved';
    }
    return {
      gate: gate.gate,
      accepted: true,
      approvals: gate.approvals.length,
      needed: this.needed,
      state: gate.state === 'timedOut' ? 'open' : gate.state,
      key,
    };
  }
}
