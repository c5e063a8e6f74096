// Every runbook's input schema and the checks of an input against its resolved cluster, by name:
// the one registry the workflows, the CLI, ChatOps, schedules and the JSON Schemas use.
import type { z } from 'zod';
import type { RunbookName } from '../runbooks';
import { CollectLogsInput } from './collect-logs';
import type { InputIssue, Resolved } from './common';
import { DbUpgradeInput, dbUpgradeIssues } from './db-upgrade';
import { HaDrillInput, haDrillIssues } from './ha-drill';
import { HaSetupInput, haSetupIssues } from './ha-setup';
import { HealthCheckInput } from './health-check';
import { MediaChownInput } from './media-chown';
import { MulticonnectExpandInput, multiconnectExpandIssues } from './multiconnect-expand';
import { PreflightCheckInput } from './preflight-check';
import { SettingsRestoreInput, settingsRestoreIssues } from './settings-restore';
import { UninstallInput, uninstallIssues } from './uninstall';
import { UpgradeInput, upgradeIssues } from './upgrade';

export interface RunbookInput<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Problems of a valid input against the cluster it names (hosts, versions, policy bounds). */
  issues: (input: z.output<S>, resolved: Resolved) => InputIssue[];
}

const none = (): InputIssue[] => [];
const entry = <S extends z.ZodType>(
  schema: S,
  issues: (input: z.output<S>, resolved: Resolved) => InputIssue[] = none,
): RunbookInput<S> => ({ schema, issues });

export const RUNBOOK_INPUTS = {
  healthCheck: entry(HealthCheckInput),
  haSetup: entry(HaSetupInput, haSetupIssues),
  multiconnectExpand: entry(MulticonnectExpandInput, multiconnectExpandIssues),
  upgrade: entry(UpgradeInput, upgradeIssues),
  dbUpgrade: entry(DbUpgradeInput, dbUpgradeIssues),
  mediaChown: entry(MediaChownInput),
  uninstall: entry(UninstallInput, uninstallIssues),
  collectLogs: entry(CollectLogsInput),
  haDrill: entry(HaDrillInput, haDrillIssues),
  settingsRestore: entry(SettingsRestoreInput, settingsRestoreIssues),
  preflightCheck: entry(PreflightCheckInput),
} satisfies Record<RunbookName, RunbookInput>;

export { CollectLogsInput } from './collect-logs';
export * from './common';
export { DbUpgradeInput } from './db-upgrade';
export { DrillTarget, HaDrillInput } from './ha-drill';
export { HaSetupInput } from './ha-setup';
export { HealthCheckInput } from './health-check';
export { MEDIA_WINDOW_FIELDS, MediaChownInput } from './media-chown';
export { MulticonnectExpandInput } from './multiconnect-expand';
export { PreflightCheckInput } from './preflight-check';
export { SettingsRestoreInput } from './settings-restore';
export { UninstallInput } from './uninstall';
export { UpgradeInput, UpgradeRollback } from './upgrade';
