// Worker process: `npm run worker` (against TEMPORAL_ADDRESS) or via `npm start`.
import { DEFAULT_ADDRESS, temporalConfig } from '../src/config';
import { openInventory } from '../src/inventory/open';
import { installTelemetry } from './telemetry';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = temporalConfig();
  const address = config.address ?? DEFAULT_ADDRESS;
  // An invalid inventory stops the worker here, every problem named.
  const inventory = openInventory();
  console.log(inventory.describe);
  for (const w of inventory.warnings) console.warn(`inventory warning: ${w}`);
  const telemetry = installTelemetry();
  const { worker, connection } = await createWorker({ config, address, inventory: inventory.store });
  if (telemetry.metrics) console.log(`Prometheus metrics: http://${telemetry.metrics}/metrics`);
  console.log(
    `worker polling task queue "${config.taskQueue}" in namespace "${config.namespace}" at ${address} (from ${config.addressSource})`,
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
