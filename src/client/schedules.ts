// Temporal Schedules for runbooks (off-peak upgrades): create, list, describe, pause, unpause,
// trigger and delete, through the SDK's ScheduleClient (`client.schedule`). Used by the CLI and tests.
import {
  type CalendarSpec,
  type CalendarSpecDescription,
  type Client,
  type DayOfWeek,
  type LooseRange,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { WabaCluster, WabaRunbook } from '../../workflows/api';
import { isGated } from '../model/runbooks';
import { runSummary } from '../model/summary';
import type { Signer } from '../signing/signer';
import { signStart } from './decide';
import { checkInput, InputError, RUNBOOKS } from './runbooks';

/** Missed actions (server down, schedule paused at the time) are still taken up to this late. */
export const CATCHUP_WINDOW = '1h';
export const CATCHUP_WINDOW_MS = 3_600_000;
/** What a cluster name may contain (src/model/cluster.ts): safe to put in a visibility query. */
const CLUSTER_NAME = /^[a-z0-9._-]+$/;

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_OF_WEEK: readonly DayOfWeek[] = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
];
const DAYS_HELP =
  'a day (sun, mon, tue, wed, thu, fri, sat), a range like mon-fri, a list like sat,sun, or *';

/** A calendar as `parseCalendar` makes it: days of the week, an hour and a minute. */
export interface ParsedCalendar extends CalendarSpec {
  dayOfWeek: '*' | LooseRange<DayOfWeek>[];
  hour: number;
  minute: number;
}

function dayIndex(spec: string, name: string): number {
  const i = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
  if (i < 0) throw new InputError(`calendar "${spec}": unknown day "${name}"; expected ${DAYS_HELP}`);
  return i;
}

/**
 * `"<days> <hh:mm>"`, e.g. `sun 03:00`, `mon-fri 22:30`, `sat,sun 04:00`, `* 02:15` (every day), as a
 * Temporal calendar spec. A range that wraps (`fri-mon`) is split at Saturday/Sunday. Errors name
 * the bad part.
 */
export function parseCalendar(spec: string): ParsedCalendar {
  const parts = spec.trim().split(/\s+/);
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new InputError(
      `calendar "${spec}": expected "<days> <hh:mm>", e.g. "sun 03:00"; days: ${DAYS_HELP}`,
    );
  }
  const [days, time] = parts as [string, string];

  const t = /^(\d{1,2}):(\d{2})$/.exec(time);
  if (!t) throw new InputError(`calendar "${spec}": time "${time}" is not hh:mm (24-hour), e.g. 03:00`);
  const hour = Number(t[1]);
  const minute = Number(t[2]);
  if (hour > 23) throw new InputError(`calendar "${spec}": hour ${t[1]} in "${time}" is not 00-23`);
  if (minute > 59) throw new InputError(`calendar "${spec}": minute ${t[2]} in "${time}" is not 00-59`);

  if (days === '*') return { dayOfWeek: '*', hour, minute };
  const dayOfWeek: LooseRange<DayOfWeek>[] = [];
  for (const item of days.split(',')) {
    if (item === '')
      throw new InputError(`calendar "${spec}": empty day in "${days}"; expected ${DAYS_HELP}`);
    const range = item.split('-');
    if (range.length > 2)
      throw new InputError(`calendar "${spec}": bad day range "${item}"; expected ${DAYS_HELP}`);
    const start = dayIndex(spec, range[0] as string);
    const end = range.length === 2 ? dayIndex(spec, range[1] as string) : start;
    const at = (i: number) => DAY_OF_WEEK[i] as DayOfWeek;
    if (start === end) dayOfWeek.push(at(start));
    else if (start < end) dayOfWeek.push({ start: at(start), end: at(end) });
    else {
      // fri-mon: fri..sat and sun..mon (Temporal reads a range whose end is before its start as one day).
      dayOfWeek.push(start === 6 ? at(6) : { start: at(start), end: at(6) });
      dayOfWeek.push(end === 0 ? at(0) : { start: at(0), end: at(end) });
    }
  }
  return { dayOfWeek, hour, minute };
}

/** An IANA time zone name as the server loads it (e.g. `Europe/Rome`, `UTC`); anything else is refused. */
export function checkTimeZone(timeZone: string): string {
  const bad = () =>
    new InputError(`time zone "${timeZone}" is not an IANA time zone name such as Europe/Rome or UTC`);
  // Offsets (+01:00) and abbreviations (CET) are not what the server's tz database knows reliably.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) throw bad();
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw bad();
  }
  // `europe/rome` becomes `Europe/Rome`; a valid name ICU maps to another (a link) is kept as given.
  return resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
}

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

/** What the schedule's memo records (the note in `state.note` can be overwritten by pause/unpause). */
interface ScheduleMemo {
  runbook: string;
  cluster: string;
  calendar: string;
  timeZone: string;
  note: string;
  createdAt: string;
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
    const d = await handle.describe();
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

const memoOf = (memo: Record<string, unknown> | undefined): Partial<ScheduleMemo> =>
  (memo ?? {}) as Partial<ScheduleMemo>;

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function info(d: ScheduleDescription): ScheduleInfo {
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
  return info(await client.schedule.getHandle(scheduleId).describe());
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

export async function pauseSchedule(
  client: Client,
  scheduleId: string,
  note?: string,
): Promise<ScheduleInfo> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.pause(note?.trim() || 'paused with waba-runbooks');
  return info(await handle.describe());
}

export async function unpauseSchedule(
  client: Client,
  scheduleId: string,
  note?: string,
): Promise<ScheduleInfo> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.unpause(note?.trim() || 'unpaused with waba-runbooks');
  return info(await handle.describe());
}

export type Triggered =
  | { started: true; workflowId: string; runId: string }
  | { started: false; reason: string };

/**
 * Take the schedule's action now. Refused while a run of the same disruptive runbook is open on the
 * cluster (started by hand or by a schedule: found by its WabaCluster/WabaRunbook search
 * attributes), and taken under the overlap policy SKIP. Waits (at most `waitMs`) for the server to
 * take or skip the action.
 */
export async function triggerSchedule(
  client: Client,
  scheduleId: string,
  waitMs = 15_000,
): Promise<Triggered> {
  const handle = client.schedule.getHandle(scheduleId);
  const described = await handle.describe();
  const { runbook, cluster } = memoOf(described.memo);
  if (runbook && cluster && RUNBOOKS[runbook]?.disruptive && CLUSTER_NAME.test(cluster)) {
    const open = await openRun(client, cluster, runbook);
    if (open) {
      throw new InputError(
        `a ${runbook} run is already in progress on cluster ${cluster} (workflow ${open}); wait for it to finish or cancel it before starting another`,
      );
    }
  }
  const before = described.info;
  const seen = new Set(before.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = (await handle.describe()).info;
    const fresh = now.recentActions.find((a) => !seen.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      return {
        started: true,
        workflowId: fresh.action.workflow.workflowId,
        runId: fresh.action.workflow.firstExecutionRunId,
      };
    }
    if (now.numActionsSkippedOverlap > before.numActionsSkippedOverlap) {
      const running = now.runningActions.map((a) => a.workflow.workflowId).join(', ');
      return {
        started: false,
        reason: `skipped: a run started by this schedule is still open (${running || 'see describe'})`,
      };
    }
    if (Date.now() > deadline) {
      return { started: false, reason: `the server took no action within ${waitMs / 1000}s; see describe` };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The id of an open run of `runbook` on `cluster`, if any (visibility: eventually consistent). */
async function openRun(client: Client, cluster: string, runbook: string): Promise<string | undefined> {
  const query = `WabaCluster = '${cluster}' AND WabaRunbook = '${runbook}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query, pageSize: 1 })) return wf.workflowId;
  return undefined;
}

export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}
