// Create a schedule that starts a runbook: the input validated (and signed, for gated runbooks) here,
// overlap SKIP, a catch-up window for actions missed while the server was down.
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleHandle,
  ScheduleOverlapPolicy,
  ServiceError,
} from '@temporalio/client';
import { WabaCluster, WabaRunbook } from '../../../workflows/api';
import { isGated } from '../../model/runbooks';
import { runSummary } from '../../model/summary';
import type { Signer } from '../../signing/signer';
import { signStart } from '../decide';
import { InputError } from '../errors';
import { checkInput } from '../runbooks';
import { checkTimeZone, parseCalendar } from './calendar';
import type { ScheduleMemo } from './memo';

/** Missed actions (server down, schedule paused at the time) are still taken up to this late. */
const CATCHUP_WINDOW = '1h';

export interface CreateScheduleOptions {
  runbook: string;
  /** The run's input, validated here with the runbook's schema. */
  input: unknown;
  /** `"<days> <hh:mm>"`, see {@link parseCalendar}. */
  calendar: string;
  /** IANA name, e.g. `Europe/Rome`; the calendar is read in this zone (daylight saving included). */
  timeZone: string;
  /** Who and why, e.g. `alice: monthly upgrade`; kept in the schedule's note and memo. */
  note: string;
  /** Default `<cluster>/<runbook>/schedule`. */
  scheduleId?: string;
  taskQueue: string;
  /** Take at most this many scheduled actions (e.g. 1 for a one-off off-peak upgrade); default unlimited. */
  remainingActions?: number;
  /**
   * Signs the input as `requestedBy` for `schedule:<scheduleId>` (gated runbooks): every run the
   * schedule starts then has an authenticated requester. Without it the runs start unsigned.
   */
  signer?: Signer;
}

export interface CreatedSchedule {
  scheduleId: string;
  workflowId: string;
  cluster: string;
  nextRunTimes: string[];
}

/**
 * Validate locally (unknown runbook, bad input: the same errors as startRunbook), then create a
 * schedule that starts `<runbook>` with `input` as workflow `<cluster>/<runbook>` (the server
 * appends the scheduled time to it), overlap SKIP, catch-up window {@link CATCHUP_WINDOW}.
 */
export async function createSchedule(client: Client, opts: CreateScheduleOptions): Promise<CreatedSchedule> {
  const { runbook, input, taskQueue } = opts;
  const checked = checkInput(runbook, input);
  if (!checked.ok) throw new InputError(`invalid ${runbook} input:\n  ${checked.problems.join('\n  ')}`);
  const calendar = parseCalendar(opts.calendar);
  const timeZone = checkTimeZone(opts.timeZone);
  const note = opts.note.trim();
  if (!note)
    throw new InputError('a schedule needs a note: who created it and why, e.g. "alice: monthly upgrade"');
  if (
    opts.remainingActions !== undefined &&
    (!Number.isInteger(opts.remainingActions) || opts.remainingActions < 1)
  ) {
    throw new InputError(
      `remaining actions must be a whole number of at least 1, got ${opts.remainingActions}`,
    );
  }
  const cluster = (checked.value as { cluster: string }).cluster;
  const scheduleId = opts.scheduleId ?? `${cluster}/${runbook}/schedule`;
  const workflowId = `${cluster}/${runbook}`;
  const args =
    opts.signer && isGated(runbook)
      ? await signStart(input as Record<string, unknown>, runbook, `schedule:${scheduleId}`, opts.signer)
      : input;
  const memo: ScheduleMemo = {
    runbook,
    cluster,
    calendar: opts.calendar.trim().split(/\s+/).join(' '),
    timeZone,
    note,
    createdAt: new Date().toISOString(),
  };
  const searchAttributes = [
    { key: WabaCluster, value: cluster },
    { key: WabaRunbook, value: runbook },
  ];
  try {
    const handle = await client.schedule.create({
      scheduleId,
      spec: { calendars: [calendar], timezone: timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: runbook,
        workflowId,
        taskQueue,
        args: [args],
        typedSearchAttributes: searchAttributes,
        memo: { scheduleId },
        staticSummary: `${runSummary(runbook, input)} (schedule ${scheduleId})`,
      },
      policies: {
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow: CATCHUP_WINDOW,
        pauseOnFailure: false,
      },
      state: {
        note,
        ...(opts.remainingActions !== undefined ? { remainingActions: opts.remainingActions } : {}),
      },
      memo: memo as unknown as Record<string, unknown>,
      typedSearchAttributes: searchAttributes,
    });
    const d = await describeCreated(handle);
    return {
      scheduleId,
      workflowId,
      cluster,
      nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    };
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new InputError(
        `schedule ${scheduleId} already exists; delete it first or give another id (--id)`,
      );
    }
    throw err;
  }
}

/** Tries of {@link describeCreated}. */
const DESCRIBE_TRIES = 3;

/**
 * The new schedule's description (its next run times). The server answers it by asking the
 * schedule's own workflow, which may not have run its first task yet on a busy server: a timeout
 * then is tried again (the schedule exists: failing here would make the caller create it twice).
 */
export async function describeCreated(handle: Pick<ScheduleHandle, 'scheduleId' | 'describe'>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.describe();
    } catch (err) {
      const timedOut = err instanceof ServiceError && /DEADLINE_EXCEEDED/.test(String(err.cause));
      if (!timedOut) throw err;
      if (attempt >= DESCRIBE_TRIES)
        throw new Error(
          `schedule ${handle.scheduleId} was created, but reading it back timed out ${DESCRIBE_TRIES} times (${err.cause}); see it with: waba-runbooks schedule list`,
          { cause: err },
        );
    }
  }
}
