// The process-wide Temporal Runtime of a worker: logs (SDK, workflows, activities and the SDK core,
// all through one logger: text on a terminal, else JSON; src/log.ts) and the Prometheus endpoint.
// Install once, before connecting.
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createLogger } from '../src/log';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

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
      ...(metrics ? { metrics: { prometheus: { bindAddress: metrics, countersTotalSuffix: true } } } : {}),
    },
  });
  return metrics ? { metrics } : {};
}
