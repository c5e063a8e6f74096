import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

/** The fields of a recurring maintenance window (see {@link MaintenanceWindow}). */
export const maintenanceWindowShape = {
  days: z
    .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
    .min(1)
    .max(7)
    .refine((d) => new Set(d).size === d.length, { message: 'a day is listed twice' })
    .meta({ description: 'the days on which an opening starts (1 to 7, each once), in timeZone' }),
  start: HHMM.meta({ description: 'wall-clock time the window opens (HH:MM, in timeZone)' }),
  end: HHMM.meta({
    description:
      'wall-clock time it closes (HH:MM, different from start; earlier than start crosses midnight)',
  }),
  timeZone: z
    .string()
    .max(64)
    .refine(validTimeZone, 'expected an IANA time zone such as Europe/Rome')
    .meta({ description: 'an IANA time zone such as Europe/Rome' }),
};

/** A window schema with its cross-field rule: `start` and `end` must differ. */
export function windowChecked<T extends z.ZodType<{ start: string; end: string }>>(schema: T): T {
  return schema.refine((w) => w.start !== w.end, { message: 'start and end must differ', path: ['end'] });
}

/** A recurring maintenance window in an IANA time zone; `end` before `start` crosses midnight. */
export const MaintenanceWindow = windowChecked(z.strictObject(maintenanceWindowShape));
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

function validTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** A calendar date, without a zone. */
interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/**
 * The first instant at which the wall clock in `zone` reads `hour:minute` of `date` or later:
 * - an ordinary time: that instant;
 * - a time the clock shows twice (the repeated hour when it goes back): the first of the two;
 * - a time the clock skips (the missing hour when it goes forward): the end of the gap, the first
 *   valid instant after it (New York `02:30` on its spring-forward day opens at 03:00 EDT, Lord
 *   Howe `02:15` at 02:30 +11).
 * Zone data and offsets are luxon's (the platform's IANA database through Intl).
 */
export function wallClockInstant(date: CalendarDate, hour: number, minute: number, zone: string): number {
  const at = DateTime.fromObject({ ...date, hour, minute }, { zone });
  if (!at.isValid) throw new Error(`no such wall-clock time ${at.invalidExplanation ?? ''} in ${zone}`);
  const shown = at
    .getPossibleOffsets()
    .filter((c) => c.day === date.day && c.hour === hour && c.minute === minute);
  if (shown.length > 0) return Math.min(...shown.map((c) => c.toMillis()));
  // In a gap: luxon moved the time forward by the gap's length, past the transition. The
  // transition lies between the wall time read with the new offset and `at`: find it (to the second).
  const naive = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const tz = at.zone;
  const after = tz.offset(at.toMillis());
  let lo = Math.floor((naive - after * MINUTE) / 1000); // before the transition (old offset)
  let hi = Math.ceil(at.toMillis() / 1000); // after it (new offset)
  if (tz.offset(lo * 1000) === after) return at.toMillis();
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tz.offset(mid * 1000) === after) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

export interface WindowState {
  inside: boolean;
  /** When inside: when this opening closes; outside: when the next opening starts and closes. */
  opensAt: number;
  closesAt: number;
}

/**
 * Where `now` stands relative to the window: inside one opening, or waiting for the next. Each
 * opening starts at `start` on one of `days` and ends at the next `end` (the next day when `end`
 * is not after `start`), both wall-clock times in `timeZone` read by {@link wallClockInstant}; an
 * opening that a daylight-saving change leaves empty (start and end in the same gap) is skipped.
 */
export function windowState(now: number, w: MaintenanceWindow): WindowState {
  const [sh, sm] = w.start.split(':').map(Number) as [number, number];
  const [eh, em] = w.end.split(':').map(Number) as [number, number];
  const crosses = eh * 60 + em <= sh * 60 + sm;
  const today = DateTime.fromMillis(now, { zone: w.timeZone });
  if (!today.isValid) throw new Error(`unknown time zone ${w.timeZone}`);
  // Calendar arithmetic on dates alone (no zone): the day before, today, and 8 days ahead (a week,
  // and one more day for the next opening after one a daylight-saving change left empty).
  const todayDate = Date.UTC(today.year, today.month - 1, today.day);
  const dateAt = (offset: number): CalendarDate & { weekday: number } => {
    const d = DateTime.fromMillis(todayDate + offset * DAY, { zone: 'utc' });
    return { year: d.year, month: d.month, day: d.day, weekday: d.weekday };
  };
  let best: WindowState | undefined;
  for (let offset = -1; offset <= 8; offset++) {
    const { weekday, ...date } = dateAt(offset);
    if (!w.days.includes(DAYS[weekday - 1] as (typeof DAYS)[number])) continue;
    const { weekday: _, ...endDate } = dateAt(offset + (crosses ? 1 : 0));
    const opensAt = wallClockInstant(date, sh, sm, w.timeZone);
    const closesAt = wallClockInstant(endDate, eh, em, w.timeZone);
    if (closesAt <= opensAt) continue;
    if (now >= opensAt && now < closesAt) return { inside: true, opensAt, closesAt };
    if (opensAt > now && (!best || opensAt < best.opensAt)) best = { inside: false, opensAt, closesAt };
  }
  if (!best) throw new Error('the maintenance window never opens');
  return best;
}

/** One opening of a window that recurs every `everyMs`: [opensAt, closesAt). */
export interface Opening {
  opensAt: number;
  closesAt: number;
}

/**
 * The next opening of a window that recurs every `everyMs` whose end is still ahead of `now`: the
 * same length as `current`, shifted by a whole number of periods (at least one). Its start may be
 * past already (a late follow-up): then it is open now.
 */
export function nextOpening(current: Opening, everyMs: number, now: number): Opening {
  if (!(everyMs > 0)) throw new Error('the period of a recurring window must be positive');
  const periods = Math.max(1, Math.floor((now - current.closesAt) / everyMs) + 1);
  return {
    opensAt: current.opensAt + periods * everyMs,
    closesAt: current.closesAt + periods * everyMs,
  };
}

/**
 * What is wrong with a recurring window: its end must come after its start, and its period must be
 * longer than it (or the next opening would start before this one closes). `fields` name the input
 * fields of the end and the period in the problems.
 */
export function recurringWindowProblems(
  opening: Opening,
  everyMs: number,
  fields: { end: string; every: string },
): { path: string; message: string }[] {
  const length = opening.closesAt - opening.opensAt;
  if (length <= 0)
    return [{ path: fields.end, message: `must be after the window's start ${iso(opening.opensAt)}` }];
  if (everyMs <= length)
    return [
      {
        path: fields.every,
        message: `must be longer than the window (${Math.round(length / 1000)} s, ${iso(opening.opensAt)} to ${iso(opening.closesAt)}): the window recurs every ${fields.every}`,
      },
    ];
  return [];
}

const iso = (t: number) => new Date(t).toISOString();
