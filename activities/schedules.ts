// Confirms a run that carries TemporalScheduledById is really an action of the schedule it names.
// The server does not reserve that search attribute: `temporal workflow start --search-attribute
// 'TemporalScheduledById="x"'` is accepted, so a copied schedule input started by hand would
// otherwise pass as scheduled (its signed start and pre-approvals honoured). The worker's own
// client asks the schedule; a workflow cannot, hence an activity.
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import { NOT_SCHEDULED, nonRetryable } from '../src/model/errors';
import { type ConfirmedSchedule, listsRun, type ScheduledRunClaim } from '../src/model/scheduled-run';

/**
 * How long a run not (yet) listed is looked for again: the schedule records the run it started
 * just after starting it, so a genuine run can begin before `describe` shows it.
 */
export const LISTING_WAIT = { totalMs: 10_000, everyMs: 500 };

export function scheduleActivities(wait = LISTING_WAIT) {
  return {
    /**
     * The schedule `claim.scheduleId` names, when it lists this run among its running or recent
     * actions; otherwise a non-retryable NotStartedBySchedule naming the schedule. A failed
     * `describe` (server busy) is an ordinary error: the activity's retry policy tries again.
     */
    async confirmScheduledRun(claim: ScheduledRunClaim): Promise<ConfirmedSchedule> {
      const { client } = Context.current();
      const handle = client.schedule.getHandle(claim.scheduleId);
      const deadline = Date.now() + wait.totalMs;
      for (;;) {
        let d: Awaited<ReturnType<typeof handle.describe>>;
        try {
          d = await handle.describe();
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) throw notScheduled(claim, 'there is no such schedule');
          throw err;
        }
        const actions = {
          running: d.info.runningActions.map((a) => a.workflow),
          recent: d.info.recentActions.map((a) => a.action.workflow),
        };
        if (listsRun(actions, claim))
          return { scheduleId: claim.scheduleId, createdAt: d.info.createdAt.toISOString() };
        if (Date.now() >= deadline)
          throw notScheduled(claim, "the run is not among the schedule's running or recent actions");
        await Context.current().sleep(wait.everyMs);
      }
    },
  };
}

function notScheduled(claim: ScheduledRunClaim, why: string) {
  return nonRetryable(
    NOT_SCHEDULED,
    `TemporalScheduledById says schedule ${JSON.stringify(claim.scheduleId.slice(0, 200))} started run ${JSON.stringify(claim.workflowId.slice(0, 200))}, but ${why}: a start request can set that attribute, so the run is not trusted as scheduled`,
  );
}
