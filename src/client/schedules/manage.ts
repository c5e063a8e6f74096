// Pause, unpause and delete a schedule.
import type { Client } from '@temporalio/client';
import { type ScheduleInfo, toScheduleInfo } from './read';

export async function pauseSchedule(
  client: Client,
  scheduleId: string,
  note?: string,
): Promise<ScheduleInfo> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.pause(note?.trim() || 'paused with waba-runbooks');
  return toScheduleInfo(await handle.describe());
}

export async function unpauseSchedule(
  client: Client,
  scheduleId: string,
  note?: string,
): Promise<ScheduleInfo> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.unpause(note?.trim() || 'unpaused with waba-runbooks');
  return toScheduleInfo(await handle.describe());
}

export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}
