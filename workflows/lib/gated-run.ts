import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { ApprovalPolicy } from '../../src/model/approvals';
import { canonicalJson } from '../../src/model/canonical';
import { checkStart, policyKeys, type StartRequest } from '../../src/model/decision-check';
import { normalIdentity, sha256Hex } from '../../src/model/decisions';
import { APPROVAL_IMPOSSIBLE, INVALID_INPUT, INVENTORY_INCOMPLETE } from '../../src/model/errors';
import type { InputIssue } from '../../src/model/inputs/common';
import { inventoryOf } from '../../src/model/inventory';
import { gatePolicy } from '../../src/model/policy';
import type { PreviewResult } from '../../src/model/results';
import type { RunbookName } from '../../src/model/runbooks';
import { fingerprintOfLine } from '../../src/model/ssh/public-key';
import { runSummary } from '../../src/model/summary';
import type { PlanStep } from '../api';
import { ApprovalGates, planHashOf } from './approval';
import { RunNotifier } from './notify';
import { Progress } from './progress';
import { type RunCluster, resolveRun } from './resolve';
import { type ScheduledStart, scheduledStart } from './scheduled-start';

type Issues<I> = Parameters<typeof resolveRun<I & { cluster: string }>>[2];

/** `resolve` of a run: the cluster from the inventory, the input checked against it, shown in `status`. */
export interface Run<I> {
  progress: Progress;
  notifier: RunNotifier;
  resolve(issues?: Issues<I>): Promise<RunCluster>;
}

const noIssues = (): InputIssue[] => [];

/**
 * The start of every runbook: progress (status query, search attributes, current details) and chat
 * notifications; `resolve()` then resolves the cluster (see resolveRun) and shows its hash.
 */
export function plainRun<I extends { cluster: string }>(runbook: RunbookName, input: I): Run<I> {
  const progress = new Progress(runbook, input.cluster, runSummary(runbook, input));
  const notifier = new RunNotifier(runbook, input.cluster);
  return {
    progress,
    notifier,
    async resolve(issues = noIssues) {
      progress.stage('resolve cluster');
      const run = await resolveRun(runbook, input, issues);
      progress.resolved(run.resolution);
      return run;
    },
  };
}

/**
 * The start of every runbook with approval gates: as {@link plainRun}, plus gates whose
 * open/pending/decided state shows in `status` and whose opening notifies the chat. When the run
 * resolves, the gates get the cluster's policy from the inventory (with the input's
 * `approvalTimeout`, already checked against the policy's bounds) and the start request is checked:
 * a signed `request` authenticates `requestedBy`; an unsigned start leaves them unauthenticated, so
 * with self-approval off every gate needs one more distinct approver (TRUST.md rule 7).
 */
export function gatedRun<
  I extends {
    cluster: string;
    requestedBy: string;
    approvalTimeout?: string;
    request?: StartRequest;
    preview?: boolean;
  },
>(
  runbook: RunbookName,
  input: I,
  raw: unknown,
  extra: () => Record<string, unknown> = () => ({}),
): Run<I> & {
  gates: ApprovalGates;
  /** A dry run (`preview: true`) ends here: the plan `gate` would show, and its hash. */
  preview(gate: string, steps: PlanStep[], resolved: RunCluster): PreviewResult;
} {
  const run = plainRun(runbook, input);
  const { progress, notifier } = run;
  let policy: ApprovalPolicy | undefined;
  const gates = new ApprovalGates(input.requestedBy, {
    onOpen: (g, summary, plan, reopenedBecause) => {
      progress.stage(`waiting for approval: ${g}`);
      if (policy)
        notifier.gateOpened(
          g,
          summary,
          input.requestedBy,
          policy,
          gates.neededApprovals(),
          plan,
          reopenedBecause,
        );
    },
  });
  progress.attach(() => ({
    requestedBy: input.requestedBy,
    requester: gates.requester(),
    pendingGates: gates.pending(),
    decisions: gates.decisions(),
    refusedDecisions: gates.refused(),
    // Who may decide, and the fingerprints of their keys: the CLI finds its signer's identity here.
    approvers: policy
      ? Object.fromEntries(
          policy.approvers.map((a) => [a, (policy?.keys[a] ?? []).map(fingerprintOfLine).filter(Boolean)]),
        )
      : {},
    ...extra(),
  }));
  return {
    ...run,
    gates,
    preview(gate, steps, resolved) {
      const planHash = planHashOf(gate, resolved.resolution.specHash, steps);
      progress.stage(`done: preview of gate ${gate}, plan ${planHash.slice(0, 12)}…`);
      return {
        preview: true,
        cluster: resolved.cluster.name,
        runbook,
        gate,
        planHash,
        plan: steps,
        inventory: inventoryOf(resolved.resolution),
      };
    },
    async resolve(issues) {
      const resolved = await run.resolve(issues);
      if (!resolved.policy)
        throw ApplicationFailure.create({
          type: INVENTORY_INCOMPLETE,
          nonRetryable: true,
          message: `cluster ${input.cluster} has no approval policy in the inventory: ${runbook} has gates`,
        });
      policy = gatePolicy(resolved.policy, input.approvalTimeout);
      // Before the start request counts as the schedule's: the schedule must say it started this run.
      const schedule = await scheduledStart();
      const authenticated = checkStartRequest(runbook, input, raw, policy, schedule);
      gates.usePolicy(policy, {
        specHash: resolved.resolution.specHash,
        cluster: resolved.cluster.name,
        runbook,
        requesterAuthenticated: authenticated,
      });
      const eligible = policy.approvers.filter(
        (a) => policy?.allowSelfApproval || normalIdentity(a) !== normalIdentity(input.requestedBy),
      ).length;
      if (gates.neededApprovals() > eligible)
        throw ApplicationFailure.create({
          type: APPROVAL_IMPOSSIBLE,
          nonRetryable: true,
          message:
            `the gates of this run need ${gates.neededApprovals()} distinct approvers and cluster ${input.cluster}'s policy has ${eligible} besides the requester` +
            (authenticated
              ? ''
              : ': the run was started unsigned, which needs one more; start it with waba-runbooks start (it signs the request)'),
        });
      return resolved;
    },
  };
}

/**
 * True when the input's `request` proves `requestedBy` asked for this input (for this run, or for
 * the confirmed `schedule` that started it); false without one. A request whose signature does not
 * hold fails the run: someone tried to start it in another's name.
 */
function checkStartRequest(
  runbook: RunbookName,
  input: { requestedBy: string; request?: StartRequest },
  raw: unknown,
  policy: ApprovalPolicy,
  schedule: ScheduledStart | undefined,
): boolean {
  if (!input.request) return false;
  const { request: _request, ...signed } = raw as Record<string, unknown>;
  const checked = checkStart(input.request, {
    requestedBy: input.requestedBy,
    runbook,
    inputHash: sha256Hex(canonicalJson(signed)),
    target: schedule ? `schedule:${schedule.scheduleId}` : workflowInfo().workflowId,
    now: Date.now(),
    ...(schedule?.createdAt ? { scheduleCreatedAt: Date.parse(schedule.createdAt) } : {}),
    keys: policyKeys(policy),
  });
  if (checked.ok) return true;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${runbook} input: request: the start request's signature does not hold (${checked.why})`,
  });
}
