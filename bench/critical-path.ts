// The critical path of a run, from the lab's own timestamps: the slowest host's `up -d` (docker
// events) plus the time the cluster itself needs to converge (the sim's health in the database).
// What is left of a run's wall time is orchestration: the runbook's (or the script's) overhead.
import type { LabHost } from '../lab/paths';
import { type DockerEvent, dockerEvents, jobSpan, upSpan } from './docker-events';
import { firstTime, type HealthState } from './health-watch';
import { round } from './stats';

const SERVICE = { webapp: 'waweb', master: 'master', coreapp: 'wacore' } as const;

export interface CriticalPath {
  /** Seconds: the slowest host's `up -d`, daemon side. */
  slowestUp: number;
  slowestHost: string;
  /** Seconds: the dbupgrade job, creation to exit (upgrade only). */
  dbUpgradeJob?: number;
  /** Seconds the cluster needed to converge after its last container started (without client time). */
  convergence: number;
  total: number;
  /**
   * B only: the same path with the slowest whole `up -d` command as the runbook ran it (its slowest
   * composeUp activity: SSH exec, docker-compose's own start-up, the daemon's work) instead of the
   * daemon's side alone, which is all the lab's timestamps can see.
   */
  withComposeCli?: { slowestUpCommand: number; total: number };
  /**
   * B only: the path of the procedure as the run ordered it: seconds with at least one of its `up -d`
   * commands running (one host after another they add up; a batch counts once, as its slowest), plus
   * the dbupgrade job and the convergence. The `up -d` of a rolling upgrade cannot overlap (one host
   * down at a time), so this is the least time the run could take with no orchestration at all.
   */
  inRunOrder?: { upCommands: number; total: number };
}

/** Add the run's own `up -d` commands (seconds): the slowest one, and the time any of them was running. */
export function withUpCommands(cp: CriticalPath, slowestUpCommand: number, upCommands: number): CriticalPath {
  const rest = cp.total - cp.slowestUp;
  return {
    ...cp,
    withComposeCli: { slowestUpCommand, total: round(rest + slowestUpCommand) },
    inRunOrder: { upCommands, total: round(rest + upCommands) },
  };
}

async function allEvents(hosts: LabHost[], from: number, to: number): Promise<DockerEvent[]> {
  // Exactly the run's window: the clean slate just before it removed containers of the same services.
  return (await Promise.all(hosts.map((h) => dockerEvents(h, from, to)))).flat();
}

function slowestUp(hosts: LabHost[], events: DockerEvent[]) {
  let slowest = { host: '', seconds: 0 };
  let lastStart = 0;
  for (const h of hosts) {
    const span = upSpan(
      events.filter((e) => e.host === h.name),
      SERVICE[h.role],
    );
    if (!span) throw new Error(`no \`up -d ${SERVICE[h.role]}\` found in the docker events of ${h.name}`);
    lastStart = Math.max(lastStart, span.to);
    const seconds = (span.to - span.from) / 1000;
    if (seconds > slowest.seconds) slowest = { host: h.name, seconds };
  }
  return { ...slowest, lastStart };
}

const need = (t: number | undefined, what: string): number => {
  if (t === undefined) throw new Error(`the lab's health never showed ${what}`);
  return t;
};

/**
 * HA setup: slowest `up -d` + (last container start -> health "unregistered" with every node) +
 * (registration recorded -> one Coreapp connected). The client's own time between the two
 * (login, polling, approval, the code) is not the cluster's and is left out.
 */
export async function setupCriticalPath(
  hosts: LabHost[],
  timeline: HealthState[],
  window: { from: number; to: number },
): Promise<CriticalPath> {
  const nodes = hosts.filter((h) => h.role !== 'webapp').length;
  const up = slowestUp(hosts, await allEvents(hosts, window.from, window.to));
  const unregistered = need(
    firstTime(timeline, (s) => s.verdict === 'unregistered' && s.nodes === nodes, up.lastStart),
    'unregistered',
  );
  const registered = need(
    firstTime(timeline, (s) => s.registered),
    'the registration',
  );
  const connected = need(
    firstTime(timeline, (s) => s.verdict === 'ha-connected' && s.nodes === nodes, registered),
    'one Coreapp connected',
  );
  const convergence = (Math.max(0, unregistered - up.lastStart) + (connected - registered)) / 1000;
  return {
    slowestUp: up.seconds,
    slowestHost: up.host,
    convergence,
    total: up.seconds + convergence,
  };
}

/** Upgrade: the dbupgrade job + slowest `up -d` + (last container start -> every node on the new version, one Coreapp connected). */
export async function upgradeCriticalPath(
  hosts: LabHost[],
  timeline: HealthState[],
  window: { from: number; to: number },
  toVersion: string,
): Promise<CriticalPath> {
  const nodes = hosts.filter((h) => h.role !== 'webapp').length;
  const events = await allEvents(hosts, window.from, window.to);
  const job = jobSpan(events);
  if (!job) throw new Error('no dbupgrade job found in the docker events');
  const up = slowestUp(hosts, events);
  const converged = need(
    firstTime(
      timeline,
      (s) => s.verdict === 'ha-connected' && s.nodes === nodes && s.versions.join() === toVersion,
      up.lastStart,
    ),
    `every node on v${toVersion} with one Coreapp connected`,
  );
  const dbUpgradeJob = (job.to - job.from) / 1000;
  const convergence = (converged - up.lastStart) / 1000;
  return {
    slowestUp: up.seconds,
    slowestHost: up.host,
    dbUpgradeJob,
    convergence,
    total: dbUpgradeJob + up.seconds + convergence,
  };
}
