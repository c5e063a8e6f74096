import { z } from 'zod';
import { ClusterSpec } from './cluster';

/** healthCheck: read-only, so nothing but the cluster. */
export const HealthCheckInput = z.strictObject({ cluster: ClusterSpec });
export type HealthCheckInput = z.infer<typeof HealthCheckInput>;
