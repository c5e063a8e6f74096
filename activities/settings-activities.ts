// Settings restore (reference §3.8): find a stored backup and verify it on the worker, then
// POST /v1/settings/restore with it and the backup password, both read on the worker only.
import { clusterSecret } from './cluster-secrets';
import { type ClusterRequest, onCluster } from './remote';
import { checkBackupPath, type FoundBackup, findBackup, verifiedBackup } from './settings-backups';
import type { WabaActivityDeps } from './waba-activities';
import { WabaApi } from './waba-api';

export interface SettingsDeps extends WabaActivityDeps {
  /** Where the backups are (WABA_ARTIFACTS_DIR). */
  artifactsDir: string;
}

export function settingsActivities(deps: SettingsDeps) {
  const cluster = onCluster(deps.inventory);
  return {
    /** The one backup of the cluster taken by `runId` or with `sha256`, its checksum verified. */
    findSettingsBackup: cluster(
      'find settings backup',
      async (a: ClusterRequest & { runId?: string; sha256?: string }, spec): Promise<FoundBackup> =>
        findBackup(deps.artifactsDir, spec.name, {
          ...(a.runId ? { runId: a.runId } : {}),
          ...(a.sha256 ? { sha256: a.sha256 } : {}),
        }),
    ),

    /**
     * The backup at `path` (this cluster's folder only) verified against `sha256` once more as it is
     * read, then sent: what is sent is exactly what was verified. An existing registered app stops
     * after a restore: the caller restarts the Coreapps.
     */
    settingsRestore: cluster(
      'settings restore',
      async (a: ClusterRequest & { path: string; sha256: string }, spec) => {
        const file = checkBackupPath(deps.artifactsDir, spec.name, a.path);
        const { data, version } = await verifiedBackup(file, a.sha256, spec.name);
        const password = await clusterSecret(deps.secrets, spec, 'backup.passwordRef');
        await new WabaApi(spec, deps).authorized(
          'POST /v1/settings/restore',
          'POST',
          '/v1/settings/restore',
          {
            password,
            data,
          },
        );
        return { path: file, sha256: a.sha256, version };
      },
    ),
  };
}
