import type { ApprovalPolicy } from '../../src/spec/approvals';
import { runSummary } from '../../src/spec/summary';
import { ApprovalGates } from './approval';
import { RunNotifier } from './notify';
import { Progress } from './progress';

/**
 * The start of every runbook with approval gates: progress (status query, search attributes,
 * current details), gates whose open/pending/decided state shows in `status`, and chat
 * notifications (a gate opening notifies; the runbook notifies its end through `notifier`).
 */
export function gatedRun(
  runbook: string,
  cluster: string,
  input: { approvals: ApprovalPolicy; requestedBy: string },
  extra: () => Record<string, unknown> = () => ({}),
): { progress: Progress; gates: ApprovalGates; notifier: RunNotifier } {
  const progress = new Progress(runbook, cluster, runSummary(runbook, input));
  const notifier = new RunNotifier(runbook, cluster);
  const gates = new ApprovalGates(input.approvals, input.requestedBy, {
    onOpen: (g, summary) => {
      progress.stage(`waiting for approval: ${g}`);
      notifier.gateOpened(g, summary, input.requestedBy, input.approvals);
    },
  });
  progress.attach(() => ({
    requestedBy: input.requestedBy,
    pendingGates: gates.pending(),
    decisions: gates.decisions(),
    refusedDecisions: gates.refused(),
    ...extra(),
  }));
  return { progress, gates, notifier };
}
