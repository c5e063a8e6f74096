// What the haDrill runbook reads from GET /v1/health: which Coreapp is connected, which are standbys,
// which host the drill stops. Pure code, shared by the workflow and its tests.
import type { HostSpec } from './cluster';
import type { HealthSummary } from './health';
import { SIZING_GUIDE } from './topology';

/** The name a host has in /v1/health keys: its EXTERNAL_HOSTNAME (COREAPP_HOSTNAME), else its address. */
export const healthNameOf = (host: Pick<HostSpec, 'address' | 'externalHostname'>): string =>
  host.externalHostname ?? host.address;

export interface CoreappView {
  /** Health names of the Coreapps reporting `connected`, in the API's key order. */
  connected: string[];
  /** Health names of the Coreapps reporting `disconnected` (standbys). */
  standby: string[];
}

export function coreapps(s: HealthSummary): CoreappView {
  const of = (status: string) =>
    s.nodes.filter((n) => n.role === 'coreapp' && n.gatewayStatus === status).map((n) => n.host);
  return { connected: of('connected'), standby: of('disconnected') };
}

export interface DrillTarget {
  host: string;
  healthName: string;
}

export type TargetChoice = { ok: true; target: DrillTarget } | { ok: false; why: string };

/**
 * The precheck: the cluster is healthy, the target is a connected Coreapp of the spec, and another
 * Coreapp stands by to take over. `target: connected` picks the first connected Coreapp.
 */
export function chooseTarget(hosts: HostSpec[], s: HealthSummary, target: string): TargetChoice {
  const refuse = (why: string): TargetChoice => ({ ok: false, why });
  if (s.verdict !== 'ha-connected' && !s.verdict.startsWith('multiconnect-connected'))
    return refuse(
      `the cluster is not healthy: ${s.verdict}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`,
    );
  const view = coreapps(s);
  const coreHosts = hosts.filter((h) => h.roles.includes('coreapp'));
  let chosen: HostSpec | undefined;
  if (target === 'connected') {
    const name = view.connected[0] as string;
    chosen = coreHosts.find((h) => healthNameOf(h) === name);
    if (!chosen) return refuse(`the connected Coreapp ${name} is not a Coreapp host of the cluster spec`);
  } else {
    chosen = coreHosts.find((h) => h.name === target);
    if (!chosen) return refuse(`${target} is not a Coreapp host of the cluster spec`);
    if (!view.connected.includes(healthNameOf(chosen))) {
      const status = s.nodes.find((n) => n.role === 'coreapp' && n.host === healthNameOf(chosen as HostSpec));
      return refuse(
        `${target} is not connected now (${status?.gatewayStatus ?? 'not in /v1/health'}): a drill stops a connected Coreapp`,
      );
    }
  }
  const healthName = healthNameOf(chosen);
  if (!view.standby.some((n) => n !== healthName))
    return refuse(
      `no standby Coreapp (disconnected) could take over from ${chosen.name}; the guide advises "${SIZING_GUIDE.coreapp}"`,
    );
  return { ok: true, target: { host: chosen.name, healthName } };
}

/** Has the shard of the stopped Coreapp moved: as many Coreapps connected as before, none on the target? */
export function tookOver(s: HealthSummary, targetName: string, connectedBefore: number): boolean {
  return coreapps(s).connected.filter((n) => n !== targetName).length >= connectedBefore;
}

/** Is the target back, as a standby, with the other Coreapps still connected? */
export function rejoined(s: HealthSummary, targetName: string, connectedBefore: number): boolean {
  const view = coreapps(s);
  return view.standby.includes(targetName) && view.connected.length >= connectedBefore;
}

/** One health reading of the drill, as the result's timeline shows it. */
export interface DrillSnapshot {
  /** When the reading was taken, ISO 8601 (by the health wait activity; workflow time in older runs). */
  at: string;
  stage: string;
  /** Milliseconds since the stop was issued; null before it. */
  sinceStopMs: number | null;
  verdict: string;
  connected: string[];
  standby: string[];
  problems: string[];
}

/** The snapshot of a health reading, or undefined when it says nothing new since `last`. */
export function snapshotOf(
  s: HealthSummary,
  stage: string,
  now: number,
  stopIssuedAt: number | null,
  last: DrillSnapshot | undefined,
): DrillSnapshot | undefined {
  const view = coreapps(s);
  const next: DrillSnapshot = {
    at: new Date(now).toISOString(),
    stage,
    sinceStopMs: stopIssuedAt === null ? null : now - stopIssuedAt,
    verdict: s.verdict,
    connected: view.connected,
    standby: view.standby,
    problems: s.reasons,
  };
  const same = (a: DrillSnapshot, b: DrillSnapshot) =>
    a.stage === b.stage &&
    a.verdict === b.verdict &&
    JSON.stringify([a.connected, a.standby, a.problems]) ===
      JSON.stringify([b.connected, b.standby, b.problems]);
  return last && same(last, next) ? undefined : next;
}
