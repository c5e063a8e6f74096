// Waiting for every service of a set of hosts to run (haSetup, seed A6): the request the workflow
// sends to the activity that polls `ps` on the hosts (activities/containers-wait.ts), and the pure
// checks both sides use. Shared by workflows, activities and tests.
import type { ComposeVariant } from './commands';
import type { ClusterRef } from './inventory';

/** What `ps` said of a host: the services it should run and its containers. */
export interface HostContainers<C extends { service: string; running: boolean; state: string }> {
  host: string;
  expected: string[];
  containers: C[];
}

/** `<host>/<service>` of every expected service without a running container. */
export const missingServices = (
  states: HostContainers<{ service: string; running: boolean; state: string }>[],
): string[] =>
  states.flatMap((s) =>
    s.expected
      .filter((svc) => !s.containers.some((c) => c.service === svc && c.running))
      .map((svc) => `${s.host}/${svc}`),
  );

/** One line per container: host, service, state. */
export type ContainerLines = { host: string; service: string; state: string }[];

export const containerLines = (
  states: HostContainers<{ service: string; running: boolean; state: string }>[],
): ContainerLines =>
  states.flatMap((s) => s.containers.map((c) => ({ host: s.host, service: c.service, state: c.state })));

/** What the containers wait activity (`waitContainersRunning`) is asked. */
export interface ContainersWaitRequest {
  cluster: ClusterRef;
  /** The WA_API_VERSION `ps` runs with. */
  version: string;
  hosts: { host: string; variant: ComposeVariant; expected: string[] }[];
  /** As the run's input wrote it, for the failure message (`not running after <deadline>: ...`). */
  deadline: string;
  /** The deadline as an instant (ms since the epoch), computed once by the workflow (see HealthWaitRequest). */
  until: number;
}

export interface ContainersWaitResult {
  containers: ContainerLines;
  /** Rounds of `ps` (one per host each) made by this attempt. */
  polls: number;
}
