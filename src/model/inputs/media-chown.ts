import { z } from 'zod';
import { durationIn, durationMsOrNaN } from '../duration';
import { MaintenanceWindow, recurringWindowProblems } from '../window';
import { ClusterLockFields, ClusterName, lockWaitNeedsWait, SchemaRef } from './common';

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
 * is either recurring (it opens at `notBefore` or the run's start, closes at `windowEnd` and
 * recurs every `resumeAfter`; the run's start is checked in the workflow, `notBefore` here too) or
 * a maintenance window (`window`, the upgrade's kind: days, wall-clock times and a time zone; an
 * upgrade passes its own to the chown it starts).
 */
export const MediaChownInput = z
  .strictObject({
    $schema: SchemaRef,
    cluster: ClusterName,
    ...ClusterLockFields,
    /** Stop cleanly at this instant (ISO 8601); a follow-up run resumes in the next window. */
    windowEnd: Instant.optional(),
    /** The window's period: it reopens this long after it opened. Longer than the window. */
    resumeAfter: durationIn('1s', '30d').default('24h'),
    /** When this run's window opens (set for follow-up runs): do not start before it. */
    notBefore: Instant.optional(),
    /** A maintenance window instead of windowEnd/notBefore: the chown runs only in its openings. */
    window: MaintenanceWindow.optional().meta({
      description:
        "a maintenance window ({days, start, end, timeZone}, as upgrade's): the chown runs only inside its openings, stops when one closes and resumes in the next; not with windowEnd or notBefore (resumeAfter does not apply)",
    }),
  })
  .superRefine((input, ctx) => {
    if (input.window)
      for (const field of ['windowEnd', 'notBefore'] as const)
        if (input[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: 'not with window: the maintenance window says when the chown runs',
          });
    const every = durationMsOrNaN(input.resumeAfter);
    if (!input.windowEnd || !input.notBefore || Number.isNaN(every)) return;
    const opening = { opensAt: Date.parse(input.notBefore), closesAt: Date.parse(input.windowEnd) };
    for (const p of recurringWindowProblems(opening, every, MEDIA_WINDOW_FIELDS))
      ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  })
  .superRefine(lockWaitNeedsWait);
export type MediaChownInput = z.infer<typeof MediaChownInput>;
