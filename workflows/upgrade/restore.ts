// rollback.restoreSettings: after the images are back, the settings backup this run took is
// restored (verified by its sha256 on the worker first), the Coreapps restarted, then the health gate.

import { restoreSettings } from '../lib/settings-restore';
import type { RollbackContext } from './rollback';

export const RESTORE_STEP_NOTE =
  "POST /v1/settings/restore with this run's backup (sha256 verified first), restart wacore on every Coreapp, health gate";

/** `done`: what the rollback did, said first if the restore fails. */
export async function restoreSettingsAfterRollback(c: RollbackContext, done: string): Promise<void> {
  const back = new Map(
    c.upgraded.filter((u) => u.role === 'coreapp').map((u) => [u.host.name, u.rollbackTo]),
  );
  await restoreSettings({
    ref: c.ref,
    cluster: c.cluster,
    backup: c.backup,
    progress: c.progress,
    restartCoreapps: true,
    variants: c.variants,
    versionOf: (host) => back.get(host) ?? c.cluster.version,
    health: {
      what: `${c.expected} Coreapp(s) connected after the settings restore`,
      condition: { minConnectedCoreapps: c.expected, verdictNotIn: ['degraded'] },
      deadline: c.healthTimeout,
    },
    before: done,
  });
}
