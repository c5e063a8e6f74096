// What a health gate waits for, as data: the workflow sends it to the activity that polls
// GET /v1/health (activities/health-wait.ts), which evaluates it with `healthHolds`. Pure code,
// shared by workflows, activities and tests.
import { coreapps, rejoined, tookOver } from './drill';
import type { HealthSummary } from './health';
import type { ClusterRef } from './inventory';

/**
 * Every field given must hold (an empty condition holds for any answer). Verdicts are matched
 * exactly, except that `multiconnect-connected` alone stands for any `multiconnect-connected:<n>`.
 */
export interface HealthCondition {
  /** The verdict is one of these. */
  verdictIn?: string[];
  /** The verdict is none of these. */
  verdictNotIn?: string[];
  /** At least this many Coreapps connected. */
  minConnectedCoreapps?: number;
  /** Exactly this many Coreapps connected. */
  connectedCoreapps?: number;
  /** No node reports a problem (the summary gives no reason). */
  noReasons?: boolean;
  /** These health names (host part of the key) are listed as standby Coreapps (`disconnected`). */
  standby?: string[];
  /** haDrill: as many Coreapps connected as before, none of them `target` (see `tookOver`). */
  tookOver?: { target: string; connectedBefore: number };
  /** haDrill: `target` back as a standby, as many Coreapps connected as before (see `rejoined`). */
  rejoined?: { target: string; connectedBefore: number };
  /** At least one of these holds. */
  anyOf?: HealthCondition[];
}

const verdictMatches = (verdict: string, pattern: string): boolean =>
  verdict === pattern || (!pattern.includes(':') && verdict.startsWith(`${pattern}:`));

/** Does the health reading satisfy the condition? */
export function healthHolds(c: HealthCondition, s: HealthSummary): boolean {
  if (c.verdictIn && !c.verdictIn.some((p) => verdictMatches(s.verdict, p))) return false;
  if (c.verdictNotIn?.some((p) => verdictMatches(s.verdict, p))) return false;
  if (c.minConnectedCoreapps !== undefined && s.connectedCoreapps < c.minConnectedCoreapps) return false;
  if (c.connectedCoreapps !== undefined && s.connectedCoreapps !== c.connectedCoreapps) return false;
  if (c.noReasons && s.reasons.length > 0) return false;
  if (c.standby) {
    const standby = coreapps(s).standby;
    if (!c.standby.every((n) => standby.includes(n))) return false;
  }
  if (c.tookOver && !tookOver(s, c.tookOver.target, c.tookOver.connectedBefore)) return false;
  if (c.rejoined && !rejoined(s, c.rejoined.target, c.rejoined.connectedBefore)) return false;
  if (c.anyOf && !c.anyOf.some((sub) => healthHolds(sub, s))) return false;
  return true;
}

/** What the health wait activity (`waitWabaHealth`) is asked. */
export interface HealthWaitRequest {
  cluster: ClusterRef;
  /** The condition in words, for the failure message (`health did not reach "<what>" within ...`). */
  what: string;
  condition: HealthCondition;
  /** The gate's deadline as the run's input wrote it, for the failure message. */
  deadline: string;
  /**
   * The deadline as an instant (ms since the epoch), computed once by the workflow: a retried attempt
   * waits only for what is left of it. The wait polls at least once, even past it.
   */
  until: number;
  /** A fixed interval between polls (ms) instead of the backoff schedule (src/model/poll.ts). */
  everyMs?: number;
  /** Return every reading that differed from the one before (`seen`), e.g. for a drill's timeline. */
  record?: boolean;
}

/** One health reading and when it was read (the worker's clock, ms since the epoch). */
export interface HealthReading {
  at: number;
  summary: HealthSummary;
}

/** At most this many readings in `seen` (the first ones, then the last); the result stays small. */
export const MAX_SEEN = 50;

export interface HealthWaitResult {
  /** The reading that satisfied the condition. */
  summary: HealthSummary;
  /** When it was read (the worker's clock, ms since the epoch). */
  metAt: number;
  /** GET /v1/health requests made by this attempt, failed ones included. */
  polls: number;
  /** With `record`: the readings that differed from the one before, in order, the last one included. */
  seen?: HealthReading[];
}
