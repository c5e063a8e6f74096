// Which schedule started this run, if any, confirmed with the schedule before it is trusted.
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { TemporalScheduledById } from '../api';
import { SCHEDULE_CHECK } from './activity-options';

/**
 * Runs from this patch on ask the schedule named by TemporalScheduledById whether it started them
 * (activities/schedules.ts): any start request may set that attribute. Runs started before it
 * trusted the attribute, and replay that way.
 */
export const CONFIRM_SCHEDULE_PATCH = 'confirm-schedule-start';

const { confirmScheduledRun } = proxyActivities<Activities>(SCHEDULE_CHECK);

/** The schedule a run was started by; `createdAt` (server time) only when the schedule confirmed it. */
export interface ScheduledStart {
  scheduleId: string;
  createdAt?: string;
}

/**
 * The schedule that started this run: undefined without TemporalScheduledById; otherwise confirmed
 * by the schedule itself, or the run fails NotStartedBySchedule. Only a run carrying the attribute
 * asks (and records the patch), so manual runs' histories are unchanged.
 */
export async function scheduledStart(): Promise<ScheduledStart | undefined> {
  const info = workflowInfo();
  const scheduleId = info.typedSearchAttributes.get(TemporalScheduledById);
  if (!scheduleId) return undefined;
  if (!patched(CONFIRM_SCHEDULE_PATCH)) return { scheduleId };
  try {
    return await confirmScheduledRun({
      scheduleId,
      workflowId: info.workflowId,
      firstExecutionRunId: info.firstExecutionRunId,
    });
  } catch (err) {
    // The run fails with the activity's own reason (naming the schedule), not "activity task failed".
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }
}
