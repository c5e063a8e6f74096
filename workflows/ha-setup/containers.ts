// The containers of an haSetup run: what already runs, and the wait until every service runs.
import { ApplicationFailure, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ContainerState } from '../../activities/compose';
import type { OperableCluster } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import { type ContainerLines, containerLines, missingServices } from '../../src/model/containers-wait';
import { durationMs } from '../../src/model/duration';
import { CONTAINERS_NOT_RUNNING, HOST_NEWER_THAN_TARGET } from '../../src/model/errors';
import type { ClusterRef } from '../../src/model/inventory';
import { compareVersions } from '../../src/model/version';
import { waitOptions } from '../lib/activity-options';
import { failureText } from '../lib/failure-text';
import { legacyPollInterval, POLL_IN_ACTIVITY_PATCH, timedOut } from '../lib/health-gate';
import { hostActs } from '../lib/hosts';
import { SERVICE_OF_ROLE } from '../lib/plan';

type Containers = ContainerLines;

export type HostContainers = { host: string; expected: string[]; containers: ContainerState[] };

/**
 * Setting up v<version> where a service already runs a newer one would downgrade it (an inventory
 * whose version was not updated after an upgrade): refused before anything starts.
 */
export function refuseNewerThan(states: HostContainers[], version: string): void {
  const newer = states.flatMap((s) =>
    s.containers
      .filter((c) => {
        const v = /:v(\d+\.\d+\.\d+)$/.exec(c.image)?.[1];
        return v !== undefined && compareVersions(v, version) > 0;
      })
      .map((c) => `${c.service} on ${s.host} runs ${c.image.slice(c.image.lastIndexOf(':') + 1)}`),
  );
  if (newer.length > 0)
    throw ApplicationFailure.create({
      type: HOST_NEWER_THAN_TARGET,
      nonRetryable: true,
      message: `refusing to set up v${version} over newer containers: ${newer.join(', ')}; is the inventory's version up to date?`,
    });
}

/** A container of `service` that runs `version` (the image tag is `:v<version>`). */
export const current = (c: ContainerState, service: string, version: string) =>
  c.service === service && c.running && c.image.endsWith(`:v${version}`);

export async function psAll(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
): Promise<HostContainers[]> {
  return Promise.all(
    cluster.hosts.map(async (h) => ({
      host: h.name,
      expected: h.roles.map((r) => SERVICE_OF_ROLE[r]),
      containers: (await hostActs.composePs({
        cluster: ref,
        host: h.name,
        version,
        variant: variant.get(h.name) ?? 'v1',
      })) as ContainerState[],
    })),
  );
}

export const flatten = (states: HostContainers[]): Containers => containerLines(states);

/**
 * Seed A6: every host's service container running, within the deadline: one `waitContainersRunning`
 * activity polls `ps` on every host (src/model/poll.ts) and returns as soon as nothing is missing.
 */
export async function waitRunning(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
  deadline: string,
): Promise<Containers> {
  if (!patched(POLL_IN_ACTIVITY_PATCH))
    return pollRunningFromWorkflow(ref, cluster, version, variant, deadline);
  const until = Date.now() + durationMs(deadline);
  const { waitContainersRunning } = proxyActivities<Activities>(waitOptions(deadline));
  try {
    const { containers } = await waitContainersRunning({
      cluster: ref,
      version,
      hosts: cluster.hosts.map((h) => ({
        host: h.name,
        variant: variant.get(h.name) ?? 'v1',
        expected: h.roles.map((r) => SERVICE_OF_ROLE[r]),
      })),
      deadline,
      until,
    });
    return containers;
  } catch (err) {
    if (timedOut(err) && Date.now() >= until)
      throw ApplicationFailure.create({
        type: CONTAINERS_NOT_RUNNING,
        nonRetryable: true,
        message: `not running after ${deadline}: no answer (${failureText(err)})`,
      });
    throw err;
  }
}

/** Runs started before POLL_IN_ACTIVITY_PATCH: `ps` on every host, a timer, again. */
async function pollRunningFromWorkflow(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
  deadline: string,
): Promise<Containers> {
  const started = Date.now();
  const until = started + durationMs(deadline);
  for (;;) {
    const states = await psAll(ref, cluster, version, variant);
    const missing = missingServices(states);
    if (missing.length === 0) return flatten(states);
    if (Date.now() >= until) {
      throw ApplicationFailure.create({
        type: CONTAINERS_NOT_RUNNING,
        nonRetryable: true,
        message: `not running after ${deadline}: ${missing.join(', ')}`,
      });
    }
    await sleep(legacyPollInterval(Date.now() - started));
  }
}
