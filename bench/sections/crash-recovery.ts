// Section 6: a worker SIGKILLed in the middle of a host-step-shaped activity (heartbeating every
// second, heartbeat timeout 5 s, as workflows/lib/activity-options.ts sets for the runbooks). A new
// worker starts at once; measured: how long until the step runs again, from the kill and from the
// new worker's first poll.
import { setTimeout as sleep } from 'node:timers/promises';
import { tsToMs } from '@temporalio/common/lib/time';
import { onCleanup } from '../cleanup';
import type { BenchTemporal } from '../temporal';
import { BENCH_QUEUE } from '../temporal-names';
import { startFleetWorker, stopChild } from './fleet';

export interface CrashRecovery {
  /** ms from the SIGKILL to the step's next attempt starting on the new worker. */
  killToRetryMs: number;
  /** ms from the new worker being ready (polling) to that attempt starting. */
  pollToRetryMs: number;
  /** The attempt that completed the step (2: retried once). */
  attempt: number;
}

async function pendingStep(t: BenchTemporal, workflowId: string) {
  const d = await t.client.workflow.getHandle(workflowId).describe();
  return d.raw.pendingActivities?.[0];
}

export async function crashRecovery(t: BenchTemporal): Promise<CrashRecovery> {
  let first = await startFleetWorker(t);
  const forgetFirst = onCleanup(`the crash bench's first worker (pid ${first.pid})`, () => stopChild(first));
  const workflowId = `bench/crash-${Date.now()}`;
  const handle = await t.client.workflow.start('crashableStep', {
    taskQueue: BENCH_QUEUE,
    workflowId,
    args: [6000],
  });
  // Bounded waits: the step is running (attempt 1) a moment before the kill.
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    const p = await pendingStep(t, workflowId);
    if (p?.lastStartedTime) break;
    if (Date.now() > deadline) throw new Error('the step never started');
  }
  await sleep(1500);
  first.kill('SIGKILL');
  const killedAt = Date.now();
  await stopChild(first);
  forgetFirst();
  first = await startFleetWorker(t);
  const readyAt = Date.now();
  const forget = onCleanup(`the crash bench's second worker (pid ${first.pid})`, () => stopChild(first));
  try {
    let retriedAt: number | undefined;
    for (const deadline = Date.now() + 120_000; retriedAt === undefined; await sleep(50)) {
      const p = await pendingStep(t, workflowId);
      if (p && (p.attempt ?? 1) > 1 && p.lastStartedTime) retriedAt = tsToMs(p.lastStartedTime);
      if (Date.now() > deadline) throw new Error('the step was not retried within 120 s');
    }
    const attempt = (await handle.result()) as number;
    return { killToRetryMs: retriedAt - killedAt, pollToRetryMs: Math.max(0, retriedAt - readyAt), attempt };
  } finally {
    forget();
    await stopChild(first);
  }
}
