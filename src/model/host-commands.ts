// Remote commands about a host itself: Docker's presence, directories, files, uploads, and the sudo
// wrapper. Pure builders: values go through shellCommand / shellQuote; the shell syntax around them
// (`&&`, `|`, `$(...)`, redirections) is fixed text.
import { shellCommand, shellQuote } from './shell';

/** The Docker server's version: preflight's "does docker answer". */
export const DOCKER_VERSION = shellCommand(['docker', 'version', '--format', '{{.Server.Version}}']);

/** `<mode> <path>` of a directory and of each of its subdirectories; silent about what is missing. */
export function dirModesCommand(dir: string): string {
  return `${shellCommand(['stat', '-c', '%a %n', dir])} ${shellQuote(dir)}/*/ 2>/dev/null`;
}

export function makeDirCommand(dir: string): string {
  return shellCommand(['mkdir', '-p', dir]);
}

/** A file's sha256 in hex, or nothing when the file does not exist. */
export function fileSha256Command(path: string): string {
  return `${shellCommand(['sha256sum', path])} 2>/dev/null | ${CUT_FIRST_FIELD}`;
}

/** Sets a file's mode (e.g. 0o600): a file already in place keeps the mode it was created with otherwise. */
export function fileModeCommand(path: string, mode: number): string {
  return shellCommand(['chmod', mode.toString(8), path]);
}

/** Exit 0 when the file exists. */
export function fileExistsCommand(path: string): string {
  return shellCommand(['test', '-f', path]);
}

export function removeFileCommand(path: string): string {
  return shellCommand(['rm', '-f', path]);
}

/**
 * `command`, made stoppable through its SSH channel: it stops when the channel's input ends. The
 * worker never writes to a command's input; it ends it only to stop a command it no longer wants
 * (the activity was cancelled, the timeout passed), and sshd ends it when the connection drops. A
 * watcher in the background waits for that end of input, then signals the command's whole process
 * group: TERM, and KILL 2 s later for whatever ignored it. The command itself runs in a subshell of
 * the same shell (an `exit` in it ends only the subshell); its exit code is the wrapper's. On a
 * normal end the watcher is stopped with PIPE, a signal shells do not report. Works under `sudo -n
 * sh -c` too (then the watcher is root's and so can signal root's processes).
 */
export function stoppableCommand(command: string): string {
  return [
    'exec 3<&0',
    "{ while read -r _; do :; done; trap '' TERM; kill -TERM 0; sleep 2; kill -KILL 0; } <&3 >/dev/null 2>&1 &",
    'waba_watch=$!',
    'exec 3<&-',
    '(',
    command,
    ')',
    'waba_code=$?',
    'kill -PIPE $waba_watch 2>/dev/null',
    'exit $waba_code',
  ].join('\n');
}

/** A whole command run as root; `-n`: fail at once rather than wait for a password. */
export function sudoCommand(command: string): string {
  return shellCommand(['sudo', '-n', 'sh', '-c', command]);
}

/** A new empty file only the login user can read (mode 600, in $TMPDIR or /tmp); prints its path. */
export const MAKE_TEMP_FILE = shellCommand(['mktemp', '-t', 'waba-upload.XXXXXXXX']);

const CUT_FIRST_FIELD = shellCommand(['cut', '-d', ' ', '-f1']);

/** Fail with exit code 3 (and remove `file`) unless `file` has this sha256. */
function checkSha256(file: string, sha256: string): string {
  return (
    `sum=$(${shellCommand(['sha256sum', file])} | ${CUT_FIRST_FIELD}); ` +
    `if [ "$sum" != ${shellQuote(sha256)} ]; then ${removeFileCommand(file)}; ` +
    `echo "checksum mismatch: $sum" >&2; exit 3; fi`
  );
}

/**
 * An upload written next to its destination: check its sha256, then rename it into place (same
 * directory, so atomic: the real path never holds half a file).
 */
export function checksumAndRenameCommand(tmp: string, sha256: string, dest: string): string {
  return `set -e; ${checkSha256(tmp, sha256)}; ${shellCommand(['mv', '-f', tmp, dest])}`;
}

/**
 * An upload the login user wrote where it may (`tmp`, e.g. from MAKE_TEMP_FILE), for a host where
 * the destination is root's: run under sudo, it checks the sha256, installs the file owned by root
 * with `mode` as `staging` next to `dest`, renames that into place, and removes `tmp` in any case.
 */
export function checksumAndInstallCommand(
  tmp: string,
  sha256: string,
  dest: string,
  staging: string,
  mode: number,
): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`not a file mode: ${mode}`);
  const cleanup = shellCommand(['rm', '-f', tmp, staging]);
  return (
    `set -e; trap ${shellQuote(cleanup)} EXIT; ${checkSha256(tmp, sha256)}; ` +
    `${shellCommand(['install', '-m', mode.toString(8), tmp, staging])}; ` +
    shellCommand(['mv', '-f', staging, dest])
  );
}
