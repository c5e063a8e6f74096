// What an upgrade does when a batch fails (its `up -d` or its health gate): by `rollback`, put the
// upgraded hosts back on what they ran (auto), ask first (ask), or leave them as they are (off);
// with `restoreSettings`, then the run's settings backup restored and the Coreapps restarted.
import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import type { HostSpec, OperableCluster } from '../../src/model/cluster';
import { type ComposeVariant, composeCommand, hostComposeCall } from '../../src/model/commands';
import { ROLLBACK_INCOMPLETE, UPGRADE_FAILED, UPGRADE_ROLLED_BACK } from '../../src/model/errors';
import type { UpgradeRollback } from '../../src/model/inputs';
import type { ClusterRef } from '../../src/model/inventory';
import type { PlanStep } from '../api';
import type { ApprovalGates } from '../lib/approval';
import { failureText } from '../lib/failure-text';
import { hostActs } from '../lib/hosts';
import type { Progress } from '../lib/progress';
import { RESTORE_STEP_NOTE, restoreSettingsAfterRollback } from './restore';
import type { ServiceOnHost } from './versions';

/** "web1, master1 to v2.29.3" or, when they differ, "web1 to v2.29.2, master1 to v2.29.3". */
export function rollbackText(items: { host: HostSpec; rollbackTo: string }[], to = 'to'): string {
  const versions = new Set(items.map((u) => u.rollbackTo));
  if (versions.size === 1) return `${items.map((u) => u.host.name).join(', ')} ${to} v${[...versions][0]}`;
  return items.map((u) => `${u.host.name} ${to} v${u.rollbackTo}`).join(', ');
}

/** The `up -d` of every host the rollback puts back, newest first, with the version it goes back to. */
export function rollbackSteps(
  cluster: OperableCluster,
  upgraded: ServiceOnHost[],
  variants: Map<string, ComposeVariant>,
  restoreSettings = false,
): PlanStep[] {
  const restore = restoreSettings ? [{ stage: 'restore settings', note: RESTORE_STEP_NOTE }] : [];
  const ups = [...upgraded].reverse().map((u) => ({
    stage: 'rollback',
    host: u.host.name,
    command: composeCommand(hostComposeCall(cluster, u.host.name, u.rollbackTo, variants.get(u.host.name)), [
      'up',
      '-d',
      u.service,
    ]),
    note: `back on v${u.rollbackTo}`,
  }));
  return [...ups, ...restore];
}

/** Runs started before a rollback could restore settings never took that path; the marker says it did. */
export const RESTORE_ON_ROLLBACK_PATCH = 'rollback-restores-settings';

/**
 * Runs started before a rollback went on past a host it could not put back failed there at once,
 * leaving every host after it (the older batches) on the new version; the marker says it goes on.
 */
export const ROLLBACK_PAST_FAILED_HOST_PATCH = 'rollback-continues-past-a-failed-host';

export interface RollbackContext {
  rollback: UpgradeRollback;
  /** The run's settings backup (restored with `rollback.restoreSettings`). */
  backup: { path: string; sha256: string };
  /** Connected Coreapps before the upgrade: the health gate after a restore wants as many. */
  expected: number;
  /** The input's timeouts.health. */
  healthTimeout: string;
  cluster: OperableCluster;
  ref: ClusterRef;
  variants: Map<string, ComposeVariant>;
  gates: ApprovalGates;
  progress: Progress;
  /** Hosts (and roles) the run changed, in order: what a rollback puts back (read when it runs). */
  upgraded: ServiceOnHost[];
  /** Appended to the failure: the hosts that were on the target already and left alone. */
  doneText: string;
  /** Work the run started in the background (its mediaChown child): stopped before a rollback. */
  stopBackground?: () => Promise<void>;
}

/** A failed batch (`why`): roll back, ask, or leave the hosts; the run fails in every case. */
export async function onFailedGate(c: RollbackContext, why: string): Promise<never> {
  if (c.rollback.mode === 'auto') return rollbackAll(c, why);
  if (c.rollback.mode === 'ask') {
    try {
      await c.gates.require(
        'rollback',
        `${why}. Approve to put ${rollbackText(c.upgraded, 'back on')}${c.rollback.restoreSettings ? ', then restore the settings backup and restart the Coreapps' : ''}; reject to leave them as they are`,
        rollbackSteps(c.cluster, c.upgraded, c.variants, c.rollback.restoreSettings),
      );
    } catch (err) {
      if (err instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          type: UPGRADE_FAILED,
          nonRetryable: true,
          message: `${why}; rollback not done (${err.message}); hosts left as they are`,
        });
      }
      throw err;
    }
    return rollbackAll(c, why);
  }
  throw ApplicationFailure.create({
    type: UPGRADE_FAILED,
    nonRetryable: true,
    message: `${why}; rollback is off: hosts left as they are`,
  });
}

/**
 * Every upgraded host back on what it ran, newest first; then the run fails with UpgradeRolledBack.
 * A host it cannot put back (unreachable, `up -d` failing after its retries) does not stop the
 * others: they are still put back, and the run fails with RollbackIncomplete naming that host.
 */
async function rollbackAll(c: RollbackContext, why: string): Promise<never> {
  // A chown to root is for >= 2.29.3: it must not go on (or start again) under the Webapps put back.
  await c.stopBackground?.();
  c.progress.stage('rollback');
  const notBack = new Map<ServiceOnHost, string>();
  for (const u of [...c.upgraded].reverse()) {
    c.progress.host(u.host.name, `rolling back to v${u.rollbackTo}`);
    try {
      await hostActs.composeUp({
        cluster: c.ref,
        host: u.host.name,
        service: u.service,
        version: u.rollbackTo,
        variant: c.variants.get(u.host.name) ?? 'v1',
      });
    } catch (err) {
      if (isCancellation(err) || !patched(ROLLBACK_PAST_FAILED_HOST_PATCH)) throw err;
      notBack.set(u, failureText(err));
      c.progress.host(u.host.name, `not rolled back: ${failureText(err)}`);
      continue;
    }
    c.progress.host(u.host.name, `back on v${u.rollbackTo}`);
  }
  if (notBack.size > 0) throw rollbackIncomplete(c, why, notBack);
  if (c.rollback.restoreSettings && patched(RESTORE_ON_ROLLBACK_PATCH))
    await restoreSettingsAfterRollback(c, `${why}; rolled back ${rollbackText(c.upgraded)}${c.doneText}`);
  throw ApplicationFailure.create({
    type: UPGRADE_ROLLED_BACK,
    nonRetryable: true,
    message: `${why}; rolled back ${rollbackText(c.upgraded)}${c.rollback.restoreSettings ? '; settings restored from the backup' : ''}${c.doneText}`,
  });
}

/**
 * The hosts put back and those left on the new version, each with why. The settings backup is not
 * restored onto a cluster that is still half on the new version: the operator decides that.
 */
function rollbackIncomplete(
  c: RollbackContext,
  why: string,
  notBack: Map<ServiceOnHost, string>,
): ApplicationFailure {
  const back = c.upgraded.filter((u) => !notBack.has(u));
  const left = [...notBack].map(([u, reason]) => `${u.host.name} (${reason})`).join(', ');
  const restore = c.rollback.restoreSettings ? '; settings not restored' : '';
  return ApplicationFailure.create({
    type: ROLLBACK_INCOMPLETE,
    nonRetryable: true,
    message: `${why}; rolled back ${back.length > 0 ? rollbackText(back) : 'no host'}; could not roll back ${left}${restore}${c.doneText}`,
  });
}
