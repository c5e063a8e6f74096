/**
 * The runbooks by name, which of them change a cluster, which have approval gates, and what is known
 * about a run from its raw input before (or without) validation. Workflow-safe: pure.
 */

export const RUNBOOK_NAMES = [
  'healthCheck',
  'haSetup',
  'multiconnectExpand',
  'upgrade',
  'dbUpgrade',
  'mediaChown',
  'uninstall',
  'collectLogs',
  'haDrill',
  'settingsRestore',
  'preflightCheck',
] as const;
export type RunbookName = (typeof RUNBOOK_NAMES)[number];

/** Runbooks that change a cluster: at most one of them runs on a cluster at a time. */
export const DISRUPTIVE_RUNBOOKS = [
  'haSetup',
  'multiconnectExpand',
  'upgrade',
  'dbUpgrade',
  'mediaChown',
  'uninstall',
  'haDrill',
  'settingsRestore',
] as const;

/** Runbooks with approval gates: the cluster's inventory entry must carry an approval policy. */
export const GATED_RUNBOOKS = [
  'haSetup',
  'multiconnectExpand',
  'upgrade',
  'uninstall',
  'haDrill',
  'settingsRestore',
] as const;

export const isRunbook = (name: string): name is RunbookName =>
  (RUNBOOK_NAMES as readonly string[]).includes(name);

export const isDisruptive = (runbook: string): boolean =>
  (DISRUPTIVE_RUNBOOKS as readonly string[]).includes(runbook);

export const isGated = (runbook: string): boolean => (GATED_RUNBOOKS as readonly string[]).includes(runbook);

/**
 * The cluster name of a raw input (`{ "cluster": "prod", ... }`) when it is a valid name, for log
 * lines, metric tags and summaries before (or without) validation; anything else: undefined.
 */
export function clusterNameOf(input: unknown): string | undefined {
  const name = (input as { cluster?: unknown } | null | undefined)?.cluster;
  return typeof name === 'string' && /^[a-z0-9][a-z0-9._-]{0,62}$/.test(name) ? name : undefined;
}

/** The workflow id of a dry run (`waba-runbooks plan <runbook> --input ...`): `<cluster>/<runbook>/preview-<time>`. */
export const previewIdFor = (cluster: string, runbook: string, now = new Date()): string =>
  `${cluster}/${runbook}/preview-${now.toISOString().replace(/[:.]/g, '-')}`;
