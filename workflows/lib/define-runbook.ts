// The skeleton every runbook shares: validate the input, show progress, open gates, notify the chat,
// report a failure, release the cluster's lock. A runbook file is then only its numbered steps.
import { ContinueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { InputIssue, Resolved } from '../../src/model/inputs/common';
import type { PreviewResult } from '../../src/model/results';
import type { RunbookName } from '../../src/model/runbooks';
import { type PlanStep, planQuery } from '../api';
import type { ApprovalGates } from './approval';
import { type ClusterLockOptions, holdClusterLock, releaseClusterLock } from './cluster-lock';
import { gatedRun, plainRun } from './gated-run';
import type { RunNotifier } from './notify';
import { resolveStep } from './plan';
import type { Progress } from './progress';
import type { RunCluster } from './resolve';
import { invalidInput } from './resolve';
import { validateInput } from './validate';

/** What a runbook declares besides its steps. */
export interface RunbookOptions<S extends z.ZodType> {
  /** The input's schema: checked before anything else (InvalidInput, naming every bad field). */
  schema: S;
  /** Problems of a valid input against the cluster it names, checked by `resolve()`. */
  issues?: (input: z.output<S>, resolved: Resolved) => InputIssue[];
  /** Further checks of a valid input, before anything shows or notifies (throw InvalidInput). */
  check?: (input: z.output<S>, runbook: RunbookName) => void;
  /**
   * The problem with the arguments after the input, or undefined: a runbook that continues as new
   * with more arguments checks them here. By default a start may carry the input alone.
   */
  extraArgs?: (args: unknown[]) => string | undefined;
}

const inputAlone = (args: unknown[]) =>
  args.length === 0 ? undefined : `only one argument, the input, is accepted (${args.length} more given)`;

/** What the steps of a runbook get: the run's progress, notifier, plan, lock and cluster. */
export interface RunbookRun {
  /** The runbook's name: the workflow's type (e.g. `upgrade`). */
  name: RunbookName;
  progress: Progress;
  notifier: RunNotifier;
  /** The run's cluster from the worker's inventory, the input checked against it. */
  resolve(): Promise<RunCluster>;
  /** What the `plan` query answers from now on (until then: the cluster still to be resolved). */
  showPlan(steps: PlanStep[] | (() => PlanStep[])): void;
  /** Runbook-specific parts of every `status` answer (found, decisions, timings). */
  showInStatus(extra: () => Record<string, unknown>): void;
  /** Take the cluster's lock before the first step that touches it (released when the run ends). */
  holdClusterLock(cluster: string): Promise<void>;
  /** Notify the success (one short line) and hand `result` back. */
  succeeded<T>(result: T, summary: string): Promise<T>;
}

/** A runbook with approval gates: as {@link RunbookRun}, plus the gates and the dry run. */
export interface GatedRunbookRun extends RunbookRun {
  gates: ApprovalGates;
  /** A dry run (`preview: true`) ends here: the plan `gate` would show, and its hash. */
  preview(gate: string, steps: PlanStep[], resolved: RunCluster): PreviewResult;
}

type Steps<Run, I, A extends unknown[], R> = (run: Run, input: I, ...args: A) => Promise<R>;
type Workflow<A extends unknown[], R> = (raw: unknown, ...args: A) => Promise<R>;

/** The fields gatedRun reads from the input of a gated runbook. */
type GatedFields = { cluster: string; requestedBy: string };

/**
 * A runbook's workflow function: `steps` run between the skeleton's start (the input validated,
 * `status`, `plan`, search attributes and notifier set up) and its end (a failure shown in `status`
 * and notified, the cluster's lock released). `gated: true` adds approval gates.
 */
export function defineRunbook<S extends z.ZodType, R, A extends unknown[] = []>(
  options: RunbookOptions<S> & { gated: true },
  steps: Steps<GatedRunbookRun, z.output<S>, A, R>,
): Workflow<A, R>;
export function defineRunbook<S extends z.ZodType, R, A extends unknown[] = []>(
  options: RunbookOptions<S> & { gated?: false },
  steps: Steps<RunbookRun, z.output<S>, A, R>,
): Workflow<A, R>;
export function defineRunbook<S extends z.ZodType, R, A extends unknown[]>(
  options: RunbookOptions<S> & { gated?: boolean },
  steps: Steps<GatedRunbookRun, z.output<S>, A, R>,
): Workflow<A, R> {
  return async (raw, ...args) => {
    // Step 0: the input, before anything shows (a run with a bad input notifies nobody).
    const name = workflowInfo().workflowType as RunbookName;
    const input = validateInput(name, options.schema, raw) as z.output<S> & GatedFields;
    const argsProblem = (options.extraArgs ?? inputAlone)(args);
    if (argsProblem) throw invalidInput(name, [{ path: ['arguments'], message: argsProblem }]);
    options.check?.(input, name);
    let extra: () => Record<string, unknown> = () => ({});
    const base = options.gated ? gatedRun(name, input, raw, () => extra()) : plainRun(name, input);
    const { progress, notifier } = base;
    let plan: () => PlanStep[] = () => [resolveStep(input.cluster)];
    setHandler(planQuery, () => plan());
    const run = {
      ...(base as unknown as ReturnType<typeof gatedRun>),
      name,
      resolve: () => base.resolve(options.issues),
      showPlan(steps: PlanStep[] | (() => PlanStep[])) {
        plan = typeof steps === 'function' ? steps : () => steps;
      },
      showInStatus(fn: () => Record<string, unknown>) {
        if (options.gated) extra = fn;
        else progress.attach(fn);
      },
      holdClusterLock: (cluster: string) =>
        holdClusterLock(progress, name, cluster, input as ClusterLockOptions, notifier),
      succeeded: <T>(result: T, summary: string) => notifier.succeeded(result, summary),
    } satisfies GatedRunbookRun;
    try {
      return await steps(run, input, ...args);
    } catch (err) {
      // A continue-as-new is not a failure: the next run carries on.
      if (!(err instanceof ContinueAsNew)) {
        progress.failed(err);
        await notifier.failed(err);
      }
      throw err;
    } finally {
      await releaseClusterLock();
    }
  };
}
