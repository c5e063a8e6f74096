// The lab's own record of what `docker-compose` did on each host: `docker events` in a time window,
// read through the host's namespaces (not over SSH, so the SSH counters stay the runbooks' own).
import { docker } from '../lab/lab';
import type { LabHost } from '../lab/paths';

export interface DockerEvent {
  host: string;
  /** ms since the epoch */
  t: number;
  type: string;
  action: string;
  /** docker-compose's service label, for container events */
  service: string | undefined;
}

interface RawEvent {
  Type: string;
  Action: string;
  timeNano: number;
  Actor?: { Attributes?: Record<string, string> };
}

/** docker's `<seconds>.<nanoseconds>` form: the fraction is read as a count of nanoseconds, not a decimal. */
const dockerTime = (ms: number) =>
  `${Math.floor(ms / 1000)}.${String(Math.round((ms % 1000) * 1e6)).padStart(9, '0')}`;

export async function dockerEvents(host: LabHost, fromMs: number, toMs: number): Promise<DockerEvent[]> {
  const out = await docker(host.name, [
    'events',
    '--since',
    dockerTime(fromMs),
    '--until',
    dockerTime(toMs),
    '--format',
    '{{json .}}',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RawEvent)
    .map((e) => ({
      host: host.name,
      t: e.timeNano / 1e6,
      type: e.Type,
      action: e.Action,
      service: e.Actor?.Attributes?.['com.docker.compose.service'],
    }));
}

/**
 * The daemon's side of one `up -d <service>` on a host: from the first event it caused (network or
 * volume creation, or stopping the old container) to the start of the service's container.
 */
export function upSpan(events: DockerEvent[], service: string): { from: number; to: number } | undefined {
  const relevant = events.filter(
    (e) => e.service === service || (e.type !== 'container' && e.action === 'create'),
  );
  const start = relevant
    .filter((e) => e.type === 'container' && e.action === 'start' && e.service === service)
    .at(-1);
  const first = relevant[0];
  return start && first ? { from: first.t, to: start.t } : undefined;
}

/** The dbupgrade job: from its container's creation to its exit. */
export function jobSpan(
  events: DockerEvent[],
  service = 'dbupgrade',
): { from: number; to: number } | undefined {
  const mine = events.filter((e) => e.type === 'container' && e.service === service);
  const die = mine.find((e) => e.action === 'die');
  return mine[0] && die ? { from: mine[0].t, to: die.t } : undefined;
}
