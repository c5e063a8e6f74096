// Waiting for every service of the hosts to run (haSetup, seed A6) inside one activity: `ps` on every
// host at the poll schedule until nothing is missing. Shared by the real activity
// (waitContainersRunning, activities/host-activities.ts) and the tests' fake cluster.
import { ApplicationFailure } from '@temporalio/common';
import {
  type ContainersWaitRequest,
  type ContainersWaitResult,
  containerLines,
  type HostContainers,
  missingServices,
} from '../src/model/containers-wait';
import { CONTAINERS_NOT_RUNNING, nonRetryable } from '../src/model/errors';
import type { ContainerState } from './compose';
import { type PollDeps, pollUntil } from './poll';

/**
 * Poll `ps(host)` on every host (in parallel) until every expected service runs. A `ps` that fails
 * retryably (an SSH hiccup) counts as "not yet" for its host; a non-retryable failure (host key,
 * inventory) fails at once. Past `r.until`: ContainersNotRunning naming what is missing (and the last
 * `ps` error of a host that did not answer).
 */
export async function waitContainers(
  r: ContainersWaitRequest,
  ps: (host: ContainersWaitRequest['hosts'][number]) => Promise<ContainerState[]>,
  deps: PollDeps,
): Promise<ContainersWaitResult> {
  // The last answer of each host; a host that never answered counts with no container.
  const known = new Map<string, HostContainers<ContainerState>>(
    r.hosts.map((h) => [h.host, { host: h.host, expected: h.expected, containers: [] }]),
  );
  const errors = new Map<string, string>();
  return pollUntil<ContainersWaitResult>(
    async (poll) => {
      await Promise.all(
        r.hosts.map(async (h) => {
          try {
            const containers = await ps(h);
            known.set(h.host, { host: h.host, expected: h.expected, containers });
            errors.delete(h.host);
          } catch (err) {
            if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
            errors.set(h.host, err instanceof Error ? err.message : String(err));
          }
        }),
      );
      const states = [...known.values()];
      const missing = missingServices(states);
      const details = { poll, missing, errors: Object.fromEntries(errors) };
      if (missing.length === 0 && errors.size === 0)
        return { done: { containers: containerLines(states), polls: poll }, details };
      return { details };
    },
    {
      until: r.until,
      expired: () => {
        const missing = missingServices([...known.values()]);
        const failed = [...errors].map(([host, message]) => `ps on ${host} failed: ${message}`);
        return nonRetryable(
          CONTAINERS_NOT_RUNNING,
          `not running after ${r.deadline}: ${[missing.join(', '), ...failed].filter(Boolean).join('; ')}`,
        );
      },
    },
    deps,
  );
}
