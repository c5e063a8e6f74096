// One bench worker in its own process, so its resident memory is its own (the fleet section reads
// VmRSS/VmHWM from /proc). Started and stopped by bench/sections/fleet.ts.
import { createBenchWorker } from './bench-worker';

async function main(): Promise<void> {
  const [address, bundlePath] = process.argv.slice(2);
  if (!address || !bundlePath) throw new Error('usage: fleet-worker.ts <temporal address> <bundle path>');
  const { worker, connection } = await createBenchWorker(address, bundlePath);
  const running = worker.run(); // SIGTERM/SIGINT: the SDK shuts the worker down
  console.log('fleet worker ready');
  await running;
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
