import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Activities } from '../../activities';

let quietRuntime = false;

/** The suite's dev server (started once by global-setup). */
export async function testClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/**
 * Run `fn` while a real worker polls a fresh task queue with the given activities
 * (real ones wired to local servers, or in-process fakes).
 */
export async function withWorker<T>(
  activities: Partial<Activities>,
  fn: (ctx: { client: Client; taskQueue: string }) => Promise<T>,
): Promise<T> {
  if (!quietRuntime) {
    Runtime.install({ logger: new (await import('@temporalio/worker')).DefaultLogger('ERROR') });
    quietRuntime = true;
  }
  const taskQueue = `test-${randomUUID()}`;
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const { client, close } = await testClient();
  try {
    const worker = await Worker.create({
      connection,
      taskQueue,
      activities,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    return await worker.runUntil(fn({ client, taskQueue }));
  } finally {
    await close();
    await connection.close();
  }
}

/** What a suite with its own workflows has once its beforeAll ran. */
export interface OwnBundle {
  bundle: string;
  nativeConnection: NativeConnection;
  client: Client;
}

/**
 * A suite whose workflows are bundled from `workflowsPath` (test-only workflows, not the product's
 * bundle), on the suite's dev server: filled in beforeAll, connections closed in afterAll.
 */
export function useOwnBundle(workflowsPath: string): OwnBundle {
  const own = {} as OwnBundle;
  let connection: Connection | undefined;
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    });
    own.bundle = code;
    own.nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    own.client = new Client({ connection });
  });
  afterAll(async () => {
    await connection?.close();
    await own.nativeConnection?.close();
  });
  return own;
}

/** A history as searchable text, with every payload decoded from base64. */
export function historyText(history: unknown): string {
  return JSON.stringify(history, (key, value) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}
