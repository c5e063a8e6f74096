// Bench-only workflows (their own bundle and task queue; not part of workflows/index.ts).
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './activities';

const { noop, fakeStep } = proxyActivities<typeof activities>({ startToCloseTimeout: '30s' });

/** `count` no-op activities one after another: what one activity costs on the server and worker. */
export async function noopChain(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop();
  return count;
}

/** A small runbook-shaped run: `steps` fast fake activities in sequence. */
export async function fleetRun(steps: number, stepMs: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < steps; i++) total += await fakeStep(stepMs);
  return total;
}
