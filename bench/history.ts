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
