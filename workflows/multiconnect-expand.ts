// Seed procedure B (4 steps): set shards, wait for that many connected Coreapps, add standby Coreapps.
import { ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HealthSummary } from '../src/spec/health';
import { MulticonnectExpandInput } from '../src/spec/runbook-inputs';
import { gatedRun } from './lib/gated-run';
import { waitForHealth } from './lib/health-gate';
import { type PlanStep, planQuery, upSteps } from './lib/plan';
import { refuseConcurrentRuns } from './lib/run-guard';
import { validateInput } from './lib/validate';

const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
const hosts = proxyActivities<Activities>({ startToCloseTimeout: '10m', heartbeatTimeout: '30s', retry });
const api = proxyActivities<Activities>({ startToCloseTimeout: '2m', retry });

export interface MulticonnectExpandResult {
  cluster: string;
  shards: number;
  addedHosts: string[];
  decisions: unknown[];
  health: HealthSummary;
}

const connectedTarget = (shards: number) =>
  shards === 1 ? 'ha-connected' : `multiconnect-connected:${shards}`;

export async function multiconnectExpand(raw: unknown): Promise<MulticonnectExpandResult> {
  const input = validateInput('multiconnectExpand', MulticonnectExpandInput, raw);
  const { shards, addCoreappHosts, registration, timeouts } = input;
  // The added hosts join the cluster as Coreapps; the rest of the spec (keys, files, db) is shared.
  const cluster = { ...input.cluster, hosts: [...input.cluster.hosts, ...addCoreappHosts] };
  const version = cluster.version as string;
  const { progress, gates, notifier } = gatedRun('multiconnectExpand', cluster.name, input);
  const apiReq = { cluster: cluster.name, api: cluster.api };
  const target = connectedTarget(shards);
  const plan: PlanStep[] = [
    { stage: 'health precheck', note: 'registered and healthy' },
    { stage: 'approval', note: 'gate "shards"' },
    { stage: 'set shards', note: `POST /v1/account/shards {shards: ${shards}}` },
    { stage: 'wait connected', note: `${shards} Coreapps connected` },
    ...addCoreappHosts.map((h) => ({ stage: 'preflight + upload', host: h.name })),
    ...upSteps({ ...cluster, hosts: addCoreappHosts }, version, ['coreapp']),
    {
      stage: 'wait standby',
      note: `${addCoreappHosts.map((h) => h.name).join(', ') || 'no added host'} reported as standby`,
    },
  ];
  setHandler(planQuery, () => plan);

  try {
    await refuseConcurrentRuns('multiconnectExpand', cluster.name);
    progress.stage('health precheck');
    const before = await waitForHealth(apiReq, 'registered and healthy', () => true, '1m');
    if (before.verdict === 'unregistered' || before.verdict === 'degraded') {
      throw ApplicationFailure.create({
        type: 'PrecheckFailed',
        nonRetryable: true,
        message: `cluster ${cluster.name} is not ready for Multiconnect: ${before.verdict}${before.reasons.length ? ` (${before.reasons.join('; ')})` : ''}`,
      });
    }

    await gates.require(
      'shards',
      `set ${shards} shards on cluster ${cluster.name} (now ${before.connectedCoreapps} connected); add ${addCoreappHosts.map((h) => h.name).join(', ') || 'no host'} as standby`,
    );
    progress.stage('set shards');
    await api.wabaSetShards({
      ...apiReq,
      cc: registration.cc,
      phoneNumber: registration.phoneNumber,
      certRef: registration.certRef,
      pinRef: registration.pinRef,
      shards,
    });

    progress.stage('wait connected');
    await waitForHealth(
      apiReq,
      `${shards} Coreapps connected`,
      (s) => s.connectedCoreapps === shards,
      timeouts.health,
    );

    for (const h of addCoreappHosts) {
      progress.stage(`add ${h.name}`);
      const pre = await hosts.preflightHost({ cluster, host: h.name });
      await hosts.uploadSetupFiles({ cluster, host: h.name });
      progress.host(h.name, 'up -d wacore');
      await hosts.composeUp({
        cluster,
        host: h.name,
        service: 'wacore',
        version,
        variant: pre.compose.variant,
      });
    }

    progress.stage('wait standby');
    const addresses = addCoreappHosts.map((h) => h.externalHostname ?? h.address);
    const health = await waitForHealth(
      apiReq,
      `${target} with ${addresses.length} added standby Coreapp(s)`,
      (s) =>
        s.verdict === target &&
        addresses.every((a) =>
          s.nodes.some(
            (n) =>
              n.host === a &&
              n.role === 'coreapp' &&
              (n.gatewayStatus === 'disconnected' || n.gatewayStatus === 'connected'),
          ),
        ),
      timeouts.health,
    );
    for (const h of addCoreappHosts) progress.host(h.name, 'standby');
    progress.stage(`done: ${health.verdict}`);
    const added = addCoreappHosts.map((h) => h.name);
    return await notifier.succeeded(
      { cluster: cluster.name, shards, addedHosts: added, decisions: gates.decisions(), health },
      `${shards} shards; ${added.length ? `${added.join(', ')} added as standby` : 'no host added'}; health ${health.verdict}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}
