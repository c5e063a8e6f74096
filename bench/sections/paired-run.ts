// One measured repetition of A (the operator's script) or B (the runbook): the lab's health watched
// throughout, wall time, SSH logins the hosts saw, and the critical path from the lab's timestamps.

import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHost } from '../../lab/paths';
import type { CriticalPath } from '../critical-path';
import { type HealthState, watchHealth } from '../health-watch';
import type { RunBreakdown } from '../history';
import { sshdLogins } from '../sshd-logins';
import { round } from '../stats';

/** A = the operator's script; B = the runbook with the bench's input; B2, ... = the same runbook, input patched. */
export type Variant = 'A' | 'B' | `B${number}`;

const WATCH_GRACE_MS = 1500;

export interface RunRecord {
  variant: Variant;
  rep: number;
  seconds: number;
  criticalPath: CriticalPath;
  /** SSH logins the lab's sshd logs show during the run. */
  sshLogins: number;
  /** Runbook runs only: the worker's SSH pool counters for this run. */
  sshPool?: { handshakes: number; commands: number; uploads: number };
  /** Runbook runs only: where the wall time went (activities by type, and the rest). */
  breakdown?: RunBreakdown;
}

export async function measuredRun(
  hosts: LabHost[],
  variant: Variant,
  rep: number,
  run: () => Promise<number>,
  criticalPath: (timeline: HealthState[], window: { from: number; to: number }) => Promise<CriticalPath>,
): Promise<RunRecord> {
  const watch = await watchHealth();
  const loginsBefore = sshdLogins(hosts);
  const from = Date.now();
  let timeline: HealthState[] = [];
  let seconds: number;
  try {
    seconds = await run();
  } finally {
    // A run may end within a poll of the cluster converging (its gates poll every 250 ms): keep
    // watching a moment, so the state that ended it is seen (the run's time is already taken).
    await sleep(WATCH_GRACE_MS);
    timeline = await watch.stop();
  }
  const to = Date.now();
  const cp = await criticalPath(timeline, { from, to });
  return {
    variant,
    rep,
    seconds: round(seconds),
    criticalPath: {
      ...cp,
      slowestUp: round(cp.slowestUp),
      convergence: round(cp.convergence),
      total: round(cp.total),
      ...(cp.dbUpgradeJob === undefined ? {} : { dbUpgradeJob: round(cp.dbUpgradeJob) }),
    },
    sshLogins: sshdLogins(hosts) - loginsBefore,
  };
}
