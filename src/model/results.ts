import type { HealthSummary } from './health';
import type { PrerequisiteProbe, PrerequisiteReport } from './prerequisites';

/** Where a run's cluster was resolved and the hashes of its spec and policy (every result has it). */
export interface InventoryStamp {
  source: string;
  specHash: string;
  policyHash?: string;
}

export interface HealthCheckResult extends HealthSummary {
  cluster: string;
  checkedAt: string;
  inventory: InventoryStamp;
}

/** preflightCheck: every prerequisite finding, and what each host's probes read. */
export interface PreflightCheckResult extends PrerequisiteReport {
  cluster: string;
  checkedAt: string;
  inventory: InventoryStamp;
  /** No failure: haSetup, multiconnectExpand and upgrade would pass their prerequisites stage. */
  ok: boolean;
  probes: PrerequisiteProbe[];
}

/**
 * What a dry run (`preview: true`) returns: the plan the runbook's first gate would show, and the
 * hash approvers sign (`waba-runbooks sign preapprove`). Nothing was changed.
 */
export interface PreviewResult {
  preview: true;
  cluster: string;
  runbook: string;
  gate: string;
  planHash: string;
  plan: { stage: string; host?: string; command?: string; api?: string; note?: string }[];
  inventory: InventoryStamp;
}
