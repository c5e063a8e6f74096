import { describe, expect, it } from 'vitest';
import { MediaChownInput, UpgradeInput } from '../../src/model/inputs';
import { MaintenanceWindow, wallClockInstant, windowState } from '../../src/model/window';

const sunday3 = MaintenanceWindow.parse({
  days: ['sun'],
  start: '03:00',
  end: '05:00',
  timeZone: 'Europe/Rome',
});
const iso = (t: number) => new Date(t).toISOString();

describe('maintenance window', () => {
  it('inside: Sunday 03:30 in Rome (winter, UTC+1)', () => {
    const s = windowState(Date.parse('2026-11-29T02:30:00Z'), sunday3);
    expect(s.inside).toBe(true);
    expect(iso(s.closesAt)).toBe('2026-11-29T04:00:00.000Z');
  });

  it('outside: waits for next Sunday 03:00 Rome', () => {
    const s = windowState(Date.parse('2026-11-29T04:00:00Z'), sunday3);
    expect(s).toMatchObject({ inside: false });
    expect(iso(s.opensAt)).toBe('2026-12-06T02:00:00.000Z');
  });

  it('follows daylight saving time (summer, UTC+2)', () => {
    const s = windowState(Date.parse('2026-07-01T00:00:00Z'), sunday3);
    expect(iso(s.opensAt)).toBe('2026-07-05T01:00:00.000Z');
  });

  it('a window crossing midnight', () => {
    const nightly = MaintenanceWindow.parse({
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      start: '23:00',
      end: '01:00',
      timeZone: 'UTC',
    });
    expect(windowState(Date.parse('2026-11-29T00:30:00Z'), nightly)).toMatchObject({ inside: true });
    expect(iso(windowState(Date.parse('2026-11-29T12:00:00Z'), nightly).opensAt)).toBe(
      '2026-11-29T23:00:00.000Z',
    );
  });

  it("upgrade's window.onClose: park by default, or finish; anything else is refused naming it", () => {
    const base = { cluster: 'prod', toVersion: '2.29.3', requestedBy: 'carol' };
    const w = { days: ['sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Rome' };
    expect(UpgradeInput.parse({ ...base, window: w }).window?.onClose).toBe('park');
    expect(UpgradeInput.parse({ ...base, window: { ...w, onClose: 'finish' } }).window?.onClose).toBe(
      'finish',
    );
    const bad = UpgradeInput.safeParse({ ...base, window: { ...w, onClose: 'stop' } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['window.onClose']);
    // mediaChown's window is the plain maintenance window: no onClose (it always stops and resumes).
    const chown = MediaChownInput.safeParse({ cluster: 'prod', window: { ...w, onClose: 'park' } });
    expect(chown.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'window: Unrecognized key: "onClose"',
    ]);
  });

  it('names bad fields', () => {
    const r = MaintenanceWindow.safeParse({
      days: ['sunday'],
      start: '3:00',
      end: '05:00',
      timeZone: 'Mars/Base',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['days.0', 'start', 'timeZone']);
  });
});

/**
 * Daylight-saving transitions in 2026 (local times):
 * - Europe/Rome: spring forward Sun 29 Mar 02:00 CET -> 03:00 CEST; fall back Sun 25 Oct 03:00 CEST -> 02:00 CET.
 * - America/New_York: spring forward Sun 8 Mar 02:00 EST -> 03:00 EDT; fall back Sun 1 Nov 02:00 EDT -> 01:00 EST.
 * - Australia/Sydney: spring forward Sun 4 Oct 02:00 AEST -> 03:00 AEDT; fall back Sun 5 Apr 03:00 AEDT -> 02:00 AEST.
 * - Australia/Lord_Howe (half-hour DST): spring forward Sun 4 Oct 02:00 +10:30 -> 02:30 +11;
 *   fall back Sun 5 Apr 02:00 +11 -> 01:30 +10:30.
 *
 * Rules: a start (or end) in the missing hour is the first valid instant after the gap; a start
 * (or end) in the repeated hour is its first occurrence; openings crossing midnight follow the
 * same rules on the next day. `old` is what the hand-made arithmetic this replaced (a guess
 * corrected twice with Intl) answered, where it differed: in zones west of UTC it moved a start in
 * the missing hour back an hour, in zones east of UTC it moved it forward by the gap's length
 * (not to the gap's end), and it took the second occurrence of a repeated time east of UTC.
 */
interface Case {
  name: string;
  now: string;
  zone: string;
  days: ('sat' | 'sun')[];
  start: string;
  end: string;
  opensAt: string;
  closesAt: string;
  /** The replaced implementation's opening, when it differed: `opensAt - closesAt` (UTC). */
  old?: string;
}

const CASES: Case[] = [
  // Europe/Rome (UTC+1 / +2)
  {
    name: 'Rome spring forward: sun 02:30 (missing) opens at 03:00 CEST',
    now: '2026-03-28T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sun'],
    start: '02:30',
    end: '04:00',
    opensAt: '2026-03-29T01:00:00.000Z',
    closesAt: '2026-03-29T02:00:00.000Z',
    old: '2026-03-29T01:30:00.000Z - 2026-03-29T02:00:00.000Z (03:30 CEST)',
  },
  {
    name: 'Rome spring forward: an end at 02:30 (missing) ends at 03:00 CEST',
    now: '2026-03-28T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sun'],
    start: '01:00',
    end: '02:30',
    opensAt: '2026-03-29T00:00:00.000Z',
    closesAt: '2026-03-29T01:00:00.000Z',
    old: '2026-03-29T00:00:00.000Z - 2026-03-29T01:30:00.000Z (ended 03:30 CEST)',
  },
  {
    name: 'Rome spring forward, crossing midnight: sat 23:00-02:30 ends at 03:00 CEST',
    now: '2026-03-28T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sat'],
    start: '23:00',
    end: '02:30',
    opensAt: '2026-03-28T22:00:00.000Z',
    closesAt: '2026-03-29T01:00:00.000Z',
    old: '2026-03-28T22:00:00.000Z - 2026-03-29T01:30:00.000Z (ended 03:30 CEST)',
  },
  {
    name: 'Rome fall back: sun 02:30 (repeated) opens at the first 02:30 (CEST)',
    now: '2026-10-24T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sun'],
    start: '02:30',
    end: '04:00',
    opensAt: '2026-10-25T00:30:00.000Z',
    closesAt: '2026-10-25T03:00:00.000Z',
    old: '2026-10-25T01:30:00.000Z - 2026-10-25T03:00:00.000Z (the second 02:30, CET)',
  },
  {
    name: 'Rome fall back: an end at 02:30 (repeated) is the first 02:30',
    now: '2026-10-24T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sun'],
    start: '01:00',
    end: '02:30',
    opensAt: '2026-10-24T23:00:00.000Z',
    closesAt: '2026-10-25T00:30:00.000Z',
    old: '2026-10-24T23:00:00.000Z - 2026-10-25T01:30:00.000Z (the second 02:30)',
  },
  {
    name: 'Rome fall back, crossing midnight: sat 23:00-02:30 ends at the first 02:30',
    now: '2026-10-24T12:00:00Z',
    zone: 'Europe/Rome',
    days: ['sat'],
    start: '23:00',
    end: '02:30',
    opensAt: '2026-10-24T21:00:00.000Z',
    closesAt: '2026-10-25T00:30:00.000Z',
    old: '2026-10-24T21:00:00.000Z - 2026-10-25T01:30:00.000Z (the second 02:30)',
  },
  // America/New_York (UTC-5 / -4)
  {
    name: 'New York spring forward: sun 02:30 (missing) opens at 03:00 EDT',
    now: '2026-03-08T00:00:00Z',
    zone: 'America/New_York',
    days: ['sun'],
    start: '02:30',
    end: '04:00',
    opensAt: '2026-03-08T07:00:00.000Z',
    closesAt: '2026-03-08T08:00:00.000Z',
    old: '2026-03-08T06:30:00.000Z - 2026-03-08T08:00:00.000Z (01:30 EST, an hour early)',
  },
  {
    name: 'New York spring forward: an end at 02:30 (missing) ends at 03:00 EDT',
    now: '2026-03-08T00:00:00Z',
    zone: 'America/New_York',
    days: ['sun'],
    start: '01:00',
    end: '02:30',
    opensAt: '2026-03-08T06:00:00.000Z',
    closesAt: '2026-03-08T07:00:00.000Z',
    old: '2026-03-08T06:00:00.000Z - 2026-03-08T06:30:00.000Z (ended 01:30 EST)',
  },
  {
    name: 'New York spring forward, crossing midnight: sat 23:00-02:30 ends at 03:00 EDT',
    now: '2026-03-07T12:00:00Z',
    zone: 'America/New_York',
    days: ['sat'],
    start: '23:00',
    end: '02:30',
    opensAt: '2026-03-08T04:00:00.000Z',
    closesAt: '2026-03-08T07:00:00.000Z',
    old: '2026-03-08T04:00:00.000Z - 2026-03-08T06:30:00.000Z (ended 01:30 EST)',
  },
  {
    name: 'New York spring forward, crossing midnight: sat 23:30-03:30 (after the gap)',
    now: '2026-03-07T12:00:00Z',
    zone: 'America/New_York',
    days: ['sat'],
    start: '23:30',
    end: '03:30',
    opensAt: '2026-03-08T04:30:00.000Z',
    closesAt: '2026-03-08T07:30:00.000Z',
  },
  {
    name: 'New York fall back: sun 01:30 (repeated) opens at the first 01:30 (EDT)',
    now: '2026-11-01T00:00:00Z',
    zone: 'America/New_York',
    days: ['sun'],
    start: '01:30',
    end: '03:00',
    opensAt: '2026-11-01T05:30:00.000Z',
    closesAt: '2026-11-01T08:00:00.000Z',
  },
  {
    name: 'New York fall back: an end at 01:30 (repeated) is the first 01:30',
    now: '2026-11-01T00:00:00Z',
    zone: 'America/New_York',
    days: ['sun'],
    start: '00:30',
    end: '01:30',
    opensAt: '2026-11-01T04:30:00.000Z',
    closesAt: '2026-11-01T05:30:00.000Z',
  },
  {
    name: 'New York fall back, crossing midnight: sat 23:00-01:30 ends at the first 01:30',
    now: '2026-10-31T12:00:00Z',
    zone: 'America/New_York',
    days: ['sat'],
    start: '23:00',
    end: '01:30',
    opensAt: '2026-11-01T03:00:00.000Z',
    closesAt: '2026-11-01T05:30:00.000Z',
  },
  // Australia/Sydney (UTC+10 / +11)
  {
    name: 'Sydney spring forward: sun 02:30 (missing) opens at 03:00 AEDT',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sun'],
    start: '02:30',
    end: '04:00',
    opensAt: '2026-10-03T16:00:00.000Z',
    closesAt: '2026-10-03T17:00:00.000Z',
    old: '2026-10-03T16:30:00.000Z - 2026-10-03T17:00:00.000Z (03:30 AEDT)',
  },
  {
    name: 'Sydney spring forward: an end at 02:30 (missing) ends at 03:00 AEDT',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sun'],
    start: '01:00',
    end: '02:30',
    opensAt: '2026-10-03T15:00:00.000Z',
    closesAt: '2026-10-03T16:00:00.000Z',
    old: '2026-10-03T15:00:00.000Z - 2026-10-03T16:30:00.000Z (ended 03:30 AEDT)',
  },
  {
    name: 'Sydney spring forward, crossing midnight: sat 23:00-02:30 ends at 03:00 AEDT',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sat'],
    start: '23:00',
    end: '02:30',
    opensAt: '2026-10-03T13:00:00.000Z',
    closesAt: '2026-10-03T16:00:00.000Z',
    old: '2026-10-03T13:00:00.000Z - 2026-10-03T16:30:00.000Z (ended 03:30 AEDT)',
  },
  {
    name: 'Sydney fall back: sun 02:30 (repeated) opens at the first 02:30 (AEDT)',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sun'],
    start: '02:30',
    end: '04:00',
    opensAt: '2026-04-04T15:30:00.000Z',
    closesAt: '2026-04-04T18:00:00.000Z',
    old: '2026-04-04T16:30:00.000Z - 2026-04-04T18:00:00.000Z (the second 02:30, AEST)',
  },
  {
    name: 'Sydney fall back: an end at 02:30 (repeated) is the first 02:30',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sun'],
    start: '01:00',
    end: '02:30',
    opensAt: '2026-04-04T14:00:00.000Z',
    closesAt: '2026-04-04T15:30:00.000Z',
    old: '2026-04-04T14:00:00.000Z - 2026-04-04T16:30:00.000Z (the second 02:30)',
  },
  {
    name: 'Sydney fall back, crossing midnight: sat 23:00-02:30 ends at the first 02:30',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Sydney',
    days: ['sat'],
    start: '23:00',
    end: '02:30',
    opensAt: '2026-04-04T12:00:00.000Z',
    closesAt: '2026-04-04T15:30:00.000Z',
    old: '2026-04-04T12:00:00.000Z - 2026-04-04T16:30:00.000Z (the second 02:30)',
  },
  // Australia/Lord_Howe (UTC+10:30 / +11: a half-hour change)
  {
    name: 'Lord Howe spring forward: sun 02:15 (missing half hour) opens at 02:30 +11',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sun'],
    start: '02:15',
    end: '04:00',
    opensAt: '2026-10-03T15:30:00.000Z',
    closesAt: '2026-10-03T17:00:00.000Z',
    old: '2026-10-03T15:45:00.000Z - 2026-10-03T17:00:00.000Z (02:45 +11)',
  },
  {
    name: 'Lord Howe spring forward: an end at 02:15 (missing) ends at 02:30 +11',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sun'],
    start: '01:00',
    end: '02:15',
    opensAt: '2026-10-03T14:30:00.000Z',
    closesAt: '2026-10-03T15:30:00.000Z',
    old: '2026-10-03T14:30:00.000Z - 2026-10-03T15:45:00.000Z (ended 02:45 +11)',
  },
  {
    name: 'Lord Howe spring forward, crossing midnight: sat 23:00-02:15 ends at 02:30 +11',
    now: '2026-10-03T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sat'],
    start: '23:00',
    end: '02:15',
    opensAt: '2026-10-03T12:30:00.000Z',
    closesAt: '2026-10-03T15:30:00.000Z',
    old: '2026-10-03T12:30:00.000Z - 2026-10-03T15:45:00.000Z (ended 02:45 +11)',
  },
  {
    name: 'Lord Howe fall back: sun 01:45 (repeated half hour) opens at the first 01:45 (+11)',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sun'],
    start: '01:45',
    end: '04:00',
    opensAt: '2026-04-04T14:45:00.000Z',
    closesAt: '2026-04-04T17:30:00.000Z',
    old: '2026-04-04T15:15:00.000Z - 2026-04-04T17:30:00.000Z (the second 01:45, +10:30)',
  },
  {
    name: 'Lord Howe fall back: an end at 01:45 (repeated) is the first 01:45',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sun'],
    start: '01:00',
    end: '01:45',
    opensAt: '2026-04-04T14:00:00.000Z',
    closesAt: '2026-04-04T14:45:00.000Z',
    old: '2026-04-04T14:00:00.000Z - 2026-04-04T15:15:00.000Z (the second 01:45)',
  },
  {
    name: 'Lord Howe fall back, crossing midnight: sat 23:00-01:45 ends at the first 01:45',
    now: '2026-04-04T00:00:00Z',
    zone: 'Australia/Lord_Howe',
    days: ['sat'],
    start: '23:00',
    end: '01:45',
    opensAt: '2026-04-04T12:00:00.000Z',
    closesAt: '2026-04-04T14:45:00.000Z',
    old: '2026-04-04T12:00:00.000Z - 2026-04-04T15:15:00.000Z (the second 01:45)',
  },
];

describe('maintenance window across daylight-saving changes', () => {
  for (const c of CASES) {
    it(`${c.name}${c.old ? ` [old: ${c.old}]` : ''}`, () => {
      const w = MaintenanceWindow.parse({ days: c.days, start: c.start, end: c.end, timeZone: c.zone });
      const s = windowState(Date.parse(c.now), w);
      expect({ inside: s.inside, opensAt: iso(s.opensAt), closesAt: iso(s.closesAt) }).toEqual({
        inside: false,
        opensAt: c.opensAt,
        closesAt: c.closesAt,
      });
      // Inside from its first instant to the one before it closes; closed at its end.
      const at = (t: number) => windowState(t, w);
      expect(at(s.opensAt)).toEqual({ inside: true, opensAt: s.opensAt, closesAt: s.closesAt });
      expect(at(s.closesAt - 1)).toMatchObject({ inside: true, opensAt: s.opensAt });
      expect(at(s.closesAt).inside).toBe(false);
      expect(at(s.opensAt - 1).inside).toBe(false);
    });
  }

  it('New York fall back: a run in the second 01:45 (EST) is still inside sun 01:30-03:00 opened at the first 01:30', () => {
    const w = MaintenanceWindow.parse({
      days: ['sun'],
      start: '01:30',
      end: '03:00',
      timeZone: 'America/New_York',
    });
    const s = windowState(Date.parse('2026-11-01T06:45:00Z'), w);
    expect(s).toEqual({
      inside: true,
      opensAt: Date.parse('2026-11-01T05:30:00Z'),
      closesAt: Date.parse('2026-11-01T08:00:00Z'),
    });
  });

  it('an opening that lies wholly in the missing hour (New York sun 02:10-02:40 on 8 Mar) is skipped for the next one [old: 2026-03-08T06:10:00.000Z - 06:40:00.000Z, 01:10-01:40 EST]', () => {
    const w = MaintenanceWindow.parse({
      days: ['sun'],
      start: '02:10',
      end: '02:40',
      timeZone: 'America/New_York',
    });
    const s = windowState(Date.parse('2026-03-08T00:00:00Z'), w);
    expect({ opensAt: iso(s.opensAt), closesAt: iso(s.closesAt) }).toEqual({
      opensAt: '2026-03-15T06:10:00.000Z',
      closesAt: '2026-03-15T06:40:00.000Z',
    });
  });

  it('wallClockInstant: ordinary, missing and repeated wall-clock times', () => {
    const date = (year: number, month: number, day: number) => ({ year, month, day });
    // Ordinary: the one instant.
    expect(iso(wallClockInstant(date(2026, 6, 1), 12, 0, 'America/New_York'))).toBe(
      '2026-06-01T16:00:00.000Z',
    );
    // Missing: the end of the gap, whichever minute of the gap was asked for.
    for (const minute of [0, 1, 30, 59])
      expect(iso(wallClockInstant(date(2026, 3, 8), 2, minute, 'America/New_York'))).toBe(
        '2026-03-08T07:00:00.000Z',
      );
    // Repeated: the first of the two instants.
    expect(iso(wallClockInstant(date(2026, 11, 1), 1, 0, 'America/New_York'))).toBe(
      '2026-11-01T05:00:00.000Z',
    );
    expect(iso(wallClockInstant(date(2026, 11, 1), 1, 59, 'America/New_York'))).toBe(
      '2026-11-01T05:59:00.000Z',
    );
    // Right after the repeated hour: one instant again (EST).
    expect(iso(wallClockInstant(date(2026, 11, 1), 2, 0, 'America/New_York'))).toBe(
      '2026-11-01T07:00:00.000Z',
    );
  });
});
