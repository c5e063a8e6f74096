// Timestamps out of workflow histories: what the server recorded, not what a client observed.
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;

export interface ActivityTimes {
  type: string;
  scheduled: number;
  started: number;
  completed: number;
}

/** Per activity, in order: scheduled, started and completed times (ms). */
export function activityTimes(events: Event[]): ActivityTimes[] {
  const byScheduledId = new Map<string, ActivityTimes>();
  const t = (e: Event) => tsToMs(e.eventTime);
  for (const e of events) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled)
      byScheduledId.set(id, {
        type: scheduled.activityType?.name ?? '',
        scheduled: t(e),
        started: Number.NaN,
        completed: Number.NaN,
      });
    const started = e.activityTaskStartedEventAttributes?.scheduledEventId;
    if (started) {
      const a = byScheduledId.get(String(started));
      if (a) a.started = t(e);
    }
    const completed = e.activityTaskCompletedEventAttributes?.scheduledEventId;
    if (completed) {
      const a = byScheduledId.get(String(completed));
      if (a) a.completed = t(e);
    }
  }
  return [...byScheduledId.values()];
}

export async function historyEvents(client: Client, workflowId: string): Promise<Event[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** Seconds of the longest activity of `type` in a run, started to completed (server timestamps). */
export async function slowestActivity(client: Client, workflowId: string, type: string): Promise<number> {
  const times = activityTimes(await historyEvents(client, workflowId)).filter((a) => a.type === type);
  return Math.max(...times.map((a) => (a.completed - a.started) / 1000));
}

/** Length of the union of [from, to] intervals: the time at least one of them was open. */
export function unionLength(spans: (readonly [number, number])[]): number {
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/**
 * Seconds with at least one activity of `type` running in a run (started to completed): their sum
 * when the run ran them one after another, the longest batch's when it ran them side by side.
 */
export async function activitySpan(client: Client, workflowId: string, type: string): Promise<number> {
  const times = activityTimes(await historyEvents(client, workflowId)).filter(
    (a) => a.type === type && Number.isFinite(a.completed),
  );
  return unionLength(times.map((a) => [a.started, a.completed] as const)) / 1000;
}

/** Medians (ms) of the parts of one sequential activity step, from server timestamps. */
export interface StepBreakdown {
  /** Activity scheduled -> started: matching's dispatch to a poller (about 0 with eager dispatch). */
  activityScheduleToStart: number;
  /** Activity started -> completed: the worker ran it and reported back. */
  activityRun: number;
  /** Activity completed -> next workflow task started: the server's dispatch of the workflow task. */
  workflowTaskDispatch: number;
  /** Workflow task started -> completed: the worker's workflow code and its reply. */
  workflowTaskRun: number;
}

/** Where each step of a sequential chain of activities spends its time (medians, ms). */
export function stepBreakdown(events: Event[], median: (xs: number[]) => number): StepBreakdown {
  const t = (e: Event) => tsToMs(e.eventTime);
  const activityStart: number[] = [];
  const activityRun: number[] = [];
  const dispatch: number[] = [];
  const wftRun: number[] = [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  let lastCompleted: number | undefined;
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const s = byId.get(String(started.scheduledEventId));
      if (s) activityStart.push(t(e) - t(s));
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const s = byId.get(String(done.startedEventId));
      if (s) activityRun.push(t(e) - t(s));
      lastCompleted = t(e);
    }
    if (e.workflowTaskStartedEventAttributes && lastCompleted !== undefined) {
      dispatch.push(t(e) - lastCompleted);
      lastCompleted = undefined;
    }
    const wft = e.workflowTaskCompletedEventAttributes;
    if (wft) {
      const s = byId.get(String(wft.startedEventId));
      if (s) wftRun.push(t(e) - t(s));
    }
  }
  return {
    activityScheduleToStart: median(activityStart),
    activityRun: median(activityRun),
    workflowTaskDispatch: median(dispatch),
    workflowTaskRun: median(wftRun),
  };
}

/** Where a runbook run's wall time went: its activities (and its children's) by type, and the rest. */
export interface RunBreakdown {
  /** Seconds with at least one activity scheduled or running (of the run or a child). */
  activitySeconds: number;
  /** Seconds with none: workflow tasks, timers, waiting for the approval and the client. */
  idleSeconds: number;
  /** Per activity type: how many, and seconds from scheduled to completed (summed, and the longest). */
  byType: { type: string; count: number; seconds: number; longest: number; retried: number }[];
}

/** The activities of `workflowId` and of the given children, as one breakdown (server timestamps). */
export async function runBreakdown(client: Client, workflowIds: string[]): Promise<RunBreakdown> {
  const all: (ActivityTimes & { attempt: number })[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const id of workflowIds) {
    let events: Event[];
    try {
      events = await historyEvents(client, id);
    } catch {
      continue; // no such child in this run
    }
    if (events.length === 0) continue;
    first = Math.min(first, tsToMs(events[0]?.eventTime));
    last = Math.max(last, tsToMs(events.at(-1)?.eventTime));
    const attempts = new Map<string, number>();
    for (const e of events) {
      const s = e.activityTaskStartedEventAttributes;
      if (s) attempts.set(String(s.scheduledEventId), s.attempt ?? 1);
    }
    const times = activityTimes(events);
    const scheduledIds = events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => String(e.eventId));
    times.forEach((a, i) => {
      all.push({ ...a, attempt: attempts.get(scheduledIds[i] ?? '') ?? 1 });
    });
  }
  const done = all.filter((a) => Number.isFinite(a.completed));
  const busy = unionLength(done.map((a) => [a.scheduled, a.completed] as const));
  const byType = new Map<string, RunBreakdown['byType'][number]>();
  for (const a of done) {
    const ms = a.completed - a.scheduled;
    const t = byType.get(a.type) ?? { type: a.type, count: 0, seconds: 0, longest: 0, retried: 0 };
    t.count++;
    t.seconds += ms / 1000;
    t.longest = Math.max(t.longest, ms / 1000);
    if (a.attempt > 1) t.retried++;
    byType.set(a.type, t);
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    activitySeconds: r2(busy / 1000),
    idleSeconds: r2(Math.max(0, last - first - busy) / 1000),
    byType: [...byType.values()]
      .map((t) => ({ ...t, seconds: r2(t.seconds), longest: r2(t.longest) }))
      .sort((x, y) => y.seconds - x.seconds),
  };
}
