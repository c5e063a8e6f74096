// The worker for the bench-only workflows: its own task queue, the prebuilt bench bundle.
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './activities';
import { BENCH_QUEUE } from './temporal-names';

export async function createBenchWorker(address: string, bundlePath: string) {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: BENCH_QUEUE,
    activities,
    workflowBundle: { codePath: bundlePath },
    shutdownGraceTime: '5s',
  });
  return { worker, connection };
}
