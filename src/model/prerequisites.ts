// The seed's prerequisites ("Components and prerequisites"), as pure rules over the resolved cluster
// and what the probes on its hosts read (activities/prerequisite-activities.ts). Workflow-safe.
import type { HostSpec } from './cluster';

export type PrerequisiteRule = 'db-host' | 'db-reachable' | 'db-latency' | 'db-engine-version' | 'media-tree';

/** One finding: a failure stops the run, a warning goes to the run's warnings. */
export interface Finding {
  host: string;
  rule: PrerequisiteRule;
  detail: string;
}

export interface PrerequisiteReport {
  failures: Finding[];
  warnings: Finding[];
}

/** `host: rule: detail`, as the failure message and the warnings list them. */
export const findingText = (f: Finding): string => `${f.host}: ${f.rule}: ${f.detail}`;

/** "A few milliseconds away": the median round trip to the server's first answer over this is a warning, unless db.maxLatencyMs says otherwise. */
export const DEFAULT_MAX_DB_LATENCY_MS = 5;

/** Connects per host, and each one's bound: the report says "no answer within" it. */
export const CONNECT_TRIES = 3;
export const CONNECT_TIMEOUT_S = 3;
/** The media walk's bound (a large NFS tree): past it, what was seen is reported and a warning says so. */
export const MEDIA_WALK_TIMEOUT_S = 120;

/** How many offending media directories a report names (the walk stops after one more). */
export const MEDIA_REPORT_LIMIT = 5;

/** What the probes read on one host (activities/prerequisite-activities.ts). */
export interface PrerequisiteProbe {
  host: string;
  /** `db.host:db.port`, as probed. */
  target: string;
  connect: ConnectTimes;
  connectTimeoutS: number;
  /** The version string the server sent, or why none was read. */
  engineVersion?: { version: string } | { error: string } | { unread: string };
  media?: MediaWalk;
}

// --- db-host ---------------------------------------------------------------------------------------

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0)$/i;

/**
 * The database must be on none of the cluster's hosts: db.host compared (case-insensitively) with
 * every host's name, address and external hostname. A loopback db.host means "on each app host".
 */
export function dbHostFindings(hosts: readonly HostSpec[], dbHost: string): Finding[] {
  const db = dbHost.toLowerCase();
  if (LOOPBACK.test(db))
    return [
      {
        host: 'db',
        rule: 'db-host',
        detail: `db.host ${dbHost} is a loopback address: the database would be on every app host`,
      },
    ];
  return hosts
    .filter((h) => [h.name, h.address, h.externalHostname].some((n) => n?.toLowerCase() === db))
    .map((h) => ({
      host: h.name,
      rule: 'db-host',
      detail: `db.host ${dbHost} is this host (${h.roles.join(', ')}): the seed asks for a standalone database server`,
    }));
}

// --- db-reachable and db-latency -------------------------------------------------------------------

/** What the connect probe printed: one line per try, `ok <microseconds>` or `fail <exit code>`. */
export interface ConnectTimes {
  /** Round trips of the connects that answered, in ms. */
  ms: number[];
  /** Exit codes of those that did not (124: no answer within the timeout). */
  failed: number[];
}

export function parseConnectTimes(stdout: string): ConnectTimes {
  const out: ConnectTimes = { ms: [], failed: [] };
  for (const line of stdout.split('\n')) {
    const ok = /^ok (\d{1,12})$/.exec(line.trim());
    if (ok) out.ms.push(Number(ok[1]) / 1000);
    const fail = /^fail (\d{1,3})$/.exec(line.trim());
    if (fail) out.failed.push(Number(fail[1]));
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const ms = (n: number) => `${Math.round(n * 100) / 100} ms`;

/** Any connect that failed: the port does not answer reliably (failure); else the median against the threshold (warning). */
export function latencyFindings(
  host: string,
  target: string,
  times: ConnectTimes,
  maxMs: number,
  timeoutS: number,
): { failures: Finding[]; warnings: Finding[] } {
  const tries = times.ms.length + times.failed.length;
  if (tries === 0 || times.failed.length > 0) {
    const why = times.failed.every((c) => c === 124)
      ? `no answer within ${timeoutS} s`
      : `refused or unreachable (exit ${times.failed.join(', ') || 'none'})`;
    return {
      failures: [
        {
          host,
          rule: 'db-reachable',
          detail: `${target}: ${times.failed.length || 'all'} of ${tries || 'the'} connects failed: ${why}`,
        },
      ],
      warnings: [],
    };
  }
  const m = median(times.ms);
  return {
    failures: [],
    warnings:
      m > maxMs
        ? [
            {
              host,
              rule: 'db-latency',
              detail: `${target}: median round trip ${ms(m)} over ${tries} tries (${times.ms.map(ms).join(', ')}), more than ${maxMs} ms (db.maxLatencyMs)`,
            },
          ]
        : [],
  };
}

// --- db-engine-version -----------------------------------------------------------------------------

/** The engines and major versions the seed names. */
export const SUPPORTED_VERSIONS = { MySQL: ['5.7', '8.0'], PostgreSQL: ['11', '12', '13'] } as const;

/**
 * MariaDB is not in the seed's set. It is the lab's "MySQL" and speaks MySQL 5.7's protocol and SQL
 * from 10.2 on, so 10.2 and later are accepted with a warning; older ones are refused.
 */
export const MARIADB_MIN = [10, 2] as const;

/**
 * PostgreSQL majors after the seed's newest (13) keep the SQL and protocol the app uses: accepted
 * with a warning (the lab's is Debian's 15). Older ones than the seed's oldest are refused.
 */
export const POSTGRES_NEWEST_NAMED = 13;

export interface ServerVersion {
  product: 'MySQL' | 'MariaDB' | 'PostgreSQL';
  /** `major.minor` (MySQL, MariaDB, PostgreSQL < 10) or `major` (PostgreSQL >= 10). */
  major: string;
  /** As the server said it, printable and bounded. */
  text: string;
}

/** Printable ASCII only, at most `max` characters: what a report may quote of a remote answer. */
export const printable = (s: string, max = 80): string => {
  const clean = s.replace(/[^\x20-\x7e]+/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
};

/** The server version string as MySQL/MariaDB or PostgreSQL report it; undefined when it is not one. */
export function parseServerVersion(engine: 'MYSQL' | 'PGSQL', raw: string): ServerVersion | undefined {
  const text = printable(raw.trim());
  if (engine === 'PGSQL') {
    const m = /^(\d{1,3})(?:\.(\d{1,3}))?/.exec(text);
    if (!m) return undefined;
    const major = Number(m[1]) >= 10 ? String(Number(m[1])) : `${Number(m[1])}.${Number(m[2] ?? 0)}`;
    return { product: 'PostgreSQL', major, text };
  }
  // MariaDB before 11 prefixes "5.5.5-" in the handshake, for old MySQL clients.
  const maria = /^(?:5\.5\.5-)?(\d{1,3})\.(\d{1,3})(?:\.\d{1,4})?[^ ]*-MariaDB/i.exec(text);
  if (maria) return { product: 'MariaDB', major: `${Number(maria[1])}.${Number(maria[2])}`, text };
  const mysql = /^(\d{1,3})\.(\d{1,3})(?:\.\d{1,4})?/.exec(text);
  if (!mysql) return undefined;
  return { product: 'MySQL', major: `${Number(mysql[1])}.${Number(mysql[2])}`, text };
}

/** The version read against the seed's set: refused outside it, MariaDB >= 10.2 with a warning. */
export function engineFindings(
  host: string,
  engine: 'MYSQL' | 'PGSQL',
  raw: string,
): { failures: Finding[]; warnings: Finding[] } {
  const v = parseServerVersion(engine, raw);
  const finding = (detail: string): Finding => ({ host, rule: 'db-engine-version', detail });
  const supported = `supported: MySQL ${SUPPORTED_VERSIONS.MySQL.join('/')}, PostgreSQL ${SUPPORTED_VERSIONS.PostgreSQL.join('/')}`;
  if (!v)
    return {
      failures: [
        finding(`the server answered "${printable(raw, 60)}", not a ${engine} version (${supported})`),
      ],
      warnings: [],
    };
  if (v.product === 'MariaDB') {
    const [maj, min] = v.major.split('.').map(Number) as [number, number];
    const recent = maj > MARIADB_MIN[0] || (maj === MARIADB_MIN[0] && min >= MARIADB_MIN[1]);
    return recent
      ? {
          failures: [],
          warnings: [
            finding(
              `MariaDB ${v.text} is not in the seed's set (${supported}); accepted as MySQL-compatible (MariaDB >= ${MARIADB_MIN.join('.')})`,
            ),
          ],
        }
      : { failures: [finding(`MariaDB ${v.text} is too old (${supported})`)], warnings: [] };
  }
  const ok = (SUPPORTED_VERSIONS[v.product] as readonly string[]).includes(v.major);
  if (!ok && v.product === 'PostgreSQL' && Number(v.major) > POSTGRES_NEWEST_NAMED)
    return {
      failures: [],
      warnings: [
        finding(
          `PostgreSQL ${v.text} is newer than the seed's set (${supported}); accepted: newer majors keep the SQL and protocol the app uses`,
        ),
      ],
    };
  return ok
    ? { failures: [], warnings: [] }
    : { failures: [finding(`${v.product} ${v.text} is not supported (${supported})`)], warnings: [] };
}

/**
 * The server version from the first bytes a MySQL server sends (the initial handshake packet, as
 * hex from `od -An -tx1`): 4 header bytes, protocol version 10, then the version NUL-terminated.
 * An error packet (0xff) instead, e.g. "Host ... is not allowed to connect", gives its message.
 */
export function parseMysqlGreeting(hex: string): { version: string } | { error: string } {
  const bytes = (hex.match(/[0-9a-f]{2}/gi) ?? []).map((b) => Number.parseInt(b, 16));
  if (bytes.length < 6) return { error: 'the server sent no handshake' };
  const body = bytes.slice(4);
  const text = (from: number, to?: number) => String.fromCharCode(...body.slice(from, to));
  if (body[0] === 0xff) return { error: `the server refused: ${printable(text(3), 120)}` };
  if (body[0] !== 10) return { error: `not a MySQL handshake (protocol byte ${body[0]})` };
  const end = body.indexOf(0, 1);
  if (end < 0) return { error: 'the handshake ended inside the version' };
  return { version: printable(text(1, end)) };
}

// --- media-tree ------------------------------------------------------------------------------------

export interface ModeLine {
  mode: string;
  path: string;
}

/** `<octal mode> <path>` lines (find -printf '%m %p\n'), paths made printable. */
export function parseModeLines(stdout: string): ModeLine[] {
  return stdout
    .split('\n')
    .map((l) => /^([0-7]{1,4}) (.+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ mode: m[1] as string, path: printable(m[2] as string, 200) }));
}

/**
 * The seed's 755, for group and others: read and search, no write. Writable (775, 777) lets anyone
 * change media; unreadable (750, 700) hides it from the containers' user. The owner's bits are free.
 */
export const notMediaMode = (mode: string): boolean => (Number.parseInt(mode, 8) & 0o077) !== 0o055;

/** What the media walk saw: the directories not 755 for group and others (at most limit + 1), and how the walk ended. */
export interface MediaWalk {
  dir: string;
  stdout: string;
  /** find's exit code (124: stopped by its timeout), or undefined when it was not reported. */
  exit?: number;
  timeoutS: number;
}

/** The exit code the media walk reported on stderr (`find-exit <code>`), if any. */
export function findExitOf(stderr: string): number | undefined {
  const m = /find-exit (\d{1,3})/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

export function mediaTreeFindings(
  host: string,
  walk: MediaWalk,
): { failures: Finding[]; warnings: Finding[] } {
  const bad = parseModeLines(walk.stdout).filter((l) => notMediaMode(l.mode));
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  if (bad.length > 0) {
    const shown = bad.slice(0, MEDIA_REPORT_LIMIT).map((l) => `${l.path} (${l.mode})`);
    const more = bad.length > MEDIA_REPORT_LIMIT ? ' and more' : '';
    failures.push({
      host,
      rule: 'media-tree',
      detail: `${walk.dir}: directories not 755 for group and others: ${shown.join(', ')}${more}`,
    });
  }
  if (walk.exit === 124)
    warnings.push({
      host,
      rule: 'media-tree',
      detail: `${walk.dir}: the walk stopped after ${walk.timeoutS} s; directories after that point were not checked`,
    });
  else if (walk.exit !== undefined && walk.exit !== 0 && bad.length <= MEDIA_REPORT_LIMIT)
    warnings.push({
      host,
      rule: 'media-tree',
      detail: `${walk.dir}: find exited ${walk.exit} (a directory it could not read, or the mount is missing)`,
    });
  return { failures, warnings };
}

// --- the whole report ------------------------------------------------------------------------------

/** The cluster parts the rules read. */
export interface PrerequisiteCluster {
  hosts: readonly HostSpec[];
  db: { engine: 'MYSQL' | 'PGSQL'; host: string; maxLatencyMs?: number | undefined };
}

const reachable = (p: PrerequisiteProbe) => p.connect.failed.length === 0 && p.connect.ms.length > 0;

/** Every rule over the cluster and the probes of its hosts: failures and warnings, each naming host and rule. */
export function evaluatePrerequisites(
  cluster: PrerequisiteCluster,
  probes: readonly PrerequisiteProbe[],
): PrerequisiteReport {
  const report: PrerequisiteReport = {
    failures: dbHostFindings(cluster.hosts, cluster.db.host),
    warnings: [],
  };
  const add = (r: { failures: Finding[]; warnings: Finding[] }) => {
    report.failures.push(...r.failures);
    report.warnings.push(...r.warnings);
  };
  const maxMs = cluster.db.maxLatencyMs ?? DEFAULT_MAX_DB_LATENCY_MS;
  for (const p of probes) {
    add(latencyFindings(p.host, p.target, p.connect, maxMs, p.connectTimeoutS));
    const v = p.engineVersion;
    if (v && 'version' in v) add(engineFindings(p.host, cluster.db.engine, v.version));
    else if (v && 'unread' in v)
      report.warnings.push({ host: p.host, rule: 'db-engine-version', detail: `not read: ${v.unread}` });
    else if (v && reachable(p))
      // When the port does not answer, db-reachable says so already; else the version is unknown: refuse.
      report.failures.push({ host: p.host, rule: 'db-engine-version', detail: `${p.target}: ${v.error}` });
    if (p.media) add(mediaTreeFindings(p.host, p.media));
  }
  return report;
}
