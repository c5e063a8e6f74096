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
