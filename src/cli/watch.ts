// `watch <id>`: follow a run until it ends: what changed (stage, a host's progress, a gate opened or
// closed, the code awaited, the last error, what a wait saw last), one line each (text) or one JSON
// object each (json, newline-delimited), then how it ended.
import type { Client } from '@temporalio/client';
import { type RunStatus, statusQuery } from '../../workflows/api';
import { InputError } from '../client/errors';
import { oneLine } from '../client/views';
import { Duration, durationMs } from '../model/duration';
import type { Format } from './output';
import { pendingWaits, withoutPollCount } from './wait-progress';

export interface WatchEnd {
  outcome: 'completed' | 'failed' | 'canceled' | 'terminated' | 'timed out';
  result?: unknown;
  failure?: string;
}

export interface WatchOptions {
  format: Format;
  /** How often the run is read, e.g. `2s`. */
  interval: string;
  /** Give up after this long (a run can wait days at a gate; the default is longer than any gate). */
  maxMs?: number;
  print?: (line: string) => void;
}

const MAX_WATCH_MS = 8 * 86_400_000;
const QUERY_TIMEOUT_MS = 5_000;

/** The interval as milliseconds; refused (before any connection) outside 1s..10m. */
export function intervalMs(interval: string): number {
  if (!Duration.safeParse(interval).success || durationMs(interval) < 1_000 || durationMs(interval) > 600_000)
    throw new InputError(`--interval must be a duration between 1s and 10m, got "${interval}"`);
  return durationMs(interval);
}

const OUTCOME: Record<string, WatchEnd['outcome']> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'canceled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed out',
};

/** What changed between two readings, as lines an operator reads. */
export function changes(id: string, before: RunStatus | undefined, now: RunStatus): string[] {
  const lines: string[] = [];
  if (now.stage !== before?.stage) lines.push(`stage: ${now.stage ?? '?'}`);
  for (const w of (now.warnings ?? []).slice(before?.warnings?.length ?? 0))
    lines.push(`warning: ${oneLine(w, 600)}`);
  for (const [host, what] of Object.entries(now.hosts ?? {}))
    if (before?.hosts?.[host] !== what) lines.push(`${host}: ${oneLine(what, 160)}`);
  const wasOpen = new Map((before?.pendingGates ?? []).map((g) => [g.gate, g]));
  for (const g of now.pendingGates ?? []) {
    const was = wasOpen.get(g.gate);
    const count = `${g.approvals?.length ?? 0}/${g.needed ?? '?'}`;
    if (!was || was.plan !== g.plan)
      lines.push(
        `gate ${g.gate} open (${count}, plan ${g.plan?.slice(0, 12) ?? '?'})${g.reopenedBecause ? `, again: ${g.reopenedBecause}` : ''}; approve: waba-runbooks approve ${id} --gate ${g.gate}`,
      );
    else if ((was.approvals?.length ?? 0) !== (g.approvals?.length ?? 0))
      lines.push(`gate ${g.gate}: ${count} (${(g.approvals ?? []).join(', ')})`);
    wasOpen.delete(g.gate);
  }
  for (const gate of wasOpen.keys()) lines.push(`gate ${gate} closed`);
  if (now.awaitingCode && !before?.awaitingCode)
    lines.push(`waiting for the verification code: waba-runbooks code ${id} <code>`);
  if (now.lastError && now.lastError !== before?.lastError)
    lines.push(`last error: ${oneLine(now.lastError)}`);
  return lines;
}

export async function watchRun(client: Client, id: string, o: WatchOptions): Promise<WatchEnd> {
  const every = intervalMs(o.interval);
  const print = o.print ?? ((line: string) => console.log(line));
  const clock = () => new Date().toISOString().slice(11, 19);
  const handle = client.workflow.getHandle(id);
  const until = Date.now() + (o.maxMs ?? MAX_WATCH_MS);
  let last: RunStatus | undefined;
  /** The last reading printed per pending wait (activity id), without its poll count. */
  let waitsSeen = new Map<string, string>();
  for (;;) {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') break;
    const st = await client
      .withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(statusQuery))
      .catch(() => undefined);
    if (st) {
      const lines = changes(id, last, st);
      if (o.format === 'json' && lines.length)
        print(JSON.stringify({ event: 'status', at: new Date().toISOString(), status: st }));
      if (o.format === 'text') for (const line of lines) print(`${clock()}  ${line}`);
      last = st;
    }
    const waits = await pendingWaits(client, described.raw.pendingActivities);
    const now = new Map<string, string>();
    for (const w of waits) {
      const seen = withoutPollCount(w.line);
      now.set(w.activityId, seen);
      if (waitsSeen.get(w.activityId) === seen) continue;
      if (o.format === 'json')
        print(
          JSON.stringify({
            event: 'wait',
            at: new Date().toISOString(),
            activity: w.activity,
            details: w.details,
          }),
        );
      else print(`${clock()}  wait: ${w.line}`);
    }
    waitsSeen = now;
    if (Date.now() + every > until) throw new InputError(`${id} is still running after the watch's limit`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  const end = await ending(client, id);
  if (o.format === 'json') print(JSON.stringify({ event: 'end', at: new Date().toISOString(), ...end }));
  else print(`${clock()}  ${id} ${end.outcome}${end.failure ? `: ${end.failure}` : ''}`);
  return end;
}

/** How the run ended: its result, or the reason it failed. */
async function ending(client: Client, id: string): Promise<WatchEnd> {
  const handle = client.workflow.getHandle(id);
  const { status } = await handle.describe();
  const outcome = OUTCOME[status.name] ?? 'failed';
  try {
    return { outcome, result: await handle.result() };
  } catch (err) {
    const cause = (err as { cause?: { message?: string; cause?: { message?: string } } }).cause;
    return { outcome, failure: oneLine(cause?.cause?.message ?? cause?.message ?? (err as Error).message) };
  }
}
