// What an haDrill run keeps while it runs: the target, the timeline of health readings, the
// takeover measured, and the container it stopped, which a failure must start again.
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { OperableCluster } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import { type DrillSnapshot, type DrillTarget, snapshotOf } from '../../src/model/drill';
import { DRILL_RESTORE_FAILED } from '../../src/model/errors';
import type { HealthSummary } from '../../src/model/health';
import type { HaDrillInput } from '../../src/model/inputs';
import type { TopologyReport } from '../../src/model/topology';
import type { PlanStep } from '../api';
import { failureText } from '../lib/failure-text';
import { hostActs } from '../lib/hosts';
import { resolveStep } from '../lib/plan';
import type { Progress } from '../lib/progress';
import type { RunCluster } from '../lib/resolve';
import { topologySteps } from '../lib/topology';
import { drillPlan, SERVICE } from './plan';

export class DrillRun {
  /** Every health reading that said something new, from the precheck to the final health. */
  readonly timeline: DrillSnapshot[] = [];
  target: DrillTarget | undefined;
  variant: ComposeVariant = 'v1';
  takeoverMs: number | null = null;
  stopIssuedAt: number | null = null;
  resolved: RunCluster | undefined;
  /** The topology lint, shown in the plan (runs since TOPOLOGY_LINT_PATCH). */
  topology: TopologyReport | undefined;
  /** The target while its wacore is stopped: what a failure starts again. */
  private stopped: DrillTarget | undefined;
  private stage = 'validate';

  constructor(
    private readonly input: HaDrillInput,
    private readonly progress: Progress,
  ) {}

  /** The drill's parts of `status`. */
  status(): Record<string, unknown> {
    return {
      target: this.target?.host ?? this.input.target,
      takeoverSlo: this.input.takeoverSlo,
      takeoverMs: this.takeoverMs,
      timeline: this.timeline,
    };
  }

  /** The `plan` query's answer: the target's commands once it is known. */
  plan(): PlanStep[] {
    const { resolved } = this;
    return resolved
      ? [
          resolveStep(this.input.cluster, resolved.resolution),
          ...topologySteps(this.topology),
          ...drillPlan(this.input, resolved.cluster as OperableCluster, this.target?.host, this.variant),
        ]
      : [resolveStep(this.input.cluster)];
  }

  enter(name: string): void {
    this.stage = name;
    this.progress.stage(name);
  }

  /** A health reading, at the time it was read (workflow time in runs before the waits moved into activities). */
  readonly record = (s: HealthSummary, at: number): void => {
    const snap = snapshotOf(s, this.stage, at, this.stopIssuedAt, this.timeline[this.timeline.length - 1]);
    if (snap) this.timeline.push(snap);
  };

  /** Stop the target's wacore; not interrupted half-way (a cancellation arrives at the next wait). */
  async stop(t: DrillTarget): Promise<void> {
    this.stopIssuedAt = Date.now();
    this.stopped = t;
    this.progress.host(t.host, `stopping ${SERVICE}`);
    await CancellationScope.nonCancellable(() => hostActs.composeStop(this.compose(t.host)));
  }

  async startAgain(t: DrillTarget): Promise<void> {
    this.progress.host(t.host, `starting ${SERVICE} again`);
    await hostActs.composeUp(this.compose(t.host));
    this.stopped = undefined;
    this.progress.host(t.host, `${SERVICE} started again`);
  }

  /**
   * The failure the run ends with: `err`, after starting the stopped container again (even when
   * the run is being cancelled) when one is stopped, and saying so.
   */
  async failure(err: unknown): Promise<unknown> {
    const t = this.stopped;
    if (!t) return err;
    this.enter(`restore: start ${SERVICE} on ${t.host}`);
    try {
      await CancellationScope.nonCancellable(() => this.startAgain(t));
    } catch (restoreErr) {
      return ApplicationFailure.create({
        type: DRILL_RESTORE_FAILED,
        nonRetryable: true,
        message: `${failureText(err)}; starting ${SERVICE} on ${t.host} again failed too, start it by hand: ${failureText(restoreErr)}`,
      });
    }
    if (isCancellation(err)) return err;
    return ApplicationFailure.create({
      type: err instanceof ApplicationFailure && err.type ? err.type : 'DrillFailed',
      nonRetryable: true,
      message: `${failureText(err)}; ${SERVICE} on ${t.host} was started again`,
    });
  }

  private compose(host: string) {
    const r = this.resolved as RunCluster;
    return {
      cluster: r.ref,
      host,
      service: SERVICE,
      version: r.cluster.version as string,
      variant: this.variant,
    };
  }
}
