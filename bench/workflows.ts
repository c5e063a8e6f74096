// Bench-only workflows (their own bundle and task queue; not part of workflows/index.ts).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type * as activities from './activities';

const { noop, fakeStep } = proxyActivities<typeof activities>({ startToCloseTimeout: '30s' });
const local = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '30s' });
const { beatUntilCancelled } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '5s', // the runbooks' host steps (workflows/lib/activity-options.ts)
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** `count` no-op activities one after another: what one activity costs on the server and worker. */
export async function noopChain(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop();
  return count;
}

/** The same chain as local activities: run by the worker within the workflow task, no server round trip. */
export async function noopLocalChain(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await local.noop();
  return count;
}

/**
 * A host-step-shaped activity that heartbeats for `ms` (its worker is SIGKILLed meanwhile), then one
 * more step: how long a crash holds a run up once a new worker polls.
 */
export async function crashableStep(ms: number): Promise<number> {
  const attempt = await beatUntilCancelled(ms);
  await noop();
  return attempt;
}

/** A small runbook-shaped run: `steps` fast fake activities in sequence. */
export async function fleetRun(steps: number, stepMs: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < steps; i++) total += await fakeStep(stepMs);
  return total;
}
