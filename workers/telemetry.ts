// The process-wide Temporal Runtime of a worker: logs (SDK, workflows, activities and the SDK core,
// all through one logger: text on a terminal, else JSON; src/log.ts) and the Prometheus endpoint.
// Install once, before connecting.
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createLogger } from '../src/log';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/**
 * Bucket bounds (seconds) of `waba_gate_wait_seconds`: approval gates wait for people, from seconds
 * (a pre-approved or chat-approved gate) to days (a weekend, a window a week out). The SDK's default
 * buckets stop at 10000 s, so a gate open for hours would land in +Inf and a p90 would say nothing.
 */
export const GATE_WAIT_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800,
];

/** `host:port` for the Prometheus endpoint, or undefined when `WABA_METRICS_ADDRESS=off`. */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.WABA_METRICS_ADDRESS || DEFAULT_METRICS_ADDRESS;
  if (raw === 'off') return undefined;
  const match = /^(.+):(\d{1,5})$/.exec(raw);
  if (!match || Number(match[2]) > 65_535)
    throw new Error(`WABA_METRICS_ADDRESS=${raw}: expected host:port (e.g. 0.0.0.0:9464) or off`);
  return raw;
}

/** Install the Runtime; returns the metrics address in use (for the start-up message). */
export function installTelemetry(env: NodeJS.ProcessEnv = process.env): { metrics?: string } {
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
