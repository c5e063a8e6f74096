// A worker process for the telemetry test: the production Runtime (JSON logs, Prometheus endpoint)
// and worker construction (interceptors included), with the cluster faked in-process.
import { createActivities, defaultDeps } from '../../activities';
import { temporalConfig } from '../../src/config';
import { installTelemetry } from '../../workers/telemetry';
import { createWorker } from '../../workers/worker';
import { fakeCluster } from './fake-cluster';

async function main(): Promise<void> {
  const config = temporalConfig();
  const telemetry = installTelemetry();
  const fake = fakeCluster({ setUp: true, version: '2.29.1' });
  const { worker, connection } = await createWorker({
    config,
    address: config.address ?? 'localhost:7233',
    // Real activities where no host is involved (notify), the cluster's ones faked.
    activities: { ...createActivities(defaultDeps(fake.inventory)), ...fake.activities },
  });
  console.log(`metrics on ${telemetry.metrics}; worker polling task queue "${config.taskQueue}"`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
