// Temporal Schedules for runbooks (off-peak upgrades): create, list, describe, pause, unpause,
// trigger and delete, through the SDK's ScheduleClient (`client.schedule`). Used by the CLI and tests.
export { checkTimeZone, type ParsedCalendar, parseCalendar } from './calendar';
export { type CreatedSchedule, type CreateScheduleOptions, createSchedule } from './create';
export { deleteSchedule, pauseSchedule, unpauseSchedule } from './manage';
export { describeSchedule, listSchedules, type ScheduleInfo, type ScheduleListItem } from './read';
export { type Triggered, triggerSchedule } from './trigger';
