// Issue 7: a failover drill. Stop the connected Coreapp's wacore, measure how long until a standby
// connects in its place, start it again, wait until it is back as a standby. Whatever goes wrong
// after the stop (cancellation included), the stopped container is started again before the run ends.
import { ApplicationFailure, CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import type { Decision } from '../src/model/approvals';
import type { OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { composeCommand, hostComposeCall } from '../src/model/commands';
import { chooseTarget, coreapps, type DrillSnapshot, type DrillTarget, snapshotOf } from '../src/model/drill';
import { durationMs } from '../src/model/duration';
import {
  DRILL_FAILED,
  DRILL_RESTORE_FAILED,
  HEALTH_GATE_FAILED,
  PRECHECK_FAILED,
  TAKEOVER_TIMED_OUT,
} from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { HaDrillInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { type PlanStep, planQuery } from './api';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { failureText } from './lib/failure-text';
import { gatedRun } from './lib/gated-run';
import { healthGate, waitForHealth } from './lib/health-gate';
import { hostActs, preflightHosts } from './lib/hosts';
import { resolveStep } from './lib/plan';
import { validateInput } from './lib/validate';

/** Health is read this often while the takeover is measured: the measurement's resolution. */
const POLL = '1s';
const SERVICE = 'wacore';

export interface HaDrillResult {
  cluster: string;
  inventory: InventoryStamp;
  /** The Coreapp host whose wacore was stopped, its name in /v1/health and its container. */
  target: { host: string; healthName: string; container: string };
  /** Health names of the Coreapps that connected in its place. */
  takenOverBy: string[];
  /** From the stop being issued to the first health answer with a standby connected. */
  takeoverMs: number;
  takeoverSlo: string;
  sloMet: boolean;
  stopIssuedAt: string;
  stoppedAt: string;
  takeoverAt: string;
  rejoinedAt: string;
  /** Every health reading that said something new, from the precheck to the final health. */
  timeline: DrillSnapshot[];
  decisions: Decision[];
  health: HealthSummary;
}

export async function haDrill(raw: unknown): Promise<HaDrillResult | PreviewResult> {
  const input = validateInput('haDrill', HaDrillInput, raw);
  const { takeoverSlo, timeouts } = input;
  const timeline: DrillSnapshot[] = [];
  let target: DrillTarget | undefined;
  let variant: ComposeVariant = 'v1';
  let takeoverMs: number | null = null;
  let stopIssuedAt: number | null = null;
  let stage = 'validate';

  let resolved: Awaited<ReturnType<typeof resolve>> | undefined;
  const { progress, gates, notifier, resolve, preview } = gatedRun('haDrill', input, raw, () => ({
    target: target?.host ?? input.target,
    takeoverSlo,
    takeoverMs,
    timeline,
  }));
  const enter = (name: string) => {
    stage = name;
    progress.stage(name);
  };
  /** A health reading, at the time it was read (workflow time in runs before the waits moved into activities). */
  const record = (s: HealthSummary, at: number) => {
    const snap = snapshotOf(s, stage, at, stopIssuedAt, timeline[timeline.length - 1]);
    if (snap) timeline.push(snap);
  };
  setHandler(planQuery, () =>
    resolved
      ? [
          resolveStep(input.cluster, resolved.resolution),
          ...drillPlan(input, resolved.cluster as OperableCluster, target?.host, variant),
        ]
      : [resolveStep(input.cluster)],
  );

  const compose = (host: string) => {
    const r = resolved as NonNullable<typeof resolved>;
    return { cluster: r.ref, host, service: SERVICE, version: r.cluster.version as string, variant };
  };
  let stopped: DrillTarget | undefined;
  const startAgain = async (t: DrillTarget) => {
    progress.host(t.host, `starting ${SERVICE} again`);
    await hostActs.composeUp(compose(t.host));
    stopped = undefined;
    progress.host(t.host, `${SERVICE} started again`);
  };

  try {
    resolved = await resolve(RUNBOOK_INPUTS.haDrill.issues);
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const version = cluster.version;
    const apiReq = { cluster: ref };
    await holdClusterLock(progress, 'haDrill', cluster.name, input);
    enter('health precheck');
    const before = await waitForHealth(apiReq, 'an answer', {}, '1m', record);
    const choice = chooseTarget(cluster.hosts, before, input.target);
    if (!choice.ok) {
      throw ApplicationFailure.create({
        type: PRECHECK_FAILED,
        nonRetryable: true,
        message: `cluster ${cluster.name} is not ready for a failover drill: ${choice.why}`,
      });
    }
    const t = choice.target;
    target = t;
    const connectedBefore = before.connectedCoreapps;
    const standbys = coreapps(before).standby.filter((n) => n !== t.healthName);
    progress.host(t.host, `connected (${t.healthName})`);

    enter('preflight');
    const targetHost = cluster.hosts.filter((h) => h.name === t.host);
    variant = (await preflightHosts(ref, cluster, targetHost))[0]?.compose.variant ?? 'v1';
    const ps = await hostActs.composePs({ cluster: ref, host: t.host, version, variant, service: SERVICE });
    const container = ps.find((c) => c.running)?.id;
    if (!container) {
      throw ApplicationFailure.create({
        type: PRECHECK_FAILED,
        nonRetryable: true,
        message: `cluster ${cluster.name} is not ready for a failover drill: no running ${SERVICE} container on ${t.host}`,
      });
    }

    const drillSteps = [
      resolveStep(input.cluster, resolved.resolution),
      ...drillPlan(input, cluster, t.host, variant),
    ];
    if (input.preview) return preview('drill', drillSteps, resolved);
    await gates.require(
      'drill',
      `failover drill on cluster ${cluster.name}: stop ${SERVICE} on ${t.host} (${t.healthName}, container ${container}, connected now); ` +
        `standby ${standbys.join(', ')} should take over within ${takeoverSlo} (the drill gives up after ${timeouts.takeover}); ` +
        `then start ${SERVICE} on ${t.host} again and wait until it is back as a standby`,
      drillSteps,
    );

    enter(`stop ${SERVICE} on ${t.host}`);
    stopIssuedAt = Date.now();
    stopped = t;
    progress.host(t.host, `stopping ${SERVICE}`);
    // Not interrupted half-way: a cancellation arrives at the next wait, and the restore follows it.
    await CancellationScope.nonCancellable(() => hostActs.composeStop(compose(t.host)));
    const stoppedAt = Date.now();
    progress.host(t.host, `${SERVICE} stopped`);

    enter('waiting for takeover');
    const takeover = await healthGate(
      apiReq,
      `a standby connected in place of ${t.host}`,
      { tookOver: { target: t.healthName, connectedBefore } },
      timeouts.takeover,
      record,
      POLL,
    ).catch((err: unknown) => {
      if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
      throw ApplicationFailure.create({
        type: TAKEOVER_TIMED_OUT,
        nonRetryable: true,
        message: `no standby took over within ${timeouts.takeover} of stopping ${SERVICE} on ${t.host}: ${err.message}`,
      });
    });
    const after = takeover.summary;
    // When the reading that showed the takeover was taken (not when the run got to hear of it); never
    // before the stop completed, whatever the worker's clock says.
    const takeoverAt = Math.max(takeover.metAt, stoppedAt);
    takeoverMs = takeoverAt - stopIssuedAt;
    const sloMet = takeoverMs <= durationMs(takeoverSlo);
    const takenOverBy = coreapps(after).connected.filter((n) => !coreapps(before).connected.includes(n));
    progress.host(t.host, `${SERVICE} stopped; taken over by ${takenOverBy.join(', ')} in ${takeoverMs} ms`);

    enter(`start ${SERVICE} on ${t.host}`);
    await startAgain(t);

    enter(`waiting for ${t.host} to rejoin as standby`);
    const rejoin = await healthGate(
      apiReq,
      `${t.host} back as a standby`,
      { rejoined: { target: t.healthName, connectedBefore } },
      timeouts.rejoin,
      record,
      POLL,
    );
    const rejoinedAt = Math.max(rejoin.metAt, takeoverAt);
    progress.host(t.host, 'standby');

    enter('final health');
    const health = await waitForHealth(
      apiReq,
      `${connectedBefore} Coreapp(s) connected, no degraded node`,
      { minConnectedCoreapps: connectedBefore, noReasons: true, verdictNotIn: ['unregistered'] },
      timeouts.health,
      record,
    );
    const verdict = `takeover ${(takeoverMs / 1000).toFixed(1)}s, SLO ${takeoverSlo} ${sloMet ? 'met' : 'missed'}`;
    enter(`done: ${verdict}`);
    const result: HaDrillResult = {
      cluster: cluster.name,
      inventory: inventoryOf(resolved.resolution),
      target: { host: t.host, healthName: t.healthName, container },
      takenOverBy,
      takeoverMs,
      takeoverSlo,
      sloMet,
      stopIssuedAt: new Date(stopIssuedAt).toISOString(),
      stoppedAt: new Date(stoppedAt).toISOString(),
      takeoverAt: new Date(takeoverAt).toISOString(),
      rejoinedAt: new Date(rejoinedAt).toISOString(),
      timeline,
      decisions: gates.decisions(),
      health,
    };
    return await notifier.succeeded(
      result,
      `${verdict}; ${t.host} stopped, taken over by ${takenOverBy.join(', ')}, back as a standby; health ${health.verdict}`,
    );
  } catch (err) {
    const final = stopped ? await restore(stopped, err) : err;
    progress.failed(final);
    await notifier.failed(final);
    throw final;
  } finally {
    await releaseClusterLock();
  }

  /** Start the stopped container again (even when the run is being cancelled); say so in the error. */
  async function restore(t: DrillTarget, err: unknown): Promise<unknown> {
    enter(`restore: start ${SERVICE} on ${t.host}`);
    try {
      await CancellationScope.nonCancellable(() => startAgain(t));
    } catch (restoreErr) {
      return ApplicationFailure.create({
        type: DRILL_RESTORE_FAILED,
        nonRetryable: true,
        message: `${failureText(err)}; starting ${SERVICE} on ${t.host} again failed too, start it by hand: ${failureText(restoreErr)}`,
      });
    }
    if (isCancellation(err)) return err;
    return ApplicationFailure.create({
      type: err instanceof ApplicationFailure && err.type ? err.type : DRILL_FAILED,
      nonRetryable: true,
      message: `${failureText(err)}; ${SERVICE} on ${t.host} was started again`,
    });
  }
}

/** What the drill does; the target's commands once it is known (after the precheck for `connected`). */
function drillPlan(
  input: HaDrillInput,
  cluster: OperableCluster,
  host: string | undefined,
  variant: ComposeVariant,
): PlanStep[] {
  const { takeoverSlo, timeouts } = input;
  const call = host ? hostComposeCall(cluster, host, cluster.version, variant) : undefined;
  const where = host ? { host } : { note: 'the connected Coreapp, chosen at the health precheck' };
  return [
    { stage: 'health precheck', note: 'healthy, the target connected, a standby Coreapp present' },
    { stage: 'approval', note: 'gate "drill"' },
    {
      stage: `stop ${SERVICE}`,
      ...where,
      ...(call ? { command: composeCommand(call, ['stop', SERVICE]) } : {}),
    },
    {
      stage: 'waiting for takeover',
      note: `a standby connected, health every ${POLL}; SLO ${takeoverSlo}, gives up after ${timeouts.takeover}`,
    },
    {
      stage: `start ${SERVICE}`,
      ...where,
      ...(call ? { command: composeCommand(call, ['up', '-d', SERVICE]) } : {}),
    },
    { stage: 'rejoin', note: `back as a standby within ${timeouts.rejoin}` },
    {
      stage: 'final health',
      note: `as many Coreapps connected as before, no degraded node, within ${timeouts.health}`,
    },
  ];
}
