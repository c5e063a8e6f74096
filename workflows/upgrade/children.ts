// The child workflows of an upgrade: the database schema (dbUpgrade) before the containers, and the
// media chown (mediaChown) after the Webapps.
import { executeChild, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { UpgradeInput } from '../../src/model/inputs';
import type { DbUpgradeResult, dbUpgrade } from '../db-upgrade';
import type { Progress } from '../lib/progress';
import type { MediaChownResult, mediaChown } from '../media-chown';

/** The dbupgrade job on the target version, as a child run (`<id>/dbUpgrade`); the apps are not restarted. */
export async function upgradeDatabase(
  input: UpgradeInput,
  cluster: string,
  id: string,
  progress: Progress,
): Promise<DbUpgradeResult> {
  progress.stage('dbUpgrade');
  // Typed by the child's function; started by its type name (defineRunbook's functions are anonymous).
  return await executeChild<typeof dbUpgrade>('dbUpgrade', {
    workflowId: `${id}/dbUpgrade`,
    args: [
      {
        cluster,
        toVersion: input.toVersion,
        restartApps: false,
        timeouts: { job: input.timeouts.dbUpgrade },
      },
    ],
  });
}

/**
 * The mediaChown child (`<id>/mediaChown`), started after the Webapps and awaited at the end. It
 * keeps to the upgrade's window (unless the upgrade was forced outside it): it stops when the window
 * closes and resumes at its next opening, as a mediaChown does.
 */
export async function startMediaChown(
  input: UpgradeInput,
  cluster: string,
  id: string,
  progress: Progress,
): Promise<{ result: Promise<MediaChownResult> }> {
  progress.stage('mediaChown started');
  const w = input.window && !input.force ? input.window : undefined;
  const handle = await startChild<typeof mediaChown>('mediaChown', {
    workflowId: `${id}/mediaChown`,
    args: [
      w
        ? { cluster, window: { days: w.days, start: w.start, end: w.end, timeZone: w.timeZone } }
        : { cluster },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  const result = handle.result();
  // Awaited at the end; until then a failure of the child must not count as unhandled.
  result.catch(() => undefined);
  return { result };
}
