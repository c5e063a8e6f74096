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
/**
 * Files of the detached chown, inside the container: its pid (the leader of its own process group),
 * the counts taken when it started (`total remaining`), one byte per file the chown reported
 * changed, its exit code while the counter is still being flushed, then its exit code when done.
 */
const CHOWN_PID = '/tmp/waba-chown.pid';
const CHOWN_COUNTS = '/tmp/waba-chown.counts';
const CHOWN_CHANGED = '/tmp/waba-chown.changed';
const CHOWN_RC = '/tmp/waba-chown.rc';
const CHOWN_EXIT = '/tmp/waba-chown.exit';

const mediaDirs = (mediaDir: string) => MEDIA_DIRS.map((d) => `${mediaDir}/${d}`);
const findNotRoot = (mediaDir: string, ...action: string[]) =>
  shellCommand(['find', ...mediaDirs(mediaDir), '!', '-user', 'root', ...action]);
/**
 * One walk of the media folders that prints `<not root's> <all>`: find ends the name of a file
 * owned by root with a NUL and any other with a newline; only those separators are kept, and `wc
 * -lc` counts newlines (not root's) and bytes (all files). Only find, tr and wc (coreutils or busybox).
 */
const countOnce = (mediaDir: string) =>
  `${shellCommand(['find', ...mediaDirs(mediaDir), '(', '-user', 'root', '-print0', ')', '-o', '-print'])} | tr -cd '\\000\\n' | wc -lc`;
/** Exit 0 while the chown whose pid is in CHOWN_PID runs (that pid alive, and it is the chown's shell). */
const chownAlive = `p=$(cat ${CHOWN_PID} 2>/dev/null) && kill -0 "$p" 2>/dev/null && grep -q waba-chown "/proc/$p/cmdline" 2>/dev/null`;

function inContainer(container: string, script: string): string {
  return shellCommand(['docker', 'exec', container, 'sh', '-c', script]);
}

/** Exit 0 while a chown started by startMediaChownCommand is still running. */
export function mediaChownRunningCommand(container: string): string {
  return inContainer(container, `test -f ${CHOWN_PID} && ! test -f ${CHOWN_EXIT} && ${chownAlive}`);
}

/**
 * Count the media files in one walk and keep the counts for the chown's progress: prints `<total>
 * <not root's yet>` (one line) and writes it to the counts file.
 */
export function mediaCountsCommand(container: string, mediaDir: string): string {
  return inContainer(
    container,
    `set -- $(${countOnce(mediaDir)}); echo "$2 $1" > ${CHOWN_COUNTS}; cat ${CHOWN_COUNTS}`,
  );
}

/** The counts kept when the running chown started (`<total> <not root's>`), or nothing. */
export function mediaChownCountsCommand(container: string): string {
  return inContainer(container, `cat ${CHOWN_COUNTS} 2>/dev/null; true`);
}

/** Clear the previous run's markers (not the counts just taken), so a poll never reads a stale exit code. */
export function clearMediaChownMarkersCommand(container: string): string {
  return shellCommand([
    'docker',
    'exec',
    container,
    'rm',
    '-f',
    CHOWN_EXIT,
    CHOWN_RC,
    CHOWN_PID,
    CHOWN_CHANGED,
  ]);
}

/**
 * `chown root` of what is not root's yet, detached inside the container (it outlives the SSH
 * session and the worker), in a session of its own (setsid, where the container has it) so that a
 * stop ends every process of it; a stopped and restarted chown resumes where it left off. `chown
 * -c` prints a line per file it changed; those lines become one byte each in the counter file
 * (`tr`), which is the progress; the exit code is published only once the counter is complete.
 * `-h`: a symbolic link itself becomes root's, as under `chown -R`. Waits (at most 10 s) until the
 * job has written its pid.
 */
export function startMediaChownCommand(container: string, mediaDir: string): string {
  const chown = findNotRoot(mediaDir, '-exec', 'chown', '-h', '-c', 'root', '{}', '+');
  const job = `echo $$ > ${CHOWN_PID}; { ${chown}; echo $? > ${CHOWN_RC}; } | tr -cd '\\n' > ${CHOWN_CHANGED}; mv ${CHOWN_RC} ${CHOWN_EXIT}`;
  const launch = `command -v setsid >/dev/null 2>&1 && exec ${shellCommand(['setsid', 'sh', '-c', job])}; exec ${shellCommand(['sh', '-c', job])}`;
  const waitForPid = `i=0; while ! test -s ${CHOWN_PID} && test $i -lt 50; do sleep 0.2; i=$((i + 1)); done; test -s ${CHOWN_PID}`;
  return `${shellCommand(['docker', 'exec', '-d', container, 'sh', '-c', launch])} && ${inContainer(container, waitForPid)}`;
}

/**
 * The chown's progress without walking the tree: the counts kept at its start (`<total> <not
 * root's>`, or `-`), how many files it reported changed so far, then its exit code, `running`, or
 * `gone` (no exit code and no live process: the container restarted, or it was stopped). Once it
 * has exited, a last line: how many files are still not root's (one walk, the final check). A
 * container that is no longer there or not running (re-created by an `up -d`, stopped) prints
 * `-`, `0`, `no-container`: the job died with it, and `docker exec` into it could only fail.
 */
export function mediaChownProgressCommand(container: string, mediaDir: string): string {
  const script = [
    `cat ${CHOWN_COUNTS} 2>/dev/null || echo -`,
    // The state before the counter: once the exit code is published the counter is complete, so a
    // job ending between the two reads is never reported exited with a partial count. Alive first: a
    // job that is not alive has published its exit code already, if it ended by itself.
    `if ! test -f ${CHOWN_EXIT} && ${chownAlive}; then s=running; elif test -f ${CHOWN_EXIT}; then s=exited; else s=gone; fi`,
    `if test -f ${CHOWN_CHANGED}; then wc -c < ${CHOWN_CHANGED}; else echo 0; fi`,
    `case $s in running) echo running ;; exited) cat ${CHOWN_EXIT}; ${findNotRoot(mediaDir)} | wc -l ;; *) echo gone ;; esac`,
  ].join('; ');
  const running = shellCommand(['docker', 'inspect', '-f', '{{.State.Running}}', container]);
  return `if ${running} 2>/dev/null | grep -qx true; then ${inContainer(container, script)}; else printf '%s\\n' - 0 no-container; fi`;
}

/** Stop a running chown: its whole process group (or its shell, without setsid); what is done stays done. */
export function stopMediaChownCommand(container: string): string {
  return inContainer(
    container,
    `if ${chownAlive}; then kill -TERM "-$p" 2>/dev/null || kill -TERM "$p"; fi; true`,
  );
}
