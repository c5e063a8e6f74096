// Issue 7: a failover drill. Stop the connected Coreapp's wacore, measure how long until a standby
// connects in its place, start it again, wait until it is back as a standby. Whatever goes wrong
// after the stop (cancellation included), the stopped container is started again before the run ends.
import { ApplicationFailure } from '@temporalio/workflow';
import type { Decision } from '../src/model/approvals';
import type { OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { chooseTarget, coreapps, type DrillSnapshot, type DrillTarget } from '../src/model/drill';
import { durationMs } from '../src/model/duration';
import { HEALTH_GATE_FAILED, PRECHECK_FAILED, TAKEOVER_TIMED_OUT } from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { RUNBOOK_INPUTS } from '../src/model/inputs';
import { type ClusterRef, inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { lintCluster } from '../src/model/topology';
import { DrillRun } from './ha-drill/drill';
import { POLL, SERVICE } from './ha-drill/plan';
import { defineRunbook } from './lib/define-runbook';
import { healthGate, waitForHealth } from './lib/health-gate';
import { hostActs, preflightHosts } from './lib/hosts';
import { showTopology, topologyLintPatched } from './lib/topology';

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

export const haDrill = defineRunbook(
  { ...RUNBOOK_INPUTS.haDrill, gated: true },
  async (run, input): Promise<HaDrillResult | PreviewResult> => {
    const { progress, gates } = run;
    const { takeoverSlo, timeouts } = input;
    const d = new DrillRun(input, progress);
    run.showInStatus(() => d.status());
    run.showPlan(() => d.plan());
    try {
      // Step 1: the cluster.
      const resolved = await run.resolve();
      d.resolved = resolved;
      const cluster = resolved.cluster as OperableCluster;
      const { ref } = resolved;
      const apiReq = { cluster: ref };
      // The seed's sizing guidance: warnings in status and the plan. A cluster without a standby is
      // refused by the health precheck below, from what the cluster reports rather than the inventory.
      const topology = lintCluster(cluster);
      showTopology(progress, topology);
      if (topologyLintPatched()) d.topology = topology;
      await run.holdClusterLock(cluster.name);

      // Step 2: the target: connected, with a standby to take over, and its running container.
      d.enter('health precheck');
      const before = await waitForHealth(apiReq, 'an answer', {}, '1m', d.record);
      const t = chosenTarget(cluster, before, input.target);
      d.target = t;
      const connectedBefore = before.connectedCoreapps;
      const standbys = coreapps(before).standby.filter((n) => n !== t.healthName);
      progress.host(t.host, `connected (${t.healthName})`);
      d.enter('preflight');
      const targetHost = cluster.hosts.filter((h) => h.name === t.host);
      d.variant = (await preflightHosts(ref, cluster, targetHost))[0]?.compose.variant ?? 'v1';
      const container = await runningContainer(ref, cluster, t.host, d.variant);

      // Step 3: approval of the drill (a dry run ends here).
      const drillSteps = d.plan();
      if (input.preview) return run.preview('drill', drillSteps, resolved);
      await gates.require(
        'drill',
        `failover drill on cluster ${cluster.name}: stop ${SERVICE} on ${t.host} (${t.healthName}, container ${container}, connected now); ` +
          `standby ${standbys.join(', ')} should take over within ${takeoverSlo} (the drill gives up after ${timeouts.takeover}); ` +
          `then start ${SERVICE} on ${t.host} again and wait until it is back as a standby`,
        drillSteps,
      );

      // Step 4: stop the target's wacore.
      d.enter(`stop ${SERVICE} on ${t.host}`);
      await d.stop(t);
      const stopIssuedAt = d.stopIssuedAt as number;
      const stoppedAt = Date.now();
      progress.host(t.host, `${SERVICE} stopped`);

      // Step 5: measure the takeover: a standby connected in its place.
      d.enter('waiting for takeover');
      const takeover = await waitForTakeover(apiReq, t, connectedBefore, timeouts.takeover, d.record);
      const after = takeover.summary;
      // When the reading that showed the takeover was taken (not when the run got to hear of it); never
      // before the stop completed, whatever the worker's clock says.
      const takeoverAt = Math.max(takeover.metAt, stoppedAt);
      const takeoverMs = takeoverAt - stopIssuedAt;
      d.takeoverMs = takeoverMs;
      const sloMet = takeoverMs <= durationMs(takeoverSlo);
      const takenOverBy = coreapps(after).connected.filter((n) => !coreapps(before).connected.includes(n));
      progress.host(
        t.host,
        `${SERVICE} stopped; taken over by ${takenOverBy.join(', ')} in ${takeoverMs} ms`,
      );

      // Step 6: start it again, and wait until it is back as a standby.
      d.enter(`start ${SERVICE} on ${t.host}`);
      await d.startAgain(t);
      d.enter(`waiting for ${t.host} to rejoin as standby`);
      const rejoin = await healthGate(
        apiReq,
        `${t.host} back as a standby`,
        { rejoined: { target: t.healthName, connectedBefore } },
        timeouts.rejoin,
        d.record,
        POLL,
      );
      const rejoinedAt = Math.max(rejoin.metAt, takeoverAt);
      progress.host(t.host, 'standby');

      // Step 7: the final health.
      d.enter('final health');
      const health = await waitForHealth(
        apiReq,
        `${connectedBefore} Coreapp(s) connected, no degraded node`,
        { minConnectedCoreapps: connectedBefore, noReasons: true, verdictNotIn: ['unregistered'] },
        timeouts.health,
        d.record,
      );
      const verdict = `takeover ${(takeoverMs / 1000).toFixed(1)}s, SLO ${takeoverSlo} ${sloMet ? 'met' : 'missed'}`;
      d.enter(`done: ${verdict}`);
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
        timeline: d.timeline,
        decisions: gates.decisions(),
        health,
      };
      return await run.succeeded(
        result,
        `${verdict}; ${t.host} stopped, taken over by ${takenOverBy.join(', ')}, back as a standby; health ${health.verdict}`,
      );
    } catch (err) {
      // Whatever went wrong after the stop: the container is started again first.
      throw await d.failure(err);
    }
  },
);

/** The drill's target from the precheck's health: the connected Coreapp (or the input's), with a standby. */
function chosenTarget(cluster: OperableCluster, before: HealthSummary, wanted: string): DrillTarget {
  const choice = chooseTarget(cluster.hosts, before, wanted);
  if (choice.ok) return choice.target;
  throw ApplicationFailure.create({
    type: PRECHECK_FAILED,
    nonRetryable: true,
    message: `cluster ${cluster.name} is not ready for a failover drill: ${choice.why}`,
  });
}

/** The id of the target's running wacore container; none fails the precheck. */
async function runningContainer(
  ref: ClusterRef,
  cluster: OperableCluster,
  host: string,
  variant: ComposeVariant,
): Promise<string> {
  const version = cluster.version;
  const ps = await hostActs.composePs({ cluster: ref, host, version, variant, service: SERVICE });
  const container = ps.find((c) => c.running)?.id;
  if (container) return container;
  throw ApplicationFailure.create({
    type: PRECHECK_FAILED,
    nonRetryable: true,
    message: `cluster ${cluster.name} is not ready for a failover drill: no running ${SERVICE} container on ${host}`,
  });
}

/** A standby connected in place of `t`, health read every POLL; TakeoverTimedOut after `timeout`. */
function waitForTakeover(
  apiReq: { cluster: ClusterRef },
  t: DrillTarget,
  connectedBefore: number,
  timeout: string,
  record: (s: HealthSummary, at: number) => void,
) {
  return healthGate(
    apiReq,
    `a standby connected in place of ${t.host}`,
    { tookOver: { target: t.healthName, connectedBefore } },
    timeout,
    record,
    POLL,
  ).catch((err: unknown) => {
    if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
    throw ApplicationFailure.create({
      type: TAKEOVER_TIMED_OUT,
      nonRetryable: true,
      message: `no standby took over within ${timeout} of stopping ${SERVICE} on ${t.host}: ${err.message}`,
    });
  });
}
