// Whether a run that says a Schedule started it (TemporalScheduledById) really is one of that
// schedule's actions. Any start request may set that search attribute, so the worker asks the
// schedule itself (activities/schedules.ts) before a run is trusted as scheduled. Workflow-safe.

/** What a run claims: the schedule named by its `TemporalScheduledById`, and who the run is. */
export interface ScheduledRunClaim {
  scheduleId: string;
  workflowId: string;
  /** The run the schedule started (a continued run keeps its chain's first run id). */
  firstExecutionRunId: string;
}

/** A schedule that listed the run among its actions, and when the server created that schedule. */
export interface ConfirmedSchedule {
  scheduleId: string;
  /** ISO time, set by the server: a start signed for the schedule must be fresh at that time. */
  createdAt: string;
}

/** A started workflow, as a schedule's description lists its running and recent actions. */
export interface ScheduleActionRun {
  workflowId: string;
  firstExecutionRunId: string;
}

/** True when the schedule lists the claimed run among its running or recent actions. */
export function listsRun(
  actions: { running: readonly ScheduleActionRun[]; recent: readonly ScheduleActionRun[] },
  claim: ScheduledRunClaim,
): boolean {
  return [...actions.running, ...actions.recent].some(
    (a) => a.workflowId === claim.workflowId && a.firstExecutionRunId === claim.firstExecutionRunId,
  );
}
