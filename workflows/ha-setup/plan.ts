// The plan of an haSetup run: every stage, with the command or API call per host.
import type { OperableCluster } from '../../src/model/cluster';
import type { HaSetupInput } from '../../src/model/inputs';
import type { Resolution } from '../../src/model/inventory';
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

/** Every stage of the run, with the command or API call per host; `variants` once preflight ran. */
export function haSetupPlan(
  input: HaSetupInput,
  cluster: OperableCluster,
  resolution: Resolution,
  variants?: Variants,
): PlanStep[] {
  const { timeouts, method } = input;
  const { registration } = cluster;
  const approvals = resolution.policy;
  const version = cluster.version;
  const all = cluster.hosts;
  return [
    { stage: 'validate', note: 'the input against the haSetup schema, before anything else' },
    resolveStep(cluster.name, resolution),
    { stage: 'run guard', note: `no other disruptive run open on cluster ${cluster.name}` },
    {
      stage: 'database password',
      note: 'db.passwordRef of the inventory, resolved on the worker; refused if it has any of ? { } & ~ ! ( ) ^ =',
    },
    ...hostKeySteps(all),
    ...preflightSteps(cluster, all),
    ...(prerequisitesPatched() ? prerequisiteSteps(cluster, all) : []),
    ...uploadSteps(cluster, all),
    ...psSteps(
      cluster,
      all,
      version,
      'check containers',
      `what already runs: a service running v${version} is not started again`,
      variants,
    ),
    ...noteVariants(
      upSteps(cluster, version, undefined, variants).map((s) => ({
        ...s,
        note: `skipped when already running v${version}`,
      })),
      variants,
    ),
    ...psSteps(
      cluster,
      all,
      version,
      'wait running',
      `until every service of the host runs (at most ${timeouts.containers})`,
      variants,
    ),
    {
      stage: 'health unregistered',
      api: 'POST /v1/users/login',
      note: `first login at ${cluster.api.baseUrl}: the initial admin password is changed to api.passwordRef when the API asks`,
    },
    {
      stage: 'health unregistered',
      api: 'GET /v1/health',
      note: `the primary master reports unregistered (A7), within ${timeouts.health}; already registered: no gate, no registration`,
    },
    {
      stage: 'approval',
      note: `gate "register": ${approvals?.minApprovals} of ${approvals?.approvers.join(', ')}, within ${input.approvalTimeout ?? approvals?.timeout.default}`,
    },
    {
      stage: 'register',
      api: 'POST /v1/account',
      note: `+${registration?.cc} ${registration?.phoneNumber}, ${method}; certificate from registration.certRef${registration?.pinRef ? ', PIN from registration.pinRef' : ''} (inventory)`,
    },
    {
      stage: 'waiting for verification code',
      note: `on 202 only: the code from an operator (Update or Signal verificationCode), within ${timeouts.code}`,
    },
    { stage: 'verify', api: 'POST /v1/account/verify', note: 'on 202 only' },
    {
      stage: 'health connected',
      api: 'GET /v1/health',
      note: `exactly one Coreapp connected (A9), within ${timeouts.health}`,
    },
  ];
}
