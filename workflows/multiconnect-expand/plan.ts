// The plan of a multiconnectExpand run: every stage, with the command or API call per host.
import type { HostSpec, OperableCluster } from '../../src/model/cluster';
import type { MulticonnectExpandInput } from '../../src/model/inputs';
import type { Resolution } from '../../src/model/inventory';
import type { TopologyReport } from '../../src/model/topology';
import type { PlanStep } from '../api';
import {
  hostKeySteps,
  noteVariants,
  preflightSteps,
  psSteps,
  resolveStep,
  uploadSteps,
  upSteps,
  type Variants,
} from '../lib/plan';
import { prerequisiteSteps, prerequisitesPatched } from '../lib/prerequisites';
import { topologySteps } from '../lib/topology';

/** The health verdict `shards` connected Coreapps give. */
export const connectedTarget = (shards: number) =>
  shards === 1 ? 'ha-connected' : `multiconnect-connected:${shards}`;

/**
 * Every stage of the run, with the command or API call per host; `variants` once preflight ran;
 * `topology`: the lint of the cluster after the expansion (runs since TOPOLOGY_LINT_PATCH).
 */
export function multiconnectPlan(
  input: MulticonnectExpandInput,
  cluster: OperableCluster,
  addCoreappHosts: HostSpec[],
  resolution: Resolution,
  variants?: Variants,
  topology?: TopologyReport,
): PlanStep[] {
  const { shards, timeouts } = input;
  const approvals = resolution.policy;
  const version = cluster.version;
  const names = addCoreappHosts.map((h) => h.name).join(', ') || 'no added host';
  return [
    { stage: 'validate', note: 'the input against the multiconnectExpand schema, before anything else' },
    resolveStep(cluster.name, resolution),
    ...topologySteps(topology),
    { stage: 'run guard', note: `no other disruptive run open on cluster ${cluster.name}` },
    { stage: 'health precheck', api: 'GET /v1/health', note: 'registered and healthy' },
    ...hostKeySteps(addCoreappHosts),
    ...preflightSteps(cluster, addCoreappHosts),
    ...(prerequisitesPatched() ? prerequisiteSteps(cluster, cluster.hosts) : []),
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
