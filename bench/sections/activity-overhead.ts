// Section 3: what one activity costs on the embedded dev server: 200 sequential no-op activities.

import { createBenchWorker } from '../bench-worker';
import { onCleanup } from '../cleanup';
import { activityTimes, historyEvents, type StepBreakdown, stepBreakdown } from '../history';
import { median, percentile, round } from '../stats';
import type { BenchTemporal } from '../temporal';
import { BENCH_QUEUE } from '../temporal-names';

export interface ActivityOverhead {
  activities: number;
  /** ms from one activity's scheduling to the next's: the whole round trip incl. the workflow task. */
  perActivityMs: { median: number; p99: number; max: number };
  /** ms from scheduled to completed, as the server recorded it. */
  scheduledToCompletedMs: { median: number; p99: number };
  totalSeconds: number;
  /** Medians of the parts of one step (server timestamps). */
  breakdown?: StepBreakdown;
  /** The same chain as local activities: wall ms per step (no server round trip per step). */
  localPerActivityMs?: number;
}

async function runChain(t: BenchTemporal, count: number, id: string, type = 'noopChain'): Promise<number> {
  const started = performance.now();
  await t.client.workflow.execute(type, { taskQueue: BENCH_QUEUE, workflowId: id, args: [count] });
  return (performance.now() - started) / 1000;
}

export async function activityOverhead(t: BenchTemporal, count: number): Promise<ActivityOverhead> {
  const { worker, connection } = await createBenchWorker(t.server.address, t.benchBundle);
  const running = worker.run();
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  };
  const forget = onCleanup('the bench worker', stop);
  try {
    await runChain(t, 10, `bench/noop-warmup-${Date.now()}`); // first-time costs (connections, caches)
    const id = `bench/noop-${Date.now()}`;
    const totalSeconds = await runChain(t, count, id);
    const events = await historyEvents(t.client, id);
    const times = activityTimes(events);
    const localSeconds = await runChain(t, count, `bench/noop-local-${Date.now()}`, 'noopLocalChain');
    const cycles = times.slice(1).map((a, i) => a.scheduled - (times[i] as { scheduled: number }).scheduled);
    const roundTrips = times.map((a) => a.completed - a.scheduled);
    return {
      activities: times.length,
      perActivityMs: {
        median: round(median(cycles), 2),
        p99: round(percentile(cycles, 99), 2),
        max: round(Math.max(...cycles), 2),
      },
      scheduledToCompletedMs: {
        median: round(median(roundTrips), 2),
        p99: round(percentile(roundTrips, 99), 2),
      },
      totalSeconds: round(totalSeconds),
      breakdown: stepBreakdown(events, (xs) => round(median(xs), 2)),
      localPerActivityMs: round((localSeconds * 1000) / count, 2),
    };
  } finally {
    forget();
    await stop();
  }
}
