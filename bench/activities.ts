// Bench-only activities: they do (almost) nothing, so what is measured is the orchestration.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';

export async function noop(): Promise<void> {}

export async function fakeStep(ms: number): Promise<number> {
  await sleep(ms);
  return ms;
}

/** Heartbeats every second for `ms` (as the runbooks' host steps do); returns its attempt number. */
export async function beatUntilCancelled(ms: number): Promise<number> {
  const ctx = Context.current();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    ctx.heartbeat();
    await sleep(Math.min(1000, until - Date.now()));
  }
  return ctx.info.attempt;
}
