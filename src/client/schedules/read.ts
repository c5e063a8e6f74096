// Describe one schedule, or list a namespace's (or one cluster's), as the CLI shows them.
import type {
  CalendarSpecDescription,
  Client,
  ScheduleDescription,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { WabaCluster } from '../../../workflows/api';
import { InputError } from '../errors';
import { CLUSTER_NAME, memoOf } from './memo';

/** A schedule as the CLI shows it. */
export interface ScheduleInfo {
  scheduleId: string;
  runbook: string;
  cluster: string;
  /** The calendar as it was given, e.g. `sun 03:00`. */
  calendar: string;
  calendars: CalendarSpecDescription[];
  timeZone: string;
  workflowId: string;
  taskQueue: string;
  overlap: ScheduleOverlapPolicy;
  catchupWindow: string;
  paused: boolean;
  /** The current note: the creator's, or the last pause/unpause note. */
  note: string;
  /** Who created it and why (the note given at creation). */
  createdNote: string;
  createdAt: string;
  remainingActions?: number;
  nextRunTimes: string[];
  recentRuns: { workflowId: string; runId: string; scheduledAt: string; takenAt: string }[];
  runningRuns: { workflowId: string; runId: string }[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
}

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** A described schedule as the CLI shows it. */
export function toScheduleInfo(d: ScheduleDescription): ScheduleInfo {
  const memo = memoOf(d.memo);
  const action = d.action;
  return {
    scheduleId: d.scheduleId,
    runbook: memo.runbook ?? action.workflowType,
    cluster: memo.cluster ?? String(d.typedSearchAttributes.get(WabaCluster) ?? ''),
    calendar: memo.calendar ?? '',
    calendars: d.spec.calendars ?? [],
    timeZone: d.spec.timezone ?? 'UTC',
    workflowId: action.workflowId ?? '',
    taskQueue: action.taskQueue,
    overlap: d.policies.overlap,
    catchupWindow: durationText(d.policies.catchupWindow),
    paused: d.state.paused,
    note: d.state.note ?? '',
    createdNote: memo.note ?? '',
    createdAt: memo.createdAt ?? d.info.createdAt.toISOString(),
    ...(d.state.remainingActions !== undefined ? { remainingActions: d.state.remainingActions } : {}),
    nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((a) => ({
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
    })),
    runningRuns: d.info.runningActions.map((a) => ({
      workflowId: a.workflow.workflowId,
      runId: a.workflow.firstExecutionRunId,
    })),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
  };
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleInfo> {
  return toScheduleInfo(await client.schedule.getHandle(scheduleId).describe());
}

export interface ScheduleListItem {
  scheduleId: string;
  runbook: string;
  cluster: string;
  calendar: string;
  timeZone: string;
  paused: boolean;
  note: string;
  nextRunTime?: string;
}

/**
 * Every schedule of the namespace (or one cluster's). Listing is eventually consistent: a schedule
 * created a moment ago may take a second to appear.
 */
export async function listSchedules(
  client: Client,
  opts: { cluster?: string } = {},
): Promise<ScheduleListItem[]> {
  if (opts.cluster !== undefined && !CLUSTER_NAME.test(opts.cluster))
    throw new InputError(`cluster "${opts.cluster}" is not a cluster name`);
  const out: ScheduleListItem[] = [];
  const query = opts.cluster !== undefined ? `WabaCluster = '${opts.cluster}'` : undefined;
  for await (const s of client.schedule.list(query ? { query } : {})) {
    const memo = memoOf(s.memo);
    const next = s.info.nextActionTimes[0];
    out.push({
      scheduleId: s.scheduleId,
      runbook: memo.runbook ?? s.action?.workflowType ?? '',
      cluster: memo.cluster ?? String(s.typedSearchAttributes?.get(WabaCluster) ?? ''),
      calendar: memo.calendar ?? '',
      timeZone: memo.timeZone ?? s.spec?.timezone ?? '',
      paused: s.state.paused,
      note: s.state.note ?? '',
      ...(next ? { nextRunTime: next.toISOString() } : {}),
    });
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
