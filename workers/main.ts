// Worker process: `npm run worker` (against TEMPORAL_ADDRESS) or via `npm start`.
import { temporalConfig } from '../src/config';
import { installTelemetry } from './telemetry';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = temporalConfig();
  const address = config.address ?? 'localhost:7233';
  const telemetry = installTelemetry();
  const { worker, connection } = await createWorker({ config, address });
  if (telemetry.metrics) console.log(`Prometheus metrics: http://${telemetry.metrics}/metrics`);
  console.log(
    `worker polling task queue "${config.taskQueue}" in namespace "${config.namespace}" at ${address}`,
  );
  try {
    await worker.run(); // resolves after SIGINT/SIGTERM once activities have finished or been cancelled
  } finally {
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
