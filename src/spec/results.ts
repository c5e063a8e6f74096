import type { HealthSummary } from './health';

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
