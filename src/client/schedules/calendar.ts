// The schedule's calendar as an operator writes it (`sun 03:00`, `mon-fri 22:30`) and its time zone,
// checked and turned into a Temporal calendar spec. Errors name the bad part.
import type { CalendarSpec, DayOfWeek, LooseRange } from '@temporalio/client';
import { InputError } from '../errors';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_OF_WEEK: readonly DayOfWeek[] = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
];
const DAYS_HELP =
  'a day (sun, mon, tue, wed, thu, fri, sat), a range like mon-fri, a list like sat,sun, or *';

/** A calendar as `parseCalendar` makes it: days of the week, an hour and a minute. */
export interface ParsedCalendar extends CalendarSpec {
  dayOfWeek: '*' | LooseRange<DayOfWeek>[];
  hour: number;
  minute: number;
}

function dayIndex(spec: string, name: string): number {
  const i = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
  if (i < 0) throw new InputError(`calendar "${spec}": unknown day "${name}"; expected ${DAYS_HELP}`);
  return i;
}

/**
 * `"<days> <hh:mm>"`, e.g. `sun 03:00`, `mon-fri 22:30`, `sat,sun 04:00`, `* 02:15` (every day), as a
 * Temporal calendar spec. A range that wraps (`fri-mon`) is split at Saturday/Sunday. Errors name
 * the bad part.
 */
export function parseCalendar(spec: string): ParsedCalendar {
  const parts = spec.trim().split(/\s+/);
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new InputError(
      `calendar "${spec}": expected "<days> <hh:mm>", e.g. "sun 03:00"; days: ${DAYS_HELP}`,
    );
  }
  const [days, time] = parts as [string, string];

  const t = /^(\d{1,2}):(\d{2})$/.exec(time);
  if (!t) throw new InputError(`calendar "${spec}": time "${time}" is not hh:mm (24-hour), e.g. 03:00`);
  const hour = Number(t[1]);
  const minute = Number(t[2]);
  if (hour > 23) throw new InputError(`calendar "${spec}": hour ${t[1]} in "${time}" is not 00-23`);
  if (minute > 59) throw new InputError(`calendar "${spec}": minute ${t[2]} in "${time}" is not 00-59`);

  if (days === '*') return { dayOfWeek: '*', hour, minute };
  const dayOfWeek: LooseRange<DayOfWeek>[] = [];
  for (const item of days.split(',')) {
    if (item === '')
      throw new InputError(`calendar "${spec}": empty day in "${days}"; expected ${DAYS_HELP}`);
    const range = item.split('-');
    if (range.length > 2)
      throw new InputError(`calendar "${spec}": bad day range "${item}"; expected ${DAYS_HELP}`);
    const start = dayIndex(spec, range[0] as string);
    const end = range.length === 2 ? dayIndex(spec, range[1] as string) : start;
    const at = (i: number) => DAY_OF_WEEK[i] as DayOfWeek;
    if (start === end) dayOfWeek.push(at(start));
    else if (start < end) dayOfWeek.push({ start: at(start), end: at(end) });
    else {
      // fri-mon: fri..sat and sun..mon (Temporal reads a range whose end is before its start as one day).
      dayOfWeek.push(start === 6 ? at(6) : { start: at(start), end: at(6) });
      dayOfWeek.push(end === 0 ? at(0) : { start: at(0), end: at(end) });
    }
  }
  return { dayOfWeek, hour, minute };
}

/** An IANA time zone name as the server loads it (e.g. `Europe/Rome`, `UTC`); anything else is refused. */
export function checkTimeZone(timeZone: string): string {
  const bad = () =>
    new InputError(`time zone "${timeZone}" is not an IANA time zone name such as Europe/Rome or UTC`);
  // Offsets (+01:00) and abbreviations (CET) are not what the server's tz database knows reliably.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) throw bad();
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw bad();
  }
  // `europe/rome` becomes `Europe/Rome`; a valid name ICU maps to another (a link) is kept as given.
  return resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
}
