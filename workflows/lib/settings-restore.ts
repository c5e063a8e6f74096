// Restoring a stored settings backup (reference §3.8), shared by the settingsRestore runbook and
// an upgrade's rollback: POST /v1/settings/restore with the verified backup, then `restart wacore`
// on every Coreapp host (a registered app stops after a restore until restarted), then health.
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { ClusterSpec } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import { RESTORE_FAILED } from '../../src/model/errors';
import type { HealthSummary } from '../../src/model/health';
import type { HealthCondition } from '../../src/model/health-condition';
import type { ClusterRef } from '../../src/model/inventory';
import { failureText } from './failure-text';
import { waitForHealth } from './health-gate';
import { hostActs, hostsWithRole } from './hosts';
import type { Progress } from './progress';

export interface RestoreRequest {
  ref: ClusterRef;
  cluster: ClusterSpec;
  backup: { path: string; sha256: string };
  progress: Progress;
  /** false: the Coreapps are left for the operator to restart; no health gate. */
  restartCoreapps: boolean;
  variants: Map<string, ComposeVariant>;
  /** The WA_API_VERSION each Coreapp host runs (compose reads its file with it). */
  versionOf: (host: string) => string;
  health: { what: string; condition: HealthCondition; deadline: string };
  /** Said first in a failure (e.g. what the rollback did before). */
  before?: string;
}

/** Restore, restart, health; RestoreFailed naming the step that failed (cancellation passes through). */
export async function restoreSettings(r: RestoreRequest): Promise<HealthSummary | undefined> {
  const fail = (what: string, err: unknown): never => {
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({
      type: RESTORE_FAILED,
      nonRetryable: true,
      message: `${r.before ? `${r.before}; ` : ''}${what}: ${failureText(err)}`,
    });
  };
  r.progress.stage('restore settings');
  await hostActs
    .settingsRestore({ cluster: r.ref, path: r.backup.path, sha256: r.backup.sha256 })
    .catch((err) => fail(`settings not restored from ${r.backup.path}`, err));
  r.progress.host('settings', `restored from ${r.backup.path}`);
  if (!r.restartCoreapps) return undefined;
  r.progress.stage('restart coreapps');
  for (const h of hostsWithRole(r.cluster, 'coreapp')) {
    await hostActs
      .composeRestart({
        cluster: r.ref,
        host: h.name,
        service: 'wacore',
        version: r.versionOf(h.name),
        variant: r.variants.get(h.name) ?? 'v1',
      })
      .catch((err) => fail(`settings restored; restarting wacore on ${h.name} failed`, err));
    r.progress.host(h.name, 'wacore restarted');
  }
  r.progress.stage('health after restore');
  return waitForHealth({ cluster: r.ref }, r.health.what, r.health.condition, r.health.deadline).catch(
    (err) => fail('settings restored and Coreapps restarted, but the cluster did not come back healthy', err),
  );
}
