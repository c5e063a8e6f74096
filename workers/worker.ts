import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type Activities, createActivities, defaultDeps } from '../activities';
import { activityLogContext } from '../activities/log-context';
import { dataConverterFromEnv } from '../src/codec/keys';
import { connectionOptions, type TemporalConfig } from '../src/config';
import { describeConnectionError } from '../src/connection-error';
import type { InventoryStore } from '../src/inventory/store';

export interface CreateWorkerOptions {
  config: TemporalConfig;
  address: string;
  /** Where `address` came from, for the error when it cannot be reached; default: the config's. */
  addressSource?: string;
  /** The worker's activities; default: the real ones over `inventory`. */
  activities?: Activities;
  /** The clusters the real activities may touch (openInventory); needed unless `activities` is given. */
  inventory?: InventoryStore;
  /** Prebuilt workflow bundle (tests build it once); otherwise `workflows/index.ts` is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codec etc.; default: from the environment (WABA_CODEC_KEYS), `null` for none. */
  dataConverter?: DataConverter | null;
}

/**
 * Workflow interceptor modules (run counters, log context); bundles must include them too. No extension:
 * the bundler finds observability.ts from source and observability.js from the build (dist/).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [path.join(__dirname, '../workflows/lib/observability')];

/** A worker on the runbooks task queue with every workflow and activity registered. */
export async function createWorker(
  opts: CreateWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  if (!opts.activities && !opts.inventory) throw new Error('createWorker: give activities or an inventory');
  // Read before connecting: a bad codec key fails the start with a clear message.
  const dataConverter =
    opts.dataConverter === undefined ? dataConverterFromEnv() : (opts.dataConverter ?? undefined);
  const connection = await NativeConnection.connect(connectionOptions(opts.config, opts.address)).catch(
    (err: unknown) => {
      const source = opts.addressSource ?? opts.config.addressSource ?? 'the worker options';
      throw new Error(describeConnectionError(err, opts.address, source), { cause: err });
    },
  );
  const workflowSource = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  const worker = await Worker.create({
    connection,
    namespace: opts.config.namespace,
    taskQueue: opts.config.taskQueue,
    activities: opts.activities ?? createActivities(defaultDeps(opts.inventory as InventoryStore)),
    ...workflowSource,
    ...(dataConverter ? { dataConverter } : {}),
    interceptors: {
      activity: [activityLogContext],
      // A prebuilt bundle already contains them (bundleWorkflowCode's workflowInterceptorModules).
      ...(opts.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    // On SIGINT/SIGTERM: stop polling, give running activities this long, then cancel them.
    shutdownGraceTime: '10s',
  });
  return { worker, connection };
}
