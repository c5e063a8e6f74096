/**
 * What is known about a run from its raw input, before (or without) validation, and which
 * runbooks change a cluster. Workflow-safe: pure.
 */

/** Runbooks that change a cluster: at most one of them runs on a cluster at a time. */
export const DISRUPTIVE_RUNBOOKS = [
  'haSetup',
  'multiconnectExpand',
  'upgrade',
  'dbUpgrade',
  'mediaChown',
  'uninstall',
  'haDrill',
] as const;

export const isDisruptive = (runbook: string): boolean =>
  (DISRUPTIVE_RUNBOOKS as readonly string[]).includes(runbook);

/** The cluster name of an input of the usual `{ cluster: { name } }` shape (clipped), if any. */
export function clusterNameOf(input: unknown): string | undefined {
  const name = (input as { cluster?: { name?: unknown } } | null | undefined)?.cluster?.name;
  return typeof name === 'string' ? name.slice(0, 64) : undefined;
}
