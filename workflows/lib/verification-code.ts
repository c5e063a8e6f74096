import { ApplicationFailure, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { type ApprovalPolicy, CodeArgs } from '../../src/model/approvals';
import { checkCode, type PolicyKeys, policyKeys } from '../../src/model/decision-check';
import { normalIdentity } from '../../src/model/decisions';
import { Duration, durationMs } from '../../src/model/duration';
import {
  INVALID_INPUT,
  nonRetryable,
  VERIFICATION_CODE_REFUSED,
  VERIFICATION_CODE_TIMED_OUT,
} from '../../src/model/errors';
import { clean, describeIssues } from '../../src/model/validate';
import { verificationCodeSignal, verificationCodeUpdate } from '../api';

export interface ReceivedCode {
  code: string;
  by: string;
  /** Workflow time, ISO 8601. */
  at: string;
}

/** A code that arrived (by Signal) and was not taken. The code itself is never kept. */
export interface RefusedCode {
  by: string;
  at: string;
  why: string;
}

/**
 * The registration verification code (SMS or voice), typed in by a person while the run waits.
 * Construct it once, at the start of the workflow; then `await wait('15m')` where the code is needed.
 * The code arrives as Update `verificationCode` (refused by its validator unless well-formed and a
 * code is awaited right now) or as Signal `verificationCode` (refused ones are listed by `refused()`).
 * Put only `{by, at}` into status and result objects; the code is for the caller's next step.
 */
export class VerificationCode {
  private waiting = false;
  /** Set when the cluster's policy wants codes signed by an approver. */
  private signing: { keys: PolicyKeys; approvers: Set<string>; plan: string } | undefined;
  private received: ReceivedCode | undefined;
  private readonly refusals: RefusedCode[] = [];
  private readonly accepted: { by: string; at: string }[] = [];

  /** `onWait` runs each time a wait starts (e.g. to tell the chat a code is needed). */
  constructor(private readonly hooks: { onWait?(timeout: string): void } = {}) {
    setHandler(
      verificationCodeUpdate,
      (args: CodeArgs) => {
        const why = this.check(args);
        if (why !== null) throw nonRetryable(VERIFICATION_CODE_REFUSED, why);
        this.take(args);
        return { accepted: true as const };
      },
      {
        validator: (args: unknown) => {
          const why = this.check(args);
          if (why !== null) throw nonRetryable(VERIFICATION_CODE_REFUSED, why);
        },
        description: 'the verification code the run is waiting for: {code, by}',
      },
    );
    setHandler(
      verificationCodeSignal,
      (args: CodeArgs) => {
        const why = this.check(args);
        if (why === null) {
          this.take(args);
        } else {
          const by = typeof args === 'object' && args !== null && typeof args.by === 'string' ? args.by : '';
          this.refusals.push({ by: clean(by, 100), at: new Date().toISOString(), why });
        }
      },
      {
        description: 'the verification code the run is waiting for (refused codes are recorded, not applied)',
      },
    );
  }

  /**
   * Codes must be signed by an approver, bound to this run and `plan` (the plan hash of the gate
   * that allowed the registration), when the policy says so (`signCodes`).
   */
  requireSignatures(policy: ApprovalPolicy, plan: string): void {
    if (!policy.signCodes) return;
    this.signing = {
      keys: policyKeys(policy),
      approvers: new Set(policy.approvers.map(normalIdentity)),
      plan,
    };
  }

  /** The plan hash a signed code is bound to, while one is awaited and signatures are required. */
  codePlan(): string | undefined {
    return this.waiting ? this.signing?.plan : undefined;
  }

  /**
   * Wait up to `timeout` (e.g. `15m`) for a code; throws a non-retryable `VerificationCodeTimedOut`
   * failure when none arrived. Codes sent while nothing waits are refused.
   */
  async wait(timeout: string): Promise<ReceivedCode> {
    if (!Duration.safeParse(timeout).success) {
      throw ApplicationFailure.create({
        type: INVALID_INPUT,
        nonRetryable: true,
        message: `verification code timeout: expected a duration like 30s, 15m, 24h, got "${timeout}"`,
      });
    }
    if (this.waiting) {
      throw ApplicationFailure.create({
        nonRetryable: true,
        message: 'already waiting for a verification code',
      });
    }
    this.received = undefined;
    this.waiting = true;
    this.hooks.onWait?.(timeout);
    await condition(() => this.received !== undefined, durationMs(timeout), { summary: 'verification code' });
    this.waiting = false;
    const got = this.received;
    this.received = undefined;
    if (got) return got;
    throw ApplicationFailure.create({
      type: VERIFICATION_CODE_TIMED_OUT,
      nonRetryable: true,
      message: `no verification code arrived within ${timeout}`,
    });
  }

  /** Is a code awaited right now? */
  awaiting(): boolean {
    return this.waiting;
  }

  /** Who sent the accepted codes, and when (never the codes). */
  receipts(): { by: string; at: string }[] {
    return this.accepted.map((r) => ({ ...r }));
  }

  refused(): RefusedCode[] {
    return this.refusals.map((r) => ({ ...r }));
  }

  private check(payload: unknown): string | null {
    const parsed = CodeArgs.safeParse(payload);
    // describeIssues names fields and rules, never the submitted value.
    if (!parsed.success) return `malformed verification code: ${describeIssues(parsed.error).join('; ')}`;
    if (!this.waiting) return 'no verification code is awaited now';
    if (this.signing) {
      if (!this.signing.approvers.has(normalIdentity(parsed.data.by)))
        return `${parsed.data.by} is not an approver of this run`;
      const info = workflowInfo();
      const signed = checkCode(parsed.data, {
        workflowId: info.workflowId,
        runId: info.runId,
        plan: this.signing.plan,
        now: Date.now(),
        keys: this.signing.keys,
        approversOnly: true,
      });
      if (!signed.ok) return signed.why;
    }
    return null;
  }

  private take(args: CodeArgs): void {
    const at = new Date().toISOString();
    this.received = { code: args.code, by: args.by, at };
    this.accepted.push({ by: args.by, at });
    // One code per wait: anything after this one is refused.
    this.waiting = false;
  }
}
