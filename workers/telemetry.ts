// The process-wide Temporal Runtime of a worker: logs (SDK, workflows, activities and the SDK core,
// all through one logger: text on a terminal, else JSON; src/log.ts) and the Prometheus endpoint.
// Install once, before connecting.
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { Env } from '../src/config/env';
import { metricsAddress } from '../src/config/worker';
import { createLogger } from '../src/log';

/**
 * Bucket bounds (seconds) of `waba_gate_wait_seconds`: approval gates wait for people, from seconds
 * (a pre-approved or chat-approved gate) to days (a weekend, a window a week out). The SDK's default
 * buckets stop at 10000 s, so a gate open for hours would land in +Inf and a p90 would say nothing.
 */
export const GATE_WAIT_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800,
];

/**
 * Install the Runtime; returns the metrics address in use (for the start-up message). `env`: the
 * environment to read (tests); default the process's.
 */
export function installTelemetry(env?: Env): { metrics?: string } {
  const metrics = metricsAddress(env);
  Runtime.install({
    logger: createLogger(env),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(metrics
        ? {
            metrics: {
              prometheus: {
                bindAddress: metrics,
                countersTotalSuffix: true,
                histogramBucketOverrides: { waba_gate_wait_seconds: GATE_WAIT_BUCKETS },
              },
            },
          }
        : {}),
    },
  });
  return metrics ? { metrics } : {};
}
