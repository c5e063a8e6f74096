// Maintenance windows near now for tests on a real server's clock: windows are whole minutes, so
// a test that needs a window to close and open again soon uses one that is open nearly all day and
// closed for a minute or two, computed in a time zone (wall-clock times, as operators write them).
import { DateTime } from 'luxon';

export const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as (
  | 'mon'
  | 'tue'
  | 'wed'
  | 'thu'
  | 'fri'
  | 'sat'
  | 'sun'
)[];

/** The first whole minute at or after `t`. */
export const nextWholeMinute = (t: number) => Math.ceil(t / 60_000) * 60_000;

/** The wall-clock time `HH:MM` of instant `t` in `zone`. */
export const wallClock = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).toFormat('HH:mm');

/**
 * A window of every day in `zone` that is open now, closes at `closesAt` (a whole minute) and
 * opens again `gapMinutes` later: `start` is after `end`, so each opening crosses midnight and
 * lasts a day less the gap.
 */
export function windowClosingAt(closesAt: number, zone: string, gapMinutes = 1) {
  if (closesAt % 60_000 !== 0) throw new Error('a window closes on a whole minute');
  return {
    days: EVERY_DAY,
    start: wallClock(closesAt + gapMinutes * 60_000, zone),
    end: wallClock(closesAt, zone),
    timeZone: zone,
  };
}
