// Remote commands about containers: the dbupgrade job and the media chown run inside the Webapp
// container. Pure builders: values go through shellCommand / shellQuote; the shell syntax around
// them is fixed text. Scripts for `sh -c` inside a container are quoted as one word.
import { inspectIdsCommand } from './commands';
import { shellCommand, shellInt } from './shell';

/** dbupgrade containers on a host, `up` and one-off `run` alike, found by their compose label. */
const DBUPGRADE_IDS = shellCommand([
  'docker',
  'ps',
  '-a',
  '-q',
  '--filter',
  'label=com.docker.compose.service=dbupgrade',
]);

/** `docker inspect` of every dbupgrade container on the host (`[]` when none). */
export const DBUPGRADE_JOBS = inspectIdsCommand(DBUPGRADE_IDS);

/** Remove every dbupgrade container (a failed job with restart: on-failure would keep restarting). */
export const REMOVE_DBUPGRADE_JOBS = `ids=$(${DBUPGRADE_IDS}); [ -z "$ids" ] || docker rm -f $ids >/dev/null`;

export function removeContainersCommand(ids: readonly string[]): string {
  return shellCommand(['docker', 'rm', '-f', ...ids]);
}

/** Blocks until the container exits; prints its exit code. */
export function waitContainerCommand(id: string): string {
  return shellCommand(['docker', 'wait', id]);
}

/** The container's last `lines` log lines, stdout and stderr together. */
export function containerLogsCommand(id: string, lines: number): string {
  return `${shellCommand(['docker', 'logs', '--tail', shellInt(lines), id])} 2>&1`;
}

/** The container's state as `docker inspect` JSON (exit 1 and "No such object" when it is gone). */
export function inspectContainerCommand(id: string): string {
  return shellCommand(['docker', 'inspect', id]);
}

export const MEDIA_DIRS = ['incoming', 'outgoing', 'shared'] as const;
/** Markers of the detached chown, inside the container: its pid, then its exit code when done. */
const CHOWN_PID = '/tmp/waba-chown.pid';
const CHOWN_EXIT = '/tmp/waba-chown.exit';

const mediaDirs = (mediaDir: string) => MEDIA_DIRS.map((d) => `${mediaDir}/${d}`);
const findAll = (mediaDir: string) => shellCommand(['find', ...mediaDirs(mediaDir)]);
const findNotRoot = (mediaDir: string, ...action: string[]) =>
  shellCommand(['find', ...mediaDirs(mediaDir), '!', '-user', 'root', ...action]);
/** Two lines: files in the media folders, and how many of them are not root's yet. */
const mediaCounts = (mediaDir: string) => `${findAll(mediaDir)} | wc -l; ${findNotRoot(mediaDir)} | wc -l`;

function inContainer(container: string, script: string): string {
  return shellCommand(['docker', 'exec', container, 'sh', '-c', script]);
}

/** Exit 0 while a chown started by startMediaChownCommand is still running. */
export function mediaChownRunningCommand(container: string): string {
  return inContainer(
    container,
    `test -f ${CHOWN_PID} && ! test -f ${CHOWN_EXIT} && kill -0 $(cat ${CHOWN_PID}) 2>/dev/null`,
  );
}

/** Files in the media folders, then how many are not root's yet (one number a line). */
export function mediaCountsCommand(container: string, mediaDir: string): string {
  return inContainer(container, mediaCounts(mediaDir));
}

/** Clear the previous run's markers, so a poll never reads a stale exit code. */
export function clearMediaChownMarkersCommand(container: string): string {
  return shellCommand(['docker', 'exec', container, 'rm', '-f', CHOWN_EXIT, CHOWN_PID]);
}

/**
 * `chown root` of what is not root's yet, detached inside the container (it outlives the SSH
 * session and the worker); a stopped and restarted chown resumes where it left off.
 */
export function startMediaChownCommand(container: string, mediaDir: string): string {
  const chown = findNotRoot(mediaDir, '-exec', 'chown', 'root', '{}', '+');
  const script = `echo $$ > ${CHOWN_PID}; rm -f ${CHOWN_EXIT}; ${chown}; echo $? > ${CHOWN_EXIT}`;
  return shellCommand(['docker', 'exec', '-d', container, 'sh', '-c', script]);
}

/** mediaCountsCommand's two lines, then the chown's exit code, or `running`. */
export function mediaChownProgressCommand(container: string, mediaDir: string): string {
  return inContainer(container, `${mediaCounts(mediaDir)}; cat ${CHOWN_EXIT} 2>/dev/null || echo running`);
}

/** Stop a running chown; what is done stays done. */
export function stopMediaChownCommand(container: string): string {
  return inContainer(container, `kill $(cat ${CHOWN_PID}) 2>/dev/null; pkill find; pkill chown; true`);
}
