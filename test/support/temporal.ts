import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
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

/** A history as searchable text, with every payload decoded from base64. */
export function historyText(history: unknown): string {
  return JSON.stringify(history, (key, value) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}
