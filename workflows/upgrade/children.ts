// The child workflows of an upgrade: the database schema (dbUpgrade) before the containers, and the
// media chown (mediaChown) after the Webapps.
import {
  executeChild,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  startChild,
} from '@temporalio/workflow';
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
 * Runs started before the mediaChown child ended with its upgrade left it running (ABANDON) after
 * the upgrade failed: past a rollback to an older Webapp, and without the cluster lock.
 */
export const CHOWN_ENDS_WITH_UPGRADE_PATCH = 'media-chown-ends-with-its-upgrade';

/** The running mediaChown child: its result (awaited at the end), and how to stop it before then. */
export interface MediaChownChild {
  result: Promise<MediaChownResult>;
  /** Cancel the child and wait until it stopped its chown (nothing when it ended already). */
  stop(): Promise<void>;
}

/**
 * The mediaChown child (`<id>/mediaChown`), started after the Webapps and awaited at the end. It
 * keeps to the upgrade's window (unless the upgrade was forced outside it): it stops when the window
 * closes and resumes at its next opening, as a mediaChown does. It lives no longer than the upgrade:
 * a rollback stops it first, and an upgrade that fails or is terminated cancels it (the child
 * holds no lock of its own: it shares the upgrade's).
 */
export async function startMediaChown(
  input: UpgradeInput,
  cluster: string,
  id: string,
  progress: Progress,
): Promise<MediaChownChild> {
  progress.stage('mediaChown started');
  const w = input.window && !input.force ? input.window : undefined;
  const bound = patched(CHOWN_ENDS_WITH_UPGRADE_PATCH);
  const childId = `${id}/mediaChown`;
  const handle = await startChild<typeof mediaChown>('mediaChown', {
    workflowId: childId,
    args: [
      w
        ? { cluster, window: { days: w.days, start: w.start, end: w.end, timeZone: w.timeZone } }
        : { cluster },
    ],
    parentClosePolicy: bound ? ParentClosePolicy.REQUEST_CANCEL : ParentClosePolicy.ABANDON,
  });
  let ended = false;
  const result = handle.result();
  // Awaited at the end; until then a failure of the child must not count as unhandled.
  result.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  return {
    result,
    async stop() {
      if (!bound || ended) return;
      progress.stage('stopping mediaChown');
      // By workflow id alone: the child may have continued as new (it waits for the next window).
      // One that ended meanwhile refuses the request: nothing left to stop.
      await getExternalWorkflowHandle(childId)
        .cancel()
        .catch(() => undefined);
      await result.catch(() => undefined);
    },
  };
}
