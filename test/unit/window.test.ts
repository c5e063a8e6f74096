import { describe, expect, it } from 'vitest';
import { MaintenanceWindow, windowState } from '../../src/spec/window';

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
