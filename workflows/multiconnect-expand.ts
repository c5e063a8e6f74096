// Seed procedure B (4 steps): set shards, wait for that many connected Coreapps, add standby Coreapps.
import { ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ContainerState } from '../activities/compose';
import type { HostSpec, OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { PRECHECK_FAILED } from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { MulticonnectExpandInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { inventoryOf, type Resolution } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { type PlanStep, planQuery } from './api';
import { API_STEP, HOST_STEP } from './lib/activity-options';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { gatedRun } from './lib/gated-run';
import { waitForHealth } from './lib/health-gate';
import { preflightHosts } from './lib/hosts';
import {
  hostKeySteps,
  noteVariants,
  preflightSteps,
  psSteps,
  resolveStep,
  uploadSteps,
  upSteps,
  type Variants,
} from './lib/plan';
import { validateInput } from './lib/validate';

const hosts = proxyActivities<Activities>(HOST_STEP);
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

const connectedTarget = (shards: number) =>
  shards === 1 ? 'ha-connected' : `multiconnect-connected:${shards}`;

export async function multiconnectExpand(raw: unknown): Promise<MulticonnectExpandResult | PreviewResult> {
  const input = validateInput('multiconnectExpand', MulticonnectExpandInput, raw);
  const { shards, timeouts } = input;
  const found: string[] = [];
  const { progress, gates, notifier, resolve, preview } = gatedRun('multiconnectExpand', input, raw, () => ({
    found: [...found],
  }));
  const target = connectedTarget(shards);
  const added = input.addCoreapps;

  // Until resolved the plan says so; then, for docker-compose until preflight has detected each
  // added host's compose, then rebuilt.
  let plan = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);

  try {
    const resolved = await resolve(RUNBOOK_INPUTS.multiconnectExpand.issues);
    const { ref, resolution } = resolved;
    // The added spare hosts join the cluster as Coreapps; the rest of the spec (keys, files, db) is shared.
    const addCoreappHosts = added.map(
      (n) => resolved.cluster.spareHosts.find((h) => h.name === n) as HostSpec,
    );
    const cluster = {
      ...resolved.cluster,
      hosts: [...resolved.cluster.hosts, ...addCoreappHosts],
    } as OperableCluster;
    const version = cluster.version;
    const apiReq = { cluster: ref };
    plan = multiconnectPlan(input, cluster, addCoreappHosts, resolution);
    await holdClusterLock(progress, 'multiconnectExpand', cluster.name, input);
    progress.stage('health precheck');
    const before = await waitForHealth(apiReq, 'registered and healthy', {}, '1m');
    if (before.verdict === 'unregistered' || before.verdict === 'degraded') {
      throw ApplicationFailure.create({
        type: PRECHECK_FAILED,
        nonRetryable: true,
        message: `cluster ${cluster.name} is not ready for Multiconnect: ${before.verdict}${before.reasons.length ? ` (${before.reasons.join('; ')})` : ''}`,
      });
    }

    // The added hosts are checked before the gate: a wrong key or a host without Docker stops the
    // run before the shards change.
    const preflight = await preflightHosts(ref, cluster, addCoreappHosts, (s) => progress.stage(s));
    const variant = new Map<string, ComposeVariant>(preflight.map((p) => [p.host, p.compose.variant]));
    if (preflight.length > 0) plan = multiconnectPlan(input, cluster, addCoreappHosts, resolution, variant);
    if (input.preview) return preview('shards', plan, resolved);

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

    if (addCoreappHosts.length > 0) {
      progress.stage('upload');
      await Promise.all(addCoreappHosts.map((h) => hosts.uploadSetupFiles({ cluster: ref, host: h.name })));
      progress.stage('check containers');
      const running = await Promise.all(
        addCoreappHosts.map(async (h) => {
          const ps = (await hosts.composePs({
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
        addCoreappHosts.map(async (h, i) => {
          if (running[i]) {
            found.push(`wacore already running on ${h.name} (v${version})`);
            progress.host(h.name, `wacore already running (v${version})`);
            return;
          }
          progress.host(h.name, 'up -d wacore');
          await hosts.composeUp({
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

    progress.stage('final health');
    const health = await waitForHealth(
      apiReq,
      `${target}, ${shards} Coreapp(s) connected`,
      { verdictIn: [target], connectedCoreapps: shards },
      timeouts.health,
    );
    progress.stage(`done: ${health.verdict}`);
    return await notifier.succeeded(
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
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}

/** Every stage of the run, with the command or API call per host; `variants` once preflight ran. */
function multiconnectPlan(
  input: MulticonnectExpandInput,
  cluster: OperableCluster,
  addCoreappHosts: HostSpec[],
  resolution: Resolution,
  variants?: Variants,
): PlanStep[] {
  const { shards, timeouts } = input;
  const approvals = resolution.policy;
  const version = cluster.version;
  const names = addCoreappHosts.map((h) => h.name).join(', ') || 'no added host';
  return [
    { stage: 'validate', note: 'the input against the multiconnectExpand schema, before anything else' },
    resolveStep(cluster.name, resolution),
    { stage: 'run guard', note: `no other disruptive run open on cluster ${cluster.name}` },
    { stage: 'health precheck', api: 'GET /v1/health', note: 'registered and healthy' },
    ...hostKeySteps(addCoreappHosts),
    ...preflightSteps(cluster, addCoreappHosts),
    {
      stage: 'approval',
      note: `gate "shards": ${approvals?.minApprovals} of ${approvals?.approvers.join(', ')}, within ${input.approvalTimeout ?? approvals?.timeout.default}`,
    },
    { stage: 'set shards', api: 'POST /v1/account/shards', note: `shards: ${shards}` },
    {
      stage: 'wait connected',
      api: 'GET /v1/health',
      note: `${shards} Coreapps connected, within ${timeouts.health}`,
    },
    ...uploadSteps(cluster, addCoreappHosts),
    ...psSteps(
      cluster,
      addCoreappHosts,
      version,
      'check containers',
      `wacore already running v${version} is not started again`,
      variants,
    ),
    ...noteVariants(
      upSteps({ ...cluster, hosts: addCoreappHosts }, version, ['coreapp'], variants),
      variants,
    ),
    {
      stage: 'wait standby',
      api: 'GET /v1/health',
      note: `${names} listed as disconnected (standby) Coreapp(s), within ${timeouts.health}`,
    },
    {
      stage: 'final health',
      api: 'GET /v1/health',
      note: `${connectedTarget(shards)} with ${shards} Coreapp(s) connected`,
    },
  ];
}
