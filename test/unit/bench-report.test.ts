// The bench's pure parts: the per-step breakdown read from a history, and the goals table.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import { describe, expect, it } from 'vitest';
import { withUpCommands } from '../../bench/critical-path';
import { stepBreakdown, unionLength } from '../../bench/history';
import { type BenchResults, goalRows, writeResults } from '../../bench/report';
import type { RunRecord } from '../../bench/sections/paired-run';
import { scalingPoint, scalingSummary } from '../../bench/sections/scaling';
import { median } from '../../bench/stats';
import { summarizePairs } from '../../bench/summarize';

/** One sequential activity step as the server records it, times in ms from `t0`. */
function step(
  first: number,
  t0: number,
  d: { sched2start: number; run: number; dispatch: number; wft: number },
) {
  const ev = (id: number, at: number, attrs: object) => ({ eventId: id, eventTime: msToTs(at), ...attrs });
  const s = t0;
  return [
    ev(first, s, { activityTaskScheduledEventAttributes: { activityType: { name: 'noop' } } }),
    ev(first + 1, s + d.sched2start, { activityTaskStartedEventAttributes: { scheduledEventId: first } }),
    ev(first + 2, s + d.sched2start + d.run, {
      activityTaskCompletedEventAttributes: { scheduledEventId: first, startedEventId: first + 1 },
    }),
    ev(first + 3, s + d.sched2start + d.run, { workflowTaskScheduledEventAttributes: {} }),
    ev(first + 4, s + d.sched2start + d.run + d.dispatch, { workflowTaskStartedEventAttributes: {} }),
    ev(first + 5, s + d.sched2start + d.run + d.dispatch + d.wft, {
      workflowTaskCompletedEventAttributes: { startedEventId: first + 4 },
    }),
  ];
}

describe('bench', () => {
  it('stepBreakdown splits each step into dispatch and run times (medians)', () => {
    const parts = [
      { sched2start: 0, run: 5, dispatch: 40, wft: 10 },
      { sched2start: 1, run: 6, dispatch: 50, wft: 12 },
      { sched2start: 0, run: 7, dispatch: 45, wft: 11 },
    ];
    let t = 1_000_000;
    const events = parts.flatMap((d, i) => {
      const evs = step(1 + i * 6, t, d);
      t += d.sched2start + d.run + d.dispatch + d.wft;
      return evs;
    });
    // Only the fields stepBreakdown reads (ids as numbers: it compares them as strings).
    expect(stepBreakdown(events as unknown as Parameters<typeof stepBreakdown>[0], median)).toEqual({
      activityScheduleToStart: 0,
      activityRun: 6,
      workflowTaskDispatch: 45,
      workflowTaskRun: 11,
    });
  });

  it('goalRows: a figure beyond its goal is a miss, within it met, absent not measured', () => {
    const r = {
      activityOverhead: {
        activities: 200,
        perActivityMs: { median: 18, p99: 40, max: 90 },
        scheduledToCompletedMs: { median: 5, p99: 9 },
        totalSeconds: 4,
      },
      crashRecovery: { killToRetryMs: 5400, pollToRetryMs: 3800, attempt: 2 },
      fleetSizes: [
        {
          runs: 1000,
          stepsPerRun: 5,
          stepMs: 20,
          completionSeconds: 100,
          workerRssMiB: { idle: 200, peak: 620 },
          scheduleToStartMs: { median: 0, p99: 3, max: 30 },
        },
      ],
    } as unknown as BenchResults;
    const rows = Object.fromEntries(goalRows(r).map((g) => [g.goal, g]));
    expect(rows['per-activity step, median (dev server)']).toMatchObject({
      measured: '18.00 ms',
      met: false,
    });
    expect(rows['worker SIGKILL: step again after new poll']).toMatchObject({
      measured: '3.80 s',
      met: true,
    });
    expect(rows['fleet 1,000 runs: worker peak RSS']).toMatchObject({ met: false });
    expect(rows['fleet 1,000 runs: schedule-to-start p99']).toMatchObject({ met: true });
    expect(rows['haSetup wall / seed script']).toMatchObject({ measured: null, met: null });
  });

  it('scaling: seconds per host and what each added host costs, from the runs of two lab sizes', () => {
    const run = (variant: 'A' | 'B', seconds: number, composeUp?: number) =>
      ({
        variant,
        rep: 1,
        seconds,
        ...(composeUp === undefined
          ? {}
          : { breakdown: { byType: [{ type: 'composeUp', count: 7, seconds: composeUp }] } }),
      }) as unknown as RunRecord;
    const small = scalingPoint({ webs: 1, masters: 3, cores: 3, spares: 0 }, [
      run('A', 14),
      run('B', 21, 12),
      run('A', 16),
      run('B', 19, 13),
    ]);
    expect(small).toMatchObject({ topology: '1/3/3', hosts: 7 });
    expect(small.b.median).toBe(20);
    expect(small.perHostB.median).toBeCloseTo(20 / 7, 2);
    expect(small.composeUpB.median).toBe(12.5);
    const big = scalingPoint({ webs: 1, masters: 3, cores: 6, spares: 0 }, [run('A', 21), run('B', 29, 18)]);
    const line = scalingSummary([small, big]);
    expect(line.addedHostSeconds).toEqual({ a: 2, b: 3 });
    const goal = goalRows({ scaling: line } as unknown as BenchResults).find((g) =>
      g.goal.startsWith('scaling'),
    );
    expect(goal).toMatchObject({ met: true, measured: '1/3/3 2.9 s/host, 1/3/6 2.9 s/host' });
    expect(goalRows({} as BenchResults).find((g) => g.goal.startsWith('scaling'))?.met).toBeNull();
  });

  it('unionLength: sequential spans add up, overlapping ones count once, nested ones not at all', () => {
    expect(unionLength([])).toBe(0);
    expect(
      unionLength([
        [0, 2],
        [3, 5],
        [5, 6],
      ]),
    ).toBe(5);
    expect(
      unionLength([
        [4, 9],
        [0, 3],
        [1, 2],
        [2, 5],
      ]),
    ).toBe(9);
    expect(
      unionLength([
        [0, 10],
        [2, 4],
        [3, 9],
      ]),
    ).toBe(10);
  });

  it("the path in the run's own order: its up -d commands' busy time instead of the slowest one", () => {
    const cp = withUpCommands(
      { slowestUp: 1, slowestHost: 'core1', dbUpgradeJob: 1.5, convergence: 0.5, total: 3 },
      2,
      14,
    );
    expect(cp.withComposeCli).toEqual({ slowestUpCommand: 2, total: 4 });
    expect(cp.inRunOrder).toEqual({ upCommands: 14, total: 16 });
    const rec = (variant: 'A' | 'B', seconds: number, inOrder?: number) =>
      ({
        variant,
        rep: 1,
        seconds,
        criticalPath: {
          total: 3,
          withComposeCli: { total: 4 },
          ...(inOrder === undefined ? {} : { inRunOrder: { total: inOrder } }),
        },
      }) as unknown as RunRecord;
    const m = summarizePairs([rec('A', 19), rec('B', 20, 16)]);
    expect(m.inRunOrderB?.path.median).toBe(16);
    expect(m.inRunOrderB?.wallOverPath.median).toBe(1.25);
    // Results recorded before the field existed: no figure, not NaN.
    expect(summarizePairs([rec('A', 19), rec('B', 20)]).inRunOrderB).toBeUndefined();
  });

  it('writeResults: a second run the same day gets its own file, the first is kept', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
    try {
      const r = (startedAt: string) => ({ date: '2026-12-02', startedAt }) as BenchResults;
      const first = writeResults(r('first'), dir);
      const second = writeResults(r('second'), dir);
      const third = writeResults(r('third'), dir);
      expect([first, second, third].map((f) => path.basename(f))).toEqual([
        '2026-12-02.json',
        '2026-12-02-2.json',
        '2026-12-02-3.json',
      ]);
      expect(JSON.parse(readFileSync(first, 'utf8')).startedAt).toBe('first');
      expect(JSON.parse(readFileSync(third, 'utf8')).startedAt).toBe('third');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
