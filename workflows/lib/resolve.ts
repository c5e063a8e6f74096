import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ClusterSpec } from '../../src/model/cluster';
import { INVALID_INPUT } from '../../src/model/errors';
import type { InputIssue } from '../../src/model/inputs/common';
import type { ClusterRef, Resolution } from '../../src/model/inventory';
import type { ResolvedPolicy } from '../../src/model/policy';
import type { RunbookName } from '../../src/model/runbooks';
import { clean, formatPath } from '../../src/model/validate';
import { RESOLVE_STEP } from './activity-options';

const { resolveCluster } = proxyActivities<Activities>(RESOLVE_STEP);

/** A run's cluster once resolved: the spec, the reference every activity gets, the policy. */
export interface RunCluster {
  cluster: ClusterSpec;
  ref: ClusterRef;
  policy: ResolvedPolicy | null;
  resolution: Resolution;
}

/**
 * Second step of every runbook, after the schema: resolve the input's cluster name against the
 * worker's inventory (an activity: its result is recorded in history), then check the input
 * against it (hosts it names, versions, the policy's bounds). A bad input fails here, naming each
 * field, before any activity touches a host or an API.
 */
export async function resolveRun<I extends { cluster: string }>(
  runbook: RunbookName,
  input: I,
  issues: (input: I, resolved: { cluster: ClusterSpec; policy: ResolvedPolicy | null }) => InputIssue[],
): Promise<RunCluster> {
  const resolution = await resolveCluster({ cluster: input.cluster, runbook });
  const { cluster, policy } = resolution;
  const problems = issues(input, { cluster, policy });
  if (problems.length > 0) throw invalidInput(runbook, problems);
  return { cluster, policy, resolution, ref: { name: cluster.name, specHash: resolution.specHash } };
}

/** The InvalidInput failure of a valid input that does not fit its cluster, naming every field. */
export function invalidInput(runbook: RunbookName, issues: InputIssue[]): ApplicationFailure {
  const problems = issues.map((i) => clean(`${formatPath(i.path)}: ${i.message}`, 400));
  return ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${runbook} input: ${problems.join('; ')}`,
    details: [problems],
  });
}
