// The topology lint (src/model/topology.ts) in a run: its warnings in `status` and, in runs started
// since TOPOLOGY_LINT_PATCH, as steps of the plan a gate shows.
import { patched } from '@temporalio/workflow';
import { type TopologyReport, toleranceText } from '../../src/model/topology';
import type { PlanStep } from '../api';
import type { Progress } from './progress';

/**
 * Runs started before the lint showed no topology steps in their gated plans (a decision signs the
 * plan's text) and multiconnectExpand did not refuse a shard count without a standby: they keep
 * doing so on replay.
 */
export const TOPOLOGY_LINT_PATCH = 'topology-lint';

/** Does this run show the lint in its plan and act on it? Only from workflow code: it asks `patched()`. */
export const topologyLintPatched = (): boolean => patched(TOPOLOGY_LINT_PATCH);

/** The lint's warnings in `status` (a query: no command, whatever the run's age). */
export function showTopology(progress: Progress, report: TopologyReport): void {
  progress.warn(report.warnings);
}

/** The plan's topology steps: the failures each role survives, then one step per warning. */
export const topologySteps = (report: TopologyReport | undefined): PlanStep[] =>
  report
    ? [
        { stage: 'topology', note: toleranceText(report) },
        ...report.warnings.map((note) => ({ stage: 'topology warning', note })),
      ]
    : [];
