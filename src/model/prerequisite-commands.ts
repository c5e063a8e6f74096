// Remote commands of the prerequisites stage, run on the cluster's hosts. The scripts are fixed
// text; every value (database host and port, media directory, counts) reaches them as a quoted
// positional argument or a shellCommand word, never inside a script. Bash is needed for /dev/tcp.
import { shellCommand, shellInt } from './shell';

/** What a database host may look like here: a DNS name or an address, nothing a path or shell would read. */
const DB_HOST = /^[A-Za-z0-9]([A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?$/;

function checkTarget(host: string, port: number): void {
  if (!DB_HOST.test(host))
    throw new Error(`not a database host name or address: ${JSON.stringify(host.slice(0, 80))}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a TCP port: ${port}`);
}

function checkCount(n: number, max: number, what: string): string {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${what} must be 1..${max}, got ${n}`);
  return shellInt(n);
}

/** The clock in microseconds: bash 5's EPOCHREALTIME (no fork, so it does not add to the round trip), else date. */
const NOW = (v: string) =>
  `if [ -n "\${EPOCHREALTIME:-}" ]; then ${v}=\${EPOCHREALTIME/[.,]/}; else ${v}=$(( $(date +%s%N) / 1000 )); fi`;

/**
 * One round trip to the server at $1:$2, timed from before the connect to its first byte of answer
 * (a TCP connect alone would time only the nearest hop: a proxy's, or a relay's). $3 is what to say
 * first, a printf format: nothing for MySQL (it greets), an SSLRequest for PostgreSQL (it answers
 * one byte). Prints `ok <microseconds>`.
 */
const CONNECT_ONCE = [
  NOW('s'),
  'exec 3<>"/dev/tcp/$1/$2" || exit 1',
  '[ -z "$3" ] || printf "$3" >&3 || exit 1',
  'IFS= read -r -N 1 -u 3 b || exit 1',
  NOW('e'),
  'exec 3>&-',
  'echo "ok $((e - s))"',
].join('\n');

/** $3 tries, each under `timeout $4`: `ok <us>` or `fail <exit code>` (124: no answer in time) per line. */
const CONNECT_TIMES = [
  'i=0',
  'while [ "$i" -lt "$3" ]; do',
  '  i=$((i + 1))',
  '  timeout "$4" bash -c "$5" waba-connect "$1" "$2" "$6" 2>/dev/null || echo "fail $?"',
  'done',
].join('\n');

/** PostgreSQL's SSLRequest (length 8, code 80877103), as printf octal escapes: the server answers S or N. */
const PG_SSL_REQUEST = '\\000\\000\\000\\010\\004\\322\\026\\057';

/** Time `tries` round trips from the host to the database's first answer, each bounded by `timeoutS`. */
export function dbConnectTimesCommand(
  host: string,
  port: number,
  tries = 3,
  timeoutS = 3,
  engine: 'MYSQL' | 'PGSQL' = 'MYSQL',
): string {
  checkTarget(host, port);
  return shellCommand([
    'bash',
    '-c',
    CONNECT_TIMES,
    'waba-db-probe',
    host,
    String(port),
    checkCount(tries, 10, 'tries'),
    checkCount(timeoutS, 60, 'the connect timeout'),
    CONNECT_ONCE,
    engine === 'PGSQL' ? PG_SSL_REQUEST : '',
  ]);
}

/** Connect, and hex-dump what the server says first within $3 s (a MySQL server greets with its version). */
/**
 * How runs started before the packet read took the greeting: everything the server sent until the
 * wait ran out (a MySQL server waits for the login, so always the whole wait). Their plans show it.
 */
const GREETING_UNTIL_WAIT = [
  'exec 3<>"/dev/tcp/$1/$2" || exit 1',
  'timeout "$3" cat <&3 | head -c 512 | od -An -tx1 -v',
].join('\n');

// The greeting packet alone, as hex: its 4-byte header (payload length, little-endian 3 bytes, and
// a sequence number), then exactly that many bytes (at most 508). The server then waits for the
// client's answer: reading to the end would sit out the whole wait. dd reads one byte at a time, so
// nothing past the packet is taken from the socket.
const GREETING = [
  'w=$3',
  'exec 3<>"/dev/tcp/$1/$2" || exit 1',
  'h=$(timeout "$w" dd bs=1 count=4 <&3 2>/dev/null | od -An -tu1)',
  'set -- $h',
  '[ "$#" -eq 4 ] || exit 1',
  'n=$(( $1 + $2 * 256 + $3 * 65536 ))',
  '[ "$n" -le 508 ] || n=508',
  'printf " %02x %02x %02x %02x" "$1" "$2" "$3" "$4"',
  'timeout "$w" dd bs=1 count="$n" <&3 2>/dev/null | od -An -tx1 -v',
].join('\n');

/** `packet`: the greeting packet alone; `until-wait`: runs started before that (see GREETING_UNTIL_WAIT). */
export type GreetingRead = 'packet' | 'until-wait';

/** The MySQL server's greeting packet, as hex; each read bounded by `waitS`, the whole command by `waitS` + 5 s. */
export function dbGreetingCommand(
  host: string,
  port: number,
  waitS = 2,
  read: GreetingRead = 'packet',
): string {
  checkTarget(host, port);
  const wait = checkCount(waitS, 30, 'the greeting wait');
  return shellCommand([
    'timeout',
    shellInt(waitS + 5),
    'bash',
    '-c',
    read === 'packet' ? GREETING : GREETING_UNTIL_WAIT,
    'waba-db-greeting',
    host,
    String(port),
    wait,
  ]);
}

/**
 * Directories under `dir` (itself included, following it when it is a symlink) not 755 for group and
 * others (writable by them, or not readable and searchable by them), `<mode> <path>` per line, at most `limit` + 1 of them; the walk bounded by `timeoutS`. Its
 * exit code goes to stderr as `find-exit <code>` (head would cut it from stdout).
 */
export function mediaTreeCommand(dir: string, limit: number, timeoutS = 120): string {
  if (!dir.startsWith('/') || dir.includes('\0') || dir.split('/').includes('..'))
    throw new Error(`not a normalised absolute path: ${JSON.stringify(dir.slice(0, 80))}`);
  const find = shellCommand([
    'timeout',
    checkCount(timeoutS, 3600, 'the walk timeout'),
    'find',
    '-H',
    dir,
    '-type',
    'd',
    '(',
    '-perm',
    '/022',
    '-o',
    '!',
    '-perm',
    '-055',
    ')',
    '-printf',
    '%m %p\\n',
  ]);
  return `{ ${find} 2>/dev/null; echo "find-exit $?" >&2; } | ${shellCommand(['head', '-n', checkCount(limit + 1, 1000, 'the limit')])}`;
}
