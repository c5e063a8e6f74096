// The prerequisites stage's probes on one host (src/model/prerequisites.ts judges what they read):
// the database port from this host, timed; on the host asked, the server's version and the media
// tree's modes. Read-only; a probe that finds something wrong returns it, it does not throw.
import type { ClusterSpec } from '../src/model/cluster';
import { INVENTORY_INCOMPLETE, nonRetryable } from '../src/model/errors';
import {
  dbConnectTimesCommand,
  dbGreetingCommand,
  type GreetingRead,
  mediaTreeCommand,
} from '../src/model/prerequisite-commands';
import {
  CONNECT_TIMEOUT_S,
  CONNECT_TRIES,
  findExitOf,
  MEDIA_REPORT_LIMIT,
  MEDIA_WALK_TIMEOUT_S,
  type PrerequisiteProbe,
  parseConnectTimes,
  parseMysqlGreeting,
  printable,
} from '../src/model/prerequisites';
import { clusterSecret } from './cluster-secrets';
import { postgresVersion } from './postgres-version';
import type { HostDeps, HostRequest } from './remote';
import { remote, sshTarget } from './remote';

export interface PrerequisiteProbeRequest extends HostRequest {
  /** Read the database server's version from this host (one host per run is enough). */
  engineVersion: boolean;
  /** Walk the media tree from this host (a shared mount: one host per run). */
  mediaTree: boolean;
  /** How to read MySQL's greeting, as the run's plan shows it (absent: runs of before the choice, `until-wait`). */
  greetingRead?: GreetingRead;
}

export function prerequisiteActivities(deps: HostDeps) {
  const { exec, onCluster } = remote(deps);
  return {
    /** Seed "Components and prerequisites" seen from one host: DB reachable and near, version, media modes. */
    prerequisitesHost: onCluster(
      'prerequisites',
      async (a: PrerequisiteProbeRequest, cluster): Promise<PrerequisiteProbe> => {
        const db = cluster.db;
        if (!db)
          throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no db in the inventory`);
        const connectOut = await exec(
          cluster,
          a.host,
          dbConnectTimesCommand(db.host, db.port, CONNECT_TRIES, CONNECT_TIMEOUT_S, db.engine),
          (CONNECT_TRIES * CONNECT_TIMEOUT_S + 10) * 1000,
        );
        const probe: PrerequisiteProbe = {
          host: a.host,
          target: `${db.host}:${db.port}`,
          connect: parseConnectTimes(connectOut.stdout),
          connectTimeoutS: CONNECT_TIMEOUT_S,
        };
        if (a.engineVersion)
          probe.engineVersion = await engineVersion(cluster, a.host, a.greetingRead ?? 'until-wait');
        if (a.mediaTree && cluster.media?.hostPath) {
          const dir = cluster.media.hostPath;
          const out = await exec(
            cluster,
            a.host,
            mediaTreeCommand(dir, MEDIA_REPORT_LIMIT, MEDIA_WALK_TIMEOUT_S),
            (MEDIA_WALK_TIMEOUT_S + 30) * 1000,
          );
          const exit = findExitOf(out.stderr);
          probe.media = {
            dir,
            stdout: out.stdout,
            timeoutS: MEDIA_WALK_TIMEOUT_S,
            ...(exit === undefined ? {} : { exit }),
          };
        }
        return probe;
      },
    ),
  };

  async function engineVersion(
    cluster: ClusterSpec,
    host: string,
    read: GreetingRead,
  ): Promise<NonNullable<PrerequisiteProbe['engineVersion']>> {
    const db = cluster.db as NonNullable<ClusterSpec['db']>;
    if (db.engine === 'PGSQL') return postgresEngineVersion(cluster, host, db);
    const out = await exec(cluster, host, dbGreetingCommand(db.host, db.port, 2, read), 15_000);
    if (out.code !== 0 && !out.stdout.trim())
      return {
        error: `no greeting from ${db.host}:${db.port} (exit ${out.code}${out.stderr ? `: ${printable(out.stderr, 120)}` : ''})`,
      };
    return parseMysqlGreeting(out.stdout);
  }

  /**
   * PostgreSQL says its version only after a login (docs/runbooks/preflight-check.md): as db.user,
   * through `host`'s SSH connection to the server. A login or connection the server refuses is a
   * warning (the version is unknown), not a failure: db-reachable judges the port.
   */
  async function postgresEngineVersion(
    cluster: ClusterSpec,
    host: string,
    db: NonNullable<ClusterSpec['db']>,
  ): Promise<NonNullable<PrerequisiteProbe['engineVersion']>> {
    const password = await clusterSecret(deps.secrets, cluster, 'db.passwordRef');
    try {
      const version = await deps.ssh.throughHost(sshTarget(cluster, host), db.host, db.port, (channel) =>
        postgresVersion(channel, { user: db.user, password }, PG_LOGIN_TIMEOUT_MS),
      );
      // The server's answer is untrusted text bound for history: printable and bounded, as MySQL's greeting.
      return { version: printable(version, 120) };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        unread: `logging in as ${db.user} from ${host} failed: ${printable(password ? why.replaceAll(password, '***') : why, 160)}`,
      };
    }
  }
}

const PG_LOGIN_TIMEOUT_MS = 10_000;
