import { z } from 'zod';

/**
 * Durations as operators write them: `500ms`, `30s`, `15m`, `24h`, `2d`. At most nine digits, so a
 * value like `1e20d` or `99999999999999999999d` is refused rather than overflowing a timer.
 */
const DURATION_PATTERN = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `30s`, `15m`, `24h`, `2d` or `500ms` (no bounds: for trusted configuration). */
export const Duration = z.string().regex(DURATION_PATTERN, 'expected a duration like 30s, 15m, 24h');
export type Duration = z.infer<typeof Duration>;

/** Milliseconds of a {@link Duration}; throws on anything else. */
export function durationMs(d: string): number {
  const match = DURATION_PATTERN.exec(d);
  if (!match) throw new Error(`expected a duration like 30s, 15m, 24h, got "${d.slice(0, 20)}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Milliseconds of a duration, or NaN for anything else (for refinements, which also see bad values). */
export const durationMsOrNaN = (d: unknown): number =>
  typeof d === 'string' && DURATION_PATTERN.test(d) ? durationMs(d) : Number.NaN;

/** A duration between `min` and `max` (inclusive): every duration in a run's input has both. */
export function durationIn(min: string, max: string) {
  const lo = durationMs(min);
  const hi = durationMs(max);
  return Duration.refine(
    (d) => {
      if (!DURATION_PATTERN.test(d)) return true; // the pattern's own message says it
      const ms = durationMs(d);
      return ms >= lo && ms <= hi;
    },
    { message: `expected a duration from ${min} to ${max}` },
  ).meta({ description: `a duration from ${min} to ${max}, like 30s, 15m, 24h` });
}
