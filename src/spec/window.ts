import { z } from 'zod';

/** A recurring maintenance window in an IANA time zone; `end` before `start` crosses midnight. */
export const MaintenanceWindow = z
  .strictObject({
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, { message: 'a day is listed twice' }),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM'),
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM'),
    timeZone: z.string().max(64).refine(validTimeZone, 'expected an IANA time zone such as Europe/Rome'),
  })
  .refine((w) => w.start !== w.end, { message: 'start and end must differ', path: ['end'] });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The wall-clock parts of an instant in a time zone. */
function localParts(at: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return {
    y: get('year'),
    m: get('month'),
    d: get('day'),
    h: get('hour'),
    min: get('minute'),
    s: get('second'),
  };
}

/** The instant at which the wall clock in `timeZone` shows y-m-d hh:mm (DST-aware). */
function instantOf(y: number, m: number, d: number, hh: number, mm: number, timeZone: string): number {
  let guess = Date.UTC(y, m - 1, d, hh, mm);
  for (let i = 0; i < 2; i++) {
    const p = localParts(guess, timeZone);
    const shown = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min);
    guess += Date.UTC(y, m - 1, d, hh, mm) - shown;
  }
  return guess;
}

export interface WindowState {
  inside: boolean;
  /** When inside: when this opening closes; outside: when the next opening starts and closes. */
  opensAt: number;
  closesAt: number;
}

/** Where `now` stands relative to the window: inside one opening, or waiting for the next. */
export function windowState(now: number, w: MaintenanceWindow): WindowState {
  const [sh, sm] = w.start.split(':').map(Number) as [number, number];
  const [eh, em] = w.end.split(':').map(Number) as [number, number];
  const crosses = eh * 60 + em <= sh * 60 + sm;
  const today = localParts(now, w.timeZone);
  let best: WindowState | undefined;
  // Openings that started yesterday (crossing midnight) up to a week ahead.
  for (let offset = -1; offset <= 7; offset++) {
    const base = new Date(Date.UTC(today.y, today.m - 1, today.d + offset));
    const day = DAYS[base.getUTCDay()] as (typeof DAYS)[number];
    if (!w.days.includes(day)) continue;
    const opensAt = instantOf(
      base.getUTCFullYear(),
      base.getUTCMonth() + 1,
      base.getUTCDate(),
      sh,
      sm,
      w.timeZone,
    );
    const endBase = new Date(
      Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), base.getUTCDate() + (crosses ? 1 : 0)),
    );
    const closesAt = instantOf(
      endBase.getUTCFullYear(),
      endBase.getUTCMonth() + 1,
      endBase.getUTCDate(),
      eh,
      em,
      w.timeZone,
    );
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
