import { ApplicationFailure } from '@temporalio/workflow';
import type { ApprovalPolicy } from '../../src/spec/approvals';
import type { InputIssue } from '../../src/spec/inputs/common';
import { gatePolicy } from '../../src/spec/policy';
import type { RunbookName } from '../../src/spec/runbooks';
import { runSummary } from '../../src/spec/summary';
import { ApprovalGates } from './approval';
import { RunNotifier } from './notify';
import { Progress } from './progress';
import { type RunCluster, resolveRun } from './resolve';

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
 * open/pending/decided state shows in `status` and whose opening notifies the chat. The gates get
 * the cluster's policy from the inventory when the run resolves (with the input's
 * `approvalTimeout`, already checked against the policy's bounds).
 */
export function gatedRun<I extends { cluster: string; requestedBy: string; approvalTimeout?: string }>(
  runbook: RunbookName,
  input: I,
  extra: () => Record<string, unknown> = () => ({}),
): Run<I> & { gates: ApprovalGates } {
  const run = plainRun(runbook, input);
  const { progress, notifier } = run;
  let policy: ApprovalPolicy | undefined;
  const gates = new ApprovalGates(input.requestedBy, {
    onOpen: (g, summary) => {
      progress.stage(`waiting for approval: ${g}`);
      if (policy) notifier.gateOpened(g, summary, input.requestedBy, policy);
    },
  });
  progress.attach(() => ({
    requestedBy: input.requestedBy,
    pendingGates: gates.pending(),
    decisions: gates.decisions(),
    refusedDecisions: gates.refused(),
    ...extra(),
  }));
  return {
    ...run,
    gates,
    async resolve(issues) {
      const resolved = await run.resolve(issues);
      if (!resolved.policy)
        throw ApplicationFailure.create({
          type: 'InventoryIncomplete',
          nonRetryable: true,
          message: `cluster ${input.cluster} has no approval policy in the inventory: ${runbook} has gates`,
        });
      policy = gatePolicy(resolved.policy, input.approvalTimeout);
      gates.usePolicy(policy);
      return resolved;
    },
  };
}
