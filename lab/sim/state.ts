// Cluster state read and written by every simulated node, kept in the shared database.
import { compareVersions } from '../../src/model/version';
import { type Db, getKv, setKv } from './db';

export interface AppSettings {
  heartbeat_interval: number;
  unhealthy_interval: number;
  [key: string]: unknown;
}

/** The product's defaults (reference §3.9); the lab may lower unhealthy_interval for fast tests. */
const DEFAULT_SETTINGS: AppSettings = {
  callback_persist: true,
  callback_backoff_delay_ms: 3000,
  heartbeat_interval: 5,
  unhealthy_interval: 30,
  sent_status: false,
  webhooks: { url: '' },
};

export async function settings(db: Db): Promise<AppSettings> {
  const raw = await getKv(db, 'settings');
  return { ...DEFAULT_SETTINGS, ...(raw ? (JSON.parse(raw) as Partial<AppSettings>) : {}) };
}

export async function saveSettings(db: Db, patch: Record<string, unknown>): Promise<AppSettings> {
  const next = { ...(await settings(db)), ...patch };
  await setKv(db, 'settings', JSON.stringify(next));
  return next;
}

export async function isRegistered(db: Db): Promise<boolean> {
  return (await getKv(db, 'registered')) === '1';
}

export async function shardCount(db: Db): Promise<number> {
  return Number((await getKv(db, 'shards')) ?? '1');
}

export async function fault(db: Db, name: string): Promise<boolean> {
  return (await getKv(db, `fault.${name}`)) === '1';
}

/**
 * Can a node of `version` serve on this database? The schema version only moves forward by the
 * dbupgrade job (MySQL) or the primary master (PostgreSQL, and a fresh install on either engine).
 * An older node keeps working on a newer schema (that is what makes the upgrade zero-downtime).
 */
export async function schemaCheck(
  db: Db,
  version: string,
): Promise<{ ok: boolean; schema: string | undefined }> {
  const schema = await getKv(db, 'schema_version');
  return { ok: schema !== undefined && compareVersions(schema, version) >= 0, schema };
}

/**
 * Fault `settings_drift`: the first start of a Webapp newer than any started before changes an
 * application setting, as a new version may, so an upgrade leaves settings other than the backup's.
 */
export const DRIFTED_SETTINGS = { callback_backoff_delay_ms: 7000 };

export async function driftSettingsOnNewVersion(
  db: Db,
  version: string,
  log: (m: string) => void,
): Promise<void> {
  const seen = await getKv(db, 'newest_webapp_version');
  if (seen !== undefined && compareVersions(version, seen) <= 0) return;
  await setKv(db, 'newest_webapp_version', version);
  if (seen === undefined || !(await fault(db, 'settings_drift'))) return;
  await saveSettings(db, DRIFTED_SETTINGS);
  log(
    `first start of v${version} (newer than v${seen}): settings changed (${JSON.stringify(DRIFTED_SETTINGS)})`,
  );
}

/** When the settings were last restored (ms): Coreapps started before it stop until restarted. */
export async function restoredAt(db: Db): Promise<number> {
  return Number((await getKv(db, 'restored_at')) ?? '0');
}
