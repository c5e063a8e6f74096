import { z } from 'zod';
import { ClusterName, SchemaRef } from './common';

/** healthCheck: read-only, so nothing but the cluster. */
export const HealthCheckInput = z.strictObject({ $schema: SchemaRef, cluster: ClusterName });
export type HealthCheckInput = z.infer<typeof HealthCheckInput>;
