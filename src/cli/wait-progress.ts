// What a run's waits (a health gate, containers reaching running) last saw. They poll inside one
// activity and report each reading only in its heartbeat details (the workflow sees the end): read
// from the run's pending activities, decoded with the client's data converter (the payload codec).
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { temporal } from '@temporalio/proto';
import { oneLine } from '../client/views';

type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/** One pending wait: its activity id and type, the details it reported last, and them in words. */
export interface WaitReading {
  activityId: string;
  activity: string;
  details: unknown;
  line: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

/**
 * A wait's last reading in words, or undefined for heartbeats that are not a poll's (a host step's
 * heartbeat says only what it runs, which `status` already shows).
 */
export function waitLine(details: unknown): string | undefined {
  if (!isRecord(details) || typeof details.poll !== 'number') return undefined;
  const parts: string[] = [];
  if (typeof details.what === 'string') {
    // A health wait: what it waits for, and the verdict with its reasons.
    const summary = isRecord(details.summary) ? details.summary : undefined;
    const verdict = typeof summary?.verdict === 'string' ? summary.verdict : undefined;
    const reasons = strings(summary?.reasons);
    parts.push(
      `health "${details.what}": ${verdict ?? 'no answer yet'}${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
    );
  }
  const missing = strings(details.missing);
  if (Array.isArray(details.missing))
    parts.push(missing.length ? `not running yet: ${missing.join(', ')}` : 'every container running');
  if (typeof details.error === 'string') parts.push(`last error: ${details.error}`);
  if (isRecord(details.errors))
    for (const [host, message] of Object.entries(details.errors))
      if (typeof message === 'string') parts.push(`${host}: ${message}`);
  if (parts.length === 0) return undefined;
  return oneLine(`${parts.join('; ').replace(/\s+/g, ' ')} (poll ${details.poll})`, 400);
}

/** Without the poll count: a reading that only counted one more poll is not news. */
export const withoutPollCount = (line: string): string => line.replace(/ \(poll \d+\)$/, '');

/** The run's pending waits that reported a reading, in the order Temporal lists them. */
export async function pendingWaits(
  client: Client,
  pending: PendingActivity[] | null | undefined,
): Promise<WaitReading[]> {
  const out: WaitReading[] = [];
  for (const a of pending ?? []) {
    const payloads = a.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    let details: unknown;
    let line: string | undefined;
    try {
      details = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, payloads);
      line = waitLine(details);
    } catch (err) {
      // Said once rather than skipped: most often an encrypted reading and no codec key here.
      line = oneLine(
        `reading not decodable here (${err instanceof Error ? err.message : String(err)}); ` +
          'is WABA_CODEC_KEYS set as on the worker?',
        400,
      );
    }
    if (line)
      out.push({
        activityId: a.activityId ?? '',
        activity: a.activityType?.name ?? 'activity',
        details,
        line,
      });
  }
  return out;
}
