// Section 7: the scaling line. The same upgrade (A = the seed's script, B = the runbook with its
// defaults, one host at a time) on the bench's 1/3/3 lab and on a 1/3/6 one: wall time per host,
// and what each added Coreapp costs. On this lab all hosts share the machine's cores: the line shows
// how the orchestration's cost grows with hosts, not how a cluster of real machines would.
import type { LabHost } from '../../lab/paths';
import type { BenchTopology } from '../lab-session';
import { topologyName } from '../lab-session';
import { round, type Spread, spread } from '../stats';
import type { BenchTemporal } from '../temporal';
import type { RunRecord } from './paired-run';
import { upgradeRep } from './upgrade';

/** The bench's lab, then the same with twice its Coreapps. */
export const SCALING_TOPOLOGIES: BenchTopology[] = [
  { webs: 1, masters: 3, cores: 3, spares: 0 },
  { webs: 1, masters: 3, cores: 6, spares: 0 },
];

export interface ScalingPoint {
  topology: string;
  /** Hosts the upgrade re-creates containers on (every Webapp, Master and Coreapp). */
  hosts: number;
  a: Spread;
  b: Spread;
  /** Seconds per host: wall / hosts, per run. */
  perHostA: Spread;
  perHostB: Spread;
  /** B's `composeUp` activities (the `up -d` of every host, one after another), seconds per run. */
  composeUpB: Spread;
  runs: RunRecord[];
}

export interface ScalingResult {
  points: ScalingPoint[];
  /** (median wall of the bigger − of the smaller) / hosts added: what one more host adds to a run. */
  addedHostSeconds: { a: number; b: number };
}

const composeUpSeconds = (r: RunRecord) =>
  r.breakdown?.byType.find((t) => t.type === 'composeUp')?.seconds ?? Number.NaN;

export function scalingPoint(size: BenchTopology, runs: RunRecord[]): ScalingPoint {
  const hosts = size.webs + size.masters + size.cores;
  const of = (v: 'A' | 'B') => runs.filter((r) => r.variant === v);
  return {
    topology: topologyName(size),
    hosts,
    a: spread(of('A').map((r) => r.seconds)),
    b: spread(of('B').map((r) => r.seconds)),
    perHostA: spread(of('A').map((r) => r.seconds / hosts)),
    perHostB: spread(of('B').map((r) => r.seconds / hosts)),
    composeUpB: spread(of('B').map(composeUpSeconds)),
    runs,
  };
}

export function scalingSummary(points: ScalingPoint[]): ScalingResult {
  const [small, big] = [points[0], points.at(-1)];
  const added = small && big && big.hosts > small.hosts ? big.hosts - small.hosts : Number.NaN;
  const slope = (k: 'a' | 'b') =>
    round(((big?.[k].median ?? Number.NaN) - (small?.[k].median ?? Number.NaN)) / added);
  return { points, addedHostSeconds: { a: slope('a'), b: slope('b') } };
}

/** A and B alternating, `reps` times, on the lab of `size` (brought up by `labOf`). */
export async function scalingRuns(
  t: BenchTemporal,
  labOf: (size: BenchTopology) => Promise<LabHost[]>,
  reps: number,
  artifactsDir: string,
  log: (m: string) => void,
): Promise<ScalingResult> {
  const points: ScalingPoint[] = [];
  for (const size of SCALING_TOPOLOGIES) {
    log(`  scaling: the lab as ${topologyName(size)}...`);
    const hosts = await labOf(size);
    const runs: RunRecord[] = [];
    for (let rep = 1; rep <= reps; rep++)
      for (const variant of ['A', 'B'] as const) {
        const r = await upgradeRep(t, hosts, rep, artifactsDir, variant);
        log(`  scaling ${topologyName(size)} rep ${rep}/${reps}: ${variant} ${r.seconds.toFixed(1)} s`);
        runs.push(r);
      }
    points.push(scalingPoint(size, runs));
  }
  return scalingSummary(points);
}

/** The median per-host seconds of B on each topology, e.g. "1/3/3 2.9 s/host, 1/3/6 2.6 s/host". */
export const perHostLine = (r: ScalingResult, k: 'perHostA' | 'perHostB' = 'perHostB') =>
  r.points.map((p) => `${p.topology} ${p[k].median.toFixed(1)} s/host`).join(', ');
