// From the repetitions to the figures the issue asks for: medians and spread of A and B (and of B's
// variants, such as B2), each runbook variant over A, the critical path and the overhead over it;
// SSH reuse.
import type { RunRecord, Variant } from './sections/paired-run';
import { median, round, type Spread, spread } from './stats';

/** One runbook variant (B, B2, ...) against A, from its runs and A's. */
export interface VariantSummary {
  wall: Spread;
  /** median(variant) / median(A); below 1: the runbook is faster. */
  ratioToA: number;
  ratioPerRep: Spread;
  /** Seconds; from the lab's timestamps of this variant's runs. */
  criticalPath: Spread;
  /** The critical path with the run's slowest whole `up -d` command (compose CLI included). */
  criticalPathWithCompose: Spread;
  /** Wall − critical path, per run: absolute (s), over the critical path, and as a share of the wall time. */
  overhead: { seconds: Spread; overCriticalPath: number; shareOfWall: number; overPathWithCompose: Spread };
  /**
   * The path with the run's own `up -d` commands in the order it ran them (CriticalPath.inRunOrder),
   * and wall / that path per run: what the orchestration costs beyond the procedure's own order.
   * Absent in results recorded before it existed.
   */
  inRunOrder?: { path: Spread; wallOverPath: Spread };
}

export interface PairedSummary {
  a: Spread;
  b: Spread;
  /** median(B) / median(A); below 1: the runbook is faster. */
  ratioBA: number;
  ratioPerRep: Spread;
  /** Seconds; from the lab's timestamps of the B runs (of the A runs, for comparison). */
  criticalPathB: Spread;
  criticalPathA: Spread;
  /** The B runs' critical path with their slowest whole `up -d` command (compose CLI included). */
  criticalPathWithComposeB: Spread;
  /** B's path in its own order (VariantSummary.inRunOrder); absent in older results. */
  inRunOrderB?: VariantSummary['inRunOrder'];
  /** B − its critical path, per run: absolute (s), over the critical path, and as a share of B. */
  overheadB: VariantSummary['overhead'];
  overheadA: { seconds: Spread };
  /** The runbook's other variants (e.g. B2: another input), each summarised like B; absent when none ran. */
  variants?: Record<string, VariantSummary>;
}

function summarizeVariant(a: RunRecord[], runs: RunRecord[]): VariantSummary {
  const wall = runs.map((r) => r.seconds);
  const ratios = runs.flatMap((r) => {
    const ra = a.find((x) => x.rep === r.rep);
    return ra ? [r.seconds / ra.seconds] : [];
  });
  const cp = runs.map((r) => r.criticalPath.total);
  const overhead = runs.map((r) => r.seconds - r.criticalPath.total);
  const withCompose = runs.map((r) => r.criticalPath.withComposeCli?.total ?? Number.NaN);
  const inOrder = runs.map((r) => r.criticalPath.inRunOrder?.total ?? Number.NaN);
  return {
    wall: spread(wall),
    ratioToA: round(median(wall) / median(a.map((r) => r.seconds))),
    ratioPerRep: spread(ratios),
    criticalPath: spread(cp),
    criticalPathWithCompose: spread(withCompose),
    overhead: {
      seconds: spread(overhead),
      overCriticalPath: round(median(overhead) / median(cp)),
      shareOfWall: round(median(overhead) / median(wall)),
      overPathWithCompose: spread(runs.map((r, i) => r.seconds - (withCompose[i] as number))),
    },
    ...(inOrder.every(Number.isFinite)
      ? {
          inRunOrder: {
            path: spread(inOrder),
            wallOverPath: spread(runs.map((r, i) => r.seconds / (inOrder[i] as number))),
          },
        }
      : {}),
  };
}

export function summarizePairs(runs: RunRecord[]): PairedSummary {
  const of = (v: Variant) => runs.filter((r) => r.variant === v);
  const a = of('A');
  const b = summarizeVariant(a, of('B'));
  const others = [...new Set(runs.map((r) => r.variant))].filter((v) => v !== 'A' && v !== 'B');
  return {
    a: spread(a.map((r) => r.seconds)),
    b: b.wall,
    ratioBA: b.ratioToA,
    ratioPerRep: b.ratioPerRep,
    criticalPathB: b.criticalPath,
    criticalPathA: spread(a.map((r) => r.criticalPath.total)),
    criticalPathWithComposeB: b.criticalPathWithCompose,
    ...(b.inRunOrder ? { inRunOrderB: b.inRunOrder } : {}),
    overheadB: b.overhead,
    overheadA: { seconds: spread(a.map((r) => r.seconds - r.criticalPath.total)) },
    ...(others.length
      ? { variants: Object.fromEntries(others.map((v) => [v, summarizeVariant(a, of(v))])) }
      : {}),
  };
}

/** B's figures of a summary, in the shape of its other variants'. */
export const variantB = (m: PairedSummary): VariantSummary => ({
  wall: m.b,
  ratioToA: m.ratioBA,
  ratioPerRep: m.ratioPerRep,
  criticalPath: m.criticalPathB,
  criticalPathWithCompose: m.criticalPathWithComposeB,
  overhead: m.overheadB,
  ...(m.inRunOrderB ? { inRunOrder: m.inRunOrderB } : {}),
});

export interface SshReuse {
  /** Per haSetup run of B, from the worker's SshPool counters. */
  handshakes: Spread;
  commands: Spread;
  uploads: Spread;
  commandsPerHandshake: number;
  /** Logins the hosts' sshd logs recorded per run: B (should equal its handshakes) and A. */
  sshdLoginsB: Spread;
  sshdLoginsA: Spread;
}

export function summarizeSsh(runs: RunRecord[]): SshReuse {
  const b = runs.filter((r) => r.variant === 'B' && r.sshPool);
  const a = runs.filter((r) => r.variant === 'A');
  const pool = (k: 'handshakes' | 'commands' | 'uploads') => b.map((r) => r.sshPool?.[k] ?? Number.NaN);
  return {
    handshakes: spread(pool('handshakes')),
    commands: spread(pool('commands')),
    uploads: spread(pool('uploads')),
    commandsPerHandshake: round(median(pool('commands')) / median(pool('handshakes')), 1),
    sshdLoginsB: spread(b.map((r) => r.sshLogins)),
    sshdLoginsA: spread(a.map((r) => r.sshLogins)),
  };
}
