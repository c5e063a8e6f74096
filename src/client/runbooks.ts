// Typed helpers to start runbooks and act on runs: used by the CLI, the ChatOps endpoint and tests.
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { z } from 'zod';
import { planQuery, statusQuery, WabaCluster, WabaRunbook } from '../../workflows/api';
import { MOVED_TO_INVENTORY, RUNBOOK_INPUTS } from '../model/inputs';
import { isDisruptive, isGated } from '../model/runbooks';
import { runSummary } from '../model/summary';
import { type Checked, check, quote } from '../model/validate';
import type { Signer } from '../signing/signer';
import { signStart } from './decide';
import { InputError } from './errors';

/** Every runbook a person can start: its input schema and whether it disrupts the cluster. */
export const RUNBOOKS: Record<string, { schema: z.ZodType; disruptive: boolean }> = Object.fromEntries(
  Object.entries(RUNBOOK_INPUTS).map(([name, { schema }]) => [
    name,
    { schema, disruptive: isDisruptive(name) },
  ]),
);

/** An input against its runbook's schema, as the workflow checks it first (the cluster is checked by the worker). */
export const checkInput = (runbook: string, input: unknown): Checked<unknown> =>
  check(runbookSpec(runbook).schema, input, MOVED_TO_INVENTORY);

/** A runbook by its name (own keys only: `constructor` is not a runbook), or an error that quotes it safely. */
export function runbookSpec(runbook: string): (typeof RUNBOOKS)[string] & object {
  const spec = Object.hasOwn(RUNBOOKS, runbook) ? RUNBOOKS[runbook] : undefined;
  if (!spec)
    throw new InputError(`unknown runbook ${quote(runbook)}; one of: ${Object.keys(RUNBOOKS).join(', ')}`);
  return spec;
}

export { InputError } from './errors';

/** Disruptive runbooks: one per cluster (`<cluster>/<runbook>`); read-only ones get a timestamp. */
export function workflowIdFor(runbook: string, cluster: string, now = new Date()): string {
  const disruptive = RUNBOOKS[runbook]?.disruptive ?? true;
  return disruptive
    ? `${cluster}/${runbook}`
    : `${cluster}/${runbook}/${now.toISOString().replace(/[:.]/g, '-')}`;
}

export interface Started {
  workflowId: string;
  runId: string;
}

/** Validate locally (the same schema the workflow applies), then start with search attributes set. */
export async function startRunbook(
  client: Client,
  taskQueue: string,
  runbook: string,
  input: unknown,
  workflowId?: string,
  /** Signs the start as `requestedBy` (gated runbooks): the requester is then authenticated. */
  signer?: Signer,
): Promise<Started> {
  const spec = RUNBOOKS[runbook];
  const checked = checkInput(runbook, input);
  if (!spec || !checked.ok)
    throw new InputError(`invalid ${runbook} input:\n  ${checked.ok ? '' : checked.problems.join('\n  ')}`);
  const cluster = (checked.value as { cluster: string }).cluster;
  const id = workflowId ?? workflowIdFor(runbook, cluster);
  if (spec.disruptive) {
    // A fast, friendly refusal only: the cluster's lock (workflows/cluster-lock.ts) is what decides.
    // A run started by a schedule carries a time suffix in its id: find it by its search attributes.
    const query = `WabaCluster = '${cluster}' AND WabaRunbook = '${runbook}' AND ExecutionStatus = 'Running'`;
    for await (const open of client.workflow.list({ query })) {
      throw new InputError(
        `a ${runbook} run is already in progress on cluster ${cluster} (workflow ${open.workflowId}); wait for it to finish or cancel it before starting another`,
      );
    }
  }
  const args =
    signer && isGated(runbook)
      ? await signStart(input as Record<string, unknown>, runbook, id, signer)
      : input;
  try {
    const handle = await client.workflow.start(runbook, {
      taskQueue,
      workflowId: id,
      args: [args],
      // A second concurrent run of a disruptive runbook on the same cluster is refused.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: WabaCluster, value: cluster },
        { key: WabaRunbook, value: runbook },
      ],
      staticSummary: runSummary(runbook, checked.value),
    });
    return { workflowId: id, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new InputError(
        `a ${runbook} run is already in progress on cluster ${cluster} (workflow ${id}); wait for it to finish or cancel it before starting another`,
      );
    }
    throw err;
  }
}

export const status = (client: Client, id: string) => client.workflow.getHandle(id).query(statusQuery);
export const plan = (client: Client, id: string) => client.workflow.getHandle(id).query(planQuery);
