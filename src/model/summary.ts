import { clusterNameOf } from './runbooks';

/**
 * One line that says what a run is about: runbook, cluster and target (version or host), e.g.
 * `upgrade prod -> v2.29.3`. The Web UI shows it as the run's summary and its details' headline.
 * Workflow-safe: pure; reads the raw input defensively (it may not be valid).
 */
export function runSummary(runbook: string, input: unknown): string {
  const i = (input ?? {}) as { toVersion?: unknown; target?: unknown };
  const cluster = clusterNameOf(input) ?? '?';
  const word = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9._-]{1,40}$/.test(v) ? v : undefined);
  const version = word(i.toVersion);
  const target = word(i.target);
  return `${runbook} ${cluster}${version ? ` -> v${version}` : target ? ` target ${target}` : ''}`;
}
