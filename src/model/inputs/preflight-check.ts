import { z } from 'zod';
import { ClusterName, SchemaRef } from './common';

/** preflightCheck: read-only (the prerequisites stage alone), so nothing but the cluster. */
export const PreflightCheckInput = z.strictObject({ $schema: SchemaRef, cluster: ClusterName });
export type PreflightCheckInput = z.infer<typeof PreflightCheckInput>;
