import { clusterNameOf } from './runbooks';

/**
 * One line that says what a run is about: runbook, cluster and target (version or host), e.g.
 * `upgrade prod -> v2.29.3`. The Web UI shows it as the run's summary and its details' headline.
 * Workflow-safe: pure.
 */
export function runSummary(runbook: string, input: unknown): string {
  const i = (input ?? {}) as {
    cluster?: { version?: unknown };
    toVersion?: unknown;
    target?: unknown;
  };
  const cluster = clusterNameOf(input) ?? '?';
  const target =
    typeof i.toVersion === 'string'
      ? ` -> v${i.toVersion}`
      : typeof i.target === 'string'
        ? ` target ${i.target}`
        : typeof i.cluster?.version === 'string'
          ? ` (v${i.cluster.version})`
          : '';
  return `${runbook} ${cluster}${target}`;
}
