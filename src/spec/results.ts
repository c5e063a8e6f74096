import type { HealthSummary } from './health';

export interface HealthCheckResult extends HealthSummary {
  cluster: string;
  checkedAt: string;
}
