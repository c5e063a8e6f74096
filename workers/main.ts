// Worker process: `npm run worker` (against TEMPORAL_ADDRESS) or via `npm start`.
import type { Worker } from '@temporalio/worker';
import { DEFAULT_ADDRESS, healthAddress, temporalConfig, workflowBundleFile } from '../src/config';
import { openInventory } from '../src/inventory/open';
import { type Readiness, serveReadiness } from './readiness';
import { installTelemetry } from './telemetry';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = temporalConfig();
  const address = config.address ?? DEFAULT_ADDRESS;
  const readinessAddress = healthAddress();
  const bundle = workflowBundleFile();
  // An invalid inventory stops the worker here, every problem named.
  const inventory = openInventory();
  console.log(inventory.describe);
  for (const w of inventory.warnings) console.warn(`inventory warning: ${w}`);
  const telemetry = installTelemetry();
  // Up before the worker: it answers 503 while the worker connects and bundles, then 200.
  let worker: Worker | undefined;
  let readiness: Readiness | undefined;
  if (readinessAddress)
    readiness = await serveReadiness(readinessAddress, () => worker?.getState() ?? 'STARTING');
  try {
    const created = await createWorker({
      config,
      address,
      inventory: inventory.store,
      ...(bundle ? { workflowBundle: { codePath: bundle } } : {}),
    });
    worker = created.worker;
    if (telemetry.metrics) console.log(`Prometheus metrics: http://${telemetry.metrics}/metrics`);
    if (readiness) console.log(`readiness: http://${readiness.address}/healthz`);
    if (bundle) console.log(`workflows from the prebuilt bundle ${bundle}`);
    console.log(
      `worker polling task queue "${config.taskQueue}" in namespace "${config.namespace}" at ${address} (from ${config.addressSource})`,
    );
    try {
      await worker.run(); // resolves after SIGINT/SIGTERM once activities have finished or been cancelled
    } finally {
      await created.connection.close();
    }
  } finally {
    await readiness?.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
