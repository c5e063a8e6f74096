// Bench-only activities: they do (almost) nothing, so what is measured is the orchestration.
import { setTimeout as sleep } from 'node:timers/promises';

export async function noop(): Promise<void> {}

export async function fakeStep(ms: number): Promise<number> {
  await sleep(ms);
  return ms;
}
