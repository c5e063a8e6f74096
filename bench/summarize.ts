// From the repetitions to the figures the issue asks for: medians and spread of A and B, B/A, the
// critical path and B's overhead over it; SSH reuse.
import type { RunRecord } from './sections/paired-run';
import { median, round, type Spread, spread } from './stats';

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
  /** B − its critical path, per run: absolute (s), over the critical path, and as a share of B. */
  overheadB: { seconds: Spread; overCriticalPath: number; shareOfWall: number; overPathWithCompose: Spread };
  overheadA: { seconds: Spread };
}

export function summarizePairs(runs: RunRecord[]): PairedSummary {
  const of = (v: 'A' | 'B') => runs.filter((r) => r.variant === v);
  const a = of('A');
  const b = of('B');
  const ratios = b.flatMap((rb) => {
    const ra = a.find((x) => x.rep === rb.rep);
    return ra ? [rb.seconds / ra.seconds] : [];
  });
  const overheadB = b.map((r) => r.seconds - r.criticalPath.total);
  const cpB = b.map((r) => r.criticalPath.total);
  const withCompose = b.map((r) => r.criticalPath.withComposeCli?.total ?? Number.NaN);
  return {
    a: spread(a.map((r) => r.seconds)),
    b: spread(b.map((r) => r.seconds)),
    ratioBA: round(median(b.map((r) => r.seconds)) / median(a.map((r) => r.seconds))),
    ratioPerRep: spread(ratios),
    criticalPathB: spread(cpB),
    criticalPathA: spread(a.map((r) => r.criticalPath.total)),
    criticalPathWithComposeB: spread(withCompose),
    overheadB: {
      seconds: spread(overheadB),
      overCriticalPath: round(median(overheadB) / median(cpB)),
      shareOfWall: round(median(overheadB) / median(b.map((r) => r.seconds))),
      overPathWithCompose: spread(b.map((r, i) => r.seconds - (withCompose[i] as number))),
    },
    overheadA: { seconds: spread(a.map((r) => r.seconds - r.criticalPath.total)) },
  };
}

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
