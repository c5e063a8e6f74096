// Seed procedure B (4 steps): set shards, wait for that many connected Coreapps, add standby Coreapps.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ContainerState } from '../activities/compose';
import type { HostSpec, OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { PRECHECK_FAILED } from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { RUNBOOK_INPUTS } from '../src/model/inputs';
import { noStandbyIssue } from '../src/model/inputs/multiconnect-expand';
import { type ClusterRef, inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { lintTopology } from '../src/model/topology';
import { API_STEP } from './lib/activity-options';
import { defineRunbook } from './lib/define-runbook';
import { waitForHealth } from './lib/health-gate';
import { hostActs, preflightHosts } from './lib/hosts';
import { prerequisitesPatched, requirePrerequisites } from './lib/prerequisites';
import type { Progress } from './lib/progress';
import { invalidInput } from './lib/resolve';
import { showTopology, topologyLintPatched } from './lib/topology';
import { connectedTarget, multiconnectPlan } from './multiconnect-expand/plan';

const api = proxyActivities<Activities>(API_STEP);

export interface MulticonnectExpandResult {
  cluster: string;
  inventory: InventoryStamp;
  shards: number;
  addedHosts: string[];
  /** What was already done and left alone, e.g. "wacore already running on core3 (v2.23.4)". */
  found: string[];
  decisions: unknown[];
  health: HealthSummary;
}

export const multiconnectExpand = defineRunbook(
  { ...RUNBOOK_INPUTS.multiconnectExpand, gated: true },
  async (run, input): Promise<MulticonnectExpandResult | PreviewResult> => {
    const { progress, gates } = run;
    const { shards, timeouts } = input;
    const found: string[] = [];
    run.showInStatus(() => ({ found: [...found] }));
    const target = connectedTarget(shards);
    const added = input.addCoreapps;

    // Step 1: the cluster, with the added spare hosts as Coreapps (keys, files, db are shared).
    const resolved = await run.resolve();
    const { ref, resolution } = resolved;
    const addCoreappHosts = added.map(
      (n) => resolved.cluster.spareHosts.find((h) => h.name === n) as HostSpec,
    );
    const cluster = {
      ...resolved.cluster,
      hosts: [...resolved.cluster.hosts, ...addCoreappHosts],
    } as OperableCluster;
    const apiReq = { cluster: ref };
    // The seed's sizing guidance on the cluster as it will be: warnings in status and the plan; no
    // standby Coreapp left is refused unless the input accepts it, before anything is touched.
    const topology = lintTopology({ cluster: cluster.name, hosts: cluster.hosts, shards });
    showTopology(progress, topology);
    const lint = topologyLintPatched() ? topology : undefined;
    const noStandby = lint && noStandbyIssue(input, lint.roles.coreapp.instances);
    if (noStandby) throw invalidInput(run.name, [noStandby]);
    // For docker-compose until preflight has detected each added host's compose, then rebuilt.
    let plan = multiconnectPlan(input, cluster, addCoreappHosts, resolution, undefined, lint);
    run.showPlan(plan);
    await run.holdClusterLock(cluster.name);

    // Step 2: the cluster registered and healthy.
    progress.stage('health precheck');
    const before = await waitForHealth(apiReq, 'registered and healthy', {}, '1m');
    if (before.verdict === 'unregistered' || before.verdict === 'degraded') {
      throw ApplicationFailure.create({
        type: PRECHECK_FAILED,
        nonRetryable: true,
        message: `cluster ${cluster.name} is not ready for Multiconnect: ${before.verdict}${before.reasons.length ? ` (${before.reasons.join('; ')})` : ''}`,
      });
    }

    // Step 3: the added hosts checked before the gate: a wrong key or a host without Docker stops
    // the run before the shards change.
    const preflight = await preflightHosts(ref, cluster, addCoreappHosts, (s) => progress.stage(s));
    // The seed's prerequisites from every host as the cluster will be (the added ones too).
    if (prerequisitesPatched()) await requirePrerequisites(ref, cluster, cluster.hosts, progress);
    const variant = new Map<string, ComposeVariant>(preflight.map((p) => [p.host, p.compose.variant]));
    if (preflight.length > 0) {
      plan = multiconnectPlan(input, cluster, addCoreappHosts, resolution, variant, lint);
      run.showPlan(plan);
    }
    if (input.preview) return run.preview('shards', plan, resolved);

    // Step 4: approval, then the shards, and wait for that many connected Coreapps.
    await gates.require(
      'shards',
      `set ${shards} shards on cluster ${cluster.name} (now ${before.connectedCoreapps} connected); add ${added.join(', ') || 'no host'} as standby`,
      plan,
    );
    progress.stage('set shards');
    await api.wabaSetShards({ ...apiReq, shards });
    progress.stage('wait connected');
    await waitForHealth(
      apiReq,
      `${shards} Coreapps connected`,
      { connectedCoreapps: shards },
      timeouts.health,
    );

    // Step 5: wacore on the added hosts, which join as standby.
    if (addCoreappHosts.length > 0)
      await startAddedCoreapps(ref, cluster.version, addCoreappHosts, variant, progress, found);
    progress.stage('wait standby');
    const addresses = addCoreappHosts.map((h) => h.externalHostname ?? h.address);
    // Standby: listed as a Coreapp and not connected (the shards are served by the others).
    await waitForHealth(
      apiReq,
      `${target} with ${addresses.length} added standby Coreapp(s)`,
      { verdictIn: [target], standby: addresses },
      timeouts.health,
    );
    for (const h of addCoreappHosts) progress.host(h.name, 'standby');

    // Step 6: the final health.
    progress.stage('final health');
    const health = await waitForHealth(
      apiReq,
      `${target}, ${shards} Coreapp(s) connected`,
      { verdictIn: [target], connectedCoreapps: shards },
      timeouts.health,
    );
    progress.stage(`done: ${health.verdict}`);
    return await run.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolution),
        shards,
        addedHosts: added,
        found,
        decisions: gates.decisions(),
        health,
      },
      `${shards} shards; ${added.length ? `${added.join(', ')} added as standby` : 'no host added'}; health ${health.verdict}`,
    );
  },
);

/**
 * Upload the setup files to the added hosts and start wacore where it does not run this version
 * yet; what was found already running goes into `found` (shown in `status` at once).
 */
async function startAddedCoreapps(
  ref: ClusterRef,
  version: string,
  hosts: HostSpec[],
  variant: Map<string, ComposeVariant>,
  progress: Progress,
  found: string[],
): Promise<void> {
  progress.stage('upload');
  await Promise.all(hosts.map((h) => hostActs.uploadSetupFiles({ cluster: ref, host: h.name })));
  progress.stage('check containers');
  const running = await Promise.all(
    hosts.map(async (h) => {
      const ps = (await hostActs.composePs({
        cluster: ref,
        host: h.name,
        version,
        variant: variant.get(h.name) ?? 'v1',
      })) as ContainerState[];
      return ps.some((c) => c.service === 'wacore' && c.running && c.image.endsWith(`:v${version}`));
    }),
  );
  progress.stage('start wacore');
  await Promise.all(
    hosts.map(async (h, i) => {
      if (running[i]) {
        found.push(`wacore already running on ${h.name} (v${version})`);
        progress.host(h.name, `wacore already running (v${version})`);
        return;
      }
      progress.host(h.name, 'up -d wacore');
      await hostActs.composeUp({
        cluster: ref,
        host: h.name,
        service: 'wacore',
        version,
        variant: variant.get(h.name) ?? 'v1',
      });
      progress.host(h.name, 'wacore started');
    }),
  );
}
