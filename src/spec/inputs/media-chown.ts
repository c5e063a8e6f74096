import { z } from 'zod';
import { durationIn, durationMsOrNaN } from '../duration';
import { recurringWindowProblems } from '../window';
import { ClusterName, SchemaRef } from './common';

/** mediaChown's input fields that make its recurring window. */
export const MEDIA_WINDOW_FIELDS = { end: 'windowEnd', every: 'resumeAfter' };

/** How far from now `notBefore` and `windowEnd` may be: a window is planned weeks ahead, not years. */
const HORIZON_MS = 90 * 86_400_000;
const Instant = z.iso
  .datetime({ offset: true })
  .refine((t) => Math.abs(Date.parse(t) - Date.now()) <= HORIZON_MS, {
    message: 'must be within 90 days of now',
  });

/**
 * mediaChown: give the media files back to root after 2.29.1/2.29.2 (seed E). The chown's window
 * opens at `notBefore` (or the run's start), closes at `windowEnd` and recurs every `resumeAfter`;
 * the run's start is checked in the workflow, `notBefore` here too.
 */
export const MediaChownInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    /** Stop cleanly at this instant (ISO 8601); a follow-up run resumes in the next window. */
    windowEnd: Instant.optional(),
    /** The window's period: it reopens this long after it opened. Longer than the window. */
    resumeAfter: durationIn('1s', '30d').default('24h'),
    /** When this run's window opens (set for follow-up runs): do not start before it. */
    notBefore: Instant.optional(),
  })
  .superRefine((input, ctx) => {
    const every = durationMsOrNaN(input.resumeAfter);
    if (!input.windowEnd || !input.notBefore || Number.isNaN(every)) return;
    const opening = { opensAt: Date.parse(input.notBefore), closesAt: Date.parse(input.windowEnd) };
    for (const p of recurringWindowProblems(opening, every, MEDIA_WINDOW_FIELDS))
      ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  });
export type MediaChownInput = z.infer<typeof MediaChownInput>;
