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
  /** docker-compose logs --since: a duration like 2h or an RFC 3339 timestamp. */
  since: z
    .string()
    .regex(
      /^(\d{1,6}[smh]|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?Z?)$/,
      'expected a duration like 2h or a timestamp like 2026-11-30T03:00:00Z',
    )
    .optional(),
  maxBytesPerService: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(5 * 1024 * 1024),
});
export type CollectLogsInput = z.infer<typeof CollectLogsInput>;
