import { z } from 'zod';
import { ClusterName, SchemaRef } from './common';

/** collectLogs: `logs` of every service on every host into bounded files on the worker (seed G). */
export const CollectLogsInput = z.strictObject({
  $schema: SchemaRef,
  cluster: ClusterName,
  services: z
    .array(z.enum(['waweb', 'master', 'wacore']))
    .min(1)
    .max(3)
    .refine((s) => new Set(s).size === s.length, { message: 'a service is listed twice' })
    .optional(),
  /** docker-compose logs --since: a duration like 2h (1s to 90 days) or an RFC 3339 timestamp. */
  since: z
    .string()
    .regex(
      /^(\d{1,7}[smh]|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?Z?)$/,
      'expected a duration like 2h or a timestamp like 2026-11-30T03:00:00Z',
    )
    .refine(sinceIsSane, 'expected a duration from 1s to 90 days (2160h), or a real date and time')
    .optional(),
  maxBytesPerService: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(5 * 1024 * 1024),
});
/** How far back logs may be asked for: further back than this is a typo, not an incident. */
const MAX_SINCE_S = 90 * 24 * 3600;
const UNIT_S = { s: 1, m: 60, h: 3600 } as const;

/**
 * A duration within 1s..90 days, or a timestamp whose fields are a real date and time (no month 13,
 * no 25 o'clock) in 2000-2099: what passed the pattern but would only fail on the hosts.
 */
function sinceIsSane(since: string): boolean {
  const d = /^(\d+)([smh])$/.exec(since);
  if (d) {
    const seconds = Number(d[1]) * UNIT_S[d[2] as keyof typeof UNIT_S];
    return seconds >= 1 && seconds <= MAX_SINCE_S;
  }
  const t = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(since);
  if (!t) return false;
  const [y, mo, day, h, mi, sec] = [t[1], t[2], t[3], t[4], t[5], t[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const at = new Date(Date.UTC(y, mo - 1, day, h, mi, sec));
  return (
    y >= 2000 &&
    y <= 2099 &&
    at.getUTCMonth() === mo - 1 &&
    at.getUTCDate() === day &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    sec < 60
  );
}

export type CollectLogsInput = z.infer<typeof CollectLogsInput>;
