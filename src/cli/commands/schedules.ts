// `schedule ...`: Temporal Schedules that start runbooks (src/client/schedules/).
import { ScheduleNotFoundError } from '@temporalio/client';
import { InputError } from '../../client/errors';
import {
  checkTimeZone,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  parseCalendar,
  pauseSchedule,
  type ScheduleInfo,
  triggerSchedule,
  unpauseSchedule,
} from '../../client/schedules';
import { CommandFailed } from '../exit';
import { checkedInput } from '../input';
import { emit, table } from '../output';
import type { Session } from '../session';
import { startSigner, uiLink } from './runs';

/** A schedule the server does not know is the operator's mistake (exit 2), said plainly. */
async function known<T>(scheduleId: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new InputError(`no schedule "${scheduleId}" (see: waba-runbooks schedule list)`);
    throw err;
  }
}

export interface CreateFlags {
  input: string;
  calendar: string;
  tz: string;
  note: string;
  id?: string;
  runs?: string;
  key?: string;
  unsigned?: boolean;
}

export async function create(s: Session, runbook: string, o: CreateFlags): Promise<void> {
  const input = checkedInput(runbook, o.input);
  if (o.runs !== undefined && !/^[1-9]\d{0,5}$/.test(o.runs))
    throw new InputError(`--runs must be a whole number of at least 1, got "${o.runs}"`);
  // Everything the server is not needed for is checked before connecting.
  parseCalendar(o.calendar);
  checkTimeZone(o.tz);
  if (!o.note.trim())
    throw new InputError('a schedule needs a note: who created it and why, e.g. "alice: monthly upgrade"');
  const signer = await startSigner(runbook, o);
  const c = await s.connect();
  const created = await createSchedule(c.client, {
    runbook,
    input,
    calendar: o.calendar,
    timeZone: o.tz,
    note: o.note,
    taskQueue: c.taskQueue,
    ...(o.id ? { scheduleId: o.id } : {}),
    ...(o.runs ? { remainingActions: Number(o.runs) } : {}),
    ...(signer ? { signer } : {}),
  });
  emit(s.format, { ...created, signedWith: signer?.fingerprint ?? null }, () =>
    [
      `created schedule ${created.scheduleId}: ${runbook} on cluster ${created.cluster}`,
      ...(signer ? [`request signed with ${signer.fingerprint} for every run of the schedule`] : []),
      `next runs: ${created.nextRunTimes.slice(0, 3).join(', ') || 'none'}`,
      `each run's workflow id is ${created.workflowId}-<scheduled time>; see: waba-runbooks schedule describe ${created.scheduleId}`,
    ].join('\n'),
  );
}

export async function list(s: Session, o: { cluster?: string }): Promise<void> {
  const c = await s.connect();
  const all = await listSchedules(c.client, o.cluster !== undefined ? { cluster: o.cluster } : {});
  emit(s.format, all, () =>
    all.length
      ? table(
          ['SCHEDULE', 'CLUSTER', 'RUNBOOK', 'CALENDAR', 'STATE', 'NEXT RUN', 'NOTE'],
          all.map((x) => [
            x.scheduleId,
            x.cluster || '-',
            x.runbook || '-',
            `${x.calendar || '-'} ${x.timeZone}`,
            x.paused ? 'paused' : 'active',
            x.nextRunTime ?? '-',
            x.note,
          ]),
        )
      : 'no schedules',
  );
}

function infoText(i: ScheduleInfo): string {
  return [
    `${i.scheduleId}: ${i.runbook} on ${i.cluster}, ${i.calendar} ${i.timeZone}, ${i.paused ? 'PAUSED' : 'active'}`,
    `note: ${i.note}`,
    `created: ${i.createdAt} (${i.createdNote})`,
    `overlap ${i.overlap}, catch-up window ${i.catchupWindow}${i.remainingActions !== undefined ? `, ${i.remainingActions} run(s) left` : ''}`,
    `next runs: ${i.nextRunTimes.slice(0, 3).join(', ') || 'none'}`,
    `running: ${i.runningRuns.map((r) => r.workflowId).join(', ') || 'none'}`,
    `recent: ${i.recentRuns.map((r) => r.workflowId).join(', ') || 'none'}`,
    `taken ${i.actionsTaken}, skipped (overlap) ${i.skippedOverlap}, missed (catch-up) ${i.missedCatchupWindow}`,
  ].join('\n');
}

export async function describe(s: Session, id: string): Promise<void> {
  const c = await s.connect();
  const i = await known(id, () => describeSchedule(c.client, id));
  emit(s.format, i, () => infoText(i));
}

export async function pause(s: Session, id: string, o: { note?: string }, resume = false): Promise<void> {
  const c = await s.connect();
  const i = await known(id, () => (resume ? unpauseSchedule : pauseSchedule)(c.client, id, o.note));
  emit(s.format, i, () => infoText(i));
}

export async function trigger(s: Session, id: string): Promise<void> {
  const c = await s.connect();
  const t = await known(id, () => triggerSchedule(c.client, id));
  if (!t.started) throw new CommandFailed(`schedule ${id}: ${t.reason}`);
  const out = { ...t, url: uiLink(c.namespace, t.workflowId) };
  emit(s.format, out, () => `started ${t.workflowId} (run ${t.runId})\nWeb UI: ${out.url}`);
}

export async function remove(s: Session, id: string): Promise<void> {
  const c = await s.connect();
  await known(id, () => deleteSchedule(c.client, id));
  emit(s.format, { scheduleId: id, deleted: true }, () => `deleted schedule ${id}`);
}
