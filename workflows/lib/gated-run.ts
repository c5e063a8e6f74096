import type { ApprovalPolicy } from '../../src/spec/approvals';
import { ApprovalGates } from './approval';
import { Progress } from './progress';

/**
 * The start of every runbook with approval gates: progress (status query, search attributes,
 * current details) and gates whose open/pending/decided state shows in `status`.
 */
export function gatedRun(
  runbook: string,
  cluster: string,
  input: { approvals: ApprovalPolicy; requestedBy: string },
  extra: () => Record<string, unknown> = () => ({}),
): { progress: Progress; gates: ApprovalGates } {
  const progress = new Progress(runbook, cluster);
  const gates = new ApprovalGates(input.approvals, input.requestedBy, {
    onOpen: (g) => progress.stage(`waiting for approval: ${g}`),
  });
  progress.attach(() => ({
    requestedBy: input.requestedBy,
    pendingGates: gates.pending(),
    decisions: gates.decisions(),
    refusedDecisions: gates.refused(),
    ...extra(),
  }));
  return { progress, gates };
}
