// Activities for the later life of a cluster: settings backup, the dbupgrade job, media chown,
// `down`, and log collection. Long work runs detached on the host and is polled, so a worker
// restart re-attaches instead of starting it twice.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import {
  CHOWN_GONE_WITH_CONTAINER,
  type MediaChownProgress,
  parseChownCounts,
  parseChownProgress,
} from '../src/model/chown-progress';
import { type ClusterSpec, mediaDirOf } from '../src/model/cluster';
import { type ComposeVariant, composeCommand, composeLogsCommand, psCommand } from '../src/model/commands';
import {
  clearMediaChownMarkersCommand,
  containerLogsCommand,
  DBUPGRADE_JOBS,
  inspectContainerCommand,
  mediaChownCountsCommand,
  mediaChownProgressCommand,
  mediaChownRunningCommand,
  mediaCountsCommand,
  REMOVE_DBUPGRADE_JOBS,
  removeContainersCommand,
  startMediaChownCommand,
  stopMediaChownCommand,
  waitContainerCommand,
} from '../src/model/container-commands';
import {
  BACKUP_FAILED,
  COMPOSE_FILE_CHANGED,
  COMPOSE_FILE_MISSING,
  DB_UPGRADE_JOB_GONE,
  INVALID_INPUT,
  INVENTORY_INCOMPLETE,
  nonRetryable,
} from '../src/model/errors';
import {
  fileExistsCommand,
  fileModeCommand,
  fileSha256Command,
  makeDirCommand,
} from '../src/model/host-commands';
import { clusterSecret } from './cluster-secrets';
import { dbUpgradeVerdict, parseJobState, parsePs } from './compose';
import { renderDbEnv, sha256 } from './files';
import { composeCall } from './host-activities';
import { type ClusterRequest, type HostDeps, type HostRequest, remote, sshTarget } from './remote';
import { writeBackupRecord } from './settings-backups';
import { WabaApi, type WabaApiDeps } from './waba-api';

export interface LifecycleDeps extends HostDeps, WabaApiDeps {
  /** Where backups and collected logs go on the worker. */
  artifactsDir: string;
}

export { MEDIA_DIRS } from '../src/model/container-commands';
export const DBUPGRADE_FILE = 'dbupgrade-compose.yml';
/** How often the EXIT_ON_SUCCESS=FALSE job is looked at. */
const POLL_MS = 2000;
const tail = (logs: string, n = 20) => logs.trim().split('\n').slice(-n);

function dbUpgradeSource(cluster: ClusterSpec): { file: string; sha256?: string } {
  if (!cluster.compose)
    throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no compose settings`);
  return {
    file: cluster.compose.dbUpgradeFile ?? path.join(path.dirname(cluster.compose.file), DBUPGRADE_FILE),
    sha256: cluster.compose.dbUpgradeSha256,
  };
}

export function lifecycleActivities(deps: LifecycleDeps) {
  const { exec, run, onCluster } = remote(deps);
  const dbCall = (cluster: ClusterSpec, host: string, version: string, variant: ComposeVariant) => ({
    ...composeCall(cluster, host, version, variant),
    file: DBUPGRADE_FILE,
  });

  return {
    /**
     * POST /v1/settings/backup (reference §3.7). The blob (encrypted by the product with the backup
     * password) is written to the artifacts folder on the worker; only its path and sha256 return.
     */
    settingsBackup: onCluster(
      'settings backup',
      async (a: ClusterRequest & { label: string; host?: string }, cluster) => {
        if (!/^[A-Za-z0-9._-]{1,100}$/.test(a.label))
          throw nonRetryable(INVALID_INPUT, 'a backup label is a plain word');
        const password = await clusterSecret(deps.secrets, cluster, 'backup.passwordRef');
        const { json } = await new WabaApi(cluster, deps).authorized(
          'POST /v1/settings/backup',
          'POST',
          '/v1/settings/backup',
          { password },
        );
        const data = (json as { settings?: { data?: unknown } } | null)?.settings?.data;
        if (typeof data !== 'string' || data === '')
          throw nonRetryable(BACKUP_FAILED, 'the backup answer carried no settings.data');
        const dir = path.join(deps.artifactsDir, cluster.name);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const file = path.join(dir, `settings-backup-${a.label}.json`);
        const body = JSON.stringify({ cluster: cluster.name, version: cluster.version, data });
        await writeFile(file, body, { mode: 0o600 });
        // Who took it and its checksum, beside it: what a restore finds it by and verifies it against.
        const taker = Context.current().info.workflowExecution;
        await writeBackupRecord(file, {
          ...(taker ? { runId: taker.runId, workflowId: taker.workflowId } : {}),
          cluster: cluster.name,
          fromVersion: cluster.version ?? 'unknown',
          sha256: sha256(body),
          takenAt: new Date().toISOString(),
        });
        return { path: file, sha256: sha256(body), bytes: body.length };
      },
    ),

    /** dbupgrade-compose.yml and db.env into the work dir of the host that runs the job. */
    uploadDbUpgradeFiles: onCluster('dbupgrade upload', async ({ host }: HostRequest, cluster) => {
      if (!cluster.db) throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no db settings`);
      const source = dbUpgradeSource(cluster);
      const text = await readFile(source.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw nonRetryable(
          COMPOSE_FILE_MISSING,
          `${source.file} cannot be read on the worker (${e.code}); set compose.dbUpgradeFile in the inventory`,
        );
      });
      if (source.sha256 && sha256(text) !== source.sha256)
        throw nonRetryable(
          COMPOSE_FILE_CHANGED,
          `compose.dbUpgradeFile ${source.file} has sha256 ${sha256(text)}, not the expected ${source.sha256}`,
        );
      await run(cluster, host, makeDirCommand(cluster.workDir), 'creating the work dir');
      const target = sshTarget(cluster, host);
      const files = [
        { path: `${cluster.workDir}/${DBUPGRADE_FILE}`, content: text, mode: 0o644 },
        {
          path: `${cluster.workDir}/db.env`,
          content: renderDbEnv(cluster.db, await clusterSecret(deps.secrets, cluster, 'db.passwordRef')),
          mode: 0o600,
        },
      ];
      for (const f of files) {
        const have = (await exec(cluster, host, fileSha256Command(f.path))).stdout.trim();
        if (have !== sha256(f.content)) await deps.ssh.upload(target, Buffer.from(f.content), f.path, f.mode);
        // db.env already in place may have been written by hand (seed A3) readable by everyone.
        else if (f.mode === 0o600)
          await run(cluster, host, fileModeCommand(f.path, f.mode), `chmod 600 ${f.path}`);
      }
      return { host, files: files.map((f) => f.path) };
    }),

    /**
     * Start the dbupgrade job for `version` unless a job of that version is already there (running
     * or exited): a retried activity re-attaches to it instead of starting a second one.
     */
    startDbUpgrade: onCluster(
      'dbupgrade start',
      async (
        a: HostRequest & { version: string; variant: ComposeVariant; exitOnSuccess: boolean },
        cluster,
      ) => {
        const jobs = async () => parsePs(await run(cluster, a.host, DBUPGRADE_JOBS, 'dbupgrade lookup'));
        const existing = await jobs();
        const mine = existing.find((c) => c.image.endsWith(`:v${a.version}`));
        if (mine) return { container: mine.id, started: false };
        if (existing.length > 0)
          await run(
            cluster,
            a.host,
            removeContainersCommand(existing.map((c) => c.id)),
            'removing older dbupgrade jobs',
          );
        const call = dbCall(cluster, a.host, a.version, a.variant);
        // EXIT_ON_SUCCESS is not in the upstream file: a one-off `run -e` passes it to the container.
        const args = a.exitOnSuccess
          ? ['up', '-d', 'dbupgrade']
          : ['run', '-d', '-e', 'EXIT_ON_SUCCESS=FALSE', 'dbupgrade'];
        await run(cluster, a.host, composeCommand(call, args), 'dbupgrade start', 300_000);
        const started = (await jobs()).find((c) => c.image.endsWith(`:v${a.version}`));
        if (!started) throw new Error(`no dbupgrade container of v${a.version} after starting it`);
        return { container: started.id, started: true };
      },
    ),

    /**
     * `docker wait` for the job's exit code, heartbeating. With EXIT_ON_SUCCESS=FALSE the job does not
     * exit on success (its log says when it is done), but it may still die: each poll also reads the
     * container's state, so an exit without an ERROR line ends the wait with its exit code.
     */
    waitDbUpgrade: onCluster(
      'dbupgrade wait',
      async (a: HostRequest & { container: string; exitOnSuccess: boolean }, cluster) => {
        if (a.exitOnSuccess) {
          const code = Number(
            (
              await run(cluster, a.host, waitContainerCommand(a.container), 'waiting for the job', 3_600_000)
            ).trim(),
          );
          const logs = (await exec(cluster, a.host, containerLogsCommand(a.container, 20))).stdout;
          return { exitCode: code, lastLines: tail(logs) };
        }
        for (;;) {
          const inspect = await exec(cluster, a.host, inspectContainerCommand(a.container));
          if (inspect.code !== 0 && !/no such/i.test(inspect.stderr))
            throw new Error(
              `inspecting the dbupgrade job on ${a.host} exited ${inspect.code}: ${inspect.stderr.trim()}`,
            );
          const state = inspect.code === 0 ? parseJobState(inspect.stdout) : undefined;
          const logs = state
            ? (await exec(cluster, a.host, containerLogsCommand(a.container, 50))).stdout
            : '';
          const verdict = dbUpgradeVerdict(logs, state);
          if (verdict.kind === 'gone')
            throw nonRetryable(
              DB_UPGRADE_JOB_GONE,
              `the dbupgrade container ${a.container} on ${a.host} is gone before it said it was done`,
            );
          if (verdict.kind === 'ended') return { exitCode: verdict.exitCode, lastLines: tail(logs) };
          if (Context.current().cancellationSignal.aborted) throw new Error('cancelled');
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      },
    ),

    /** Remove the job's containers (a failed job with restart: on-failure would keep restarting). */
    removeDbUpgrade: onCluster('dbupgrade rm', async (a: HostRequest, cluster) => {
      await run(cluster, a.host, REMOVE_DBUPGRADE_JOBS, 'removing the dbupgrade jobs');
      return { host: a.host };
    }),

    /**
     * Start `chown` of the media folders inside the Webapp container, detached; idempotent. Counts
     * the files once (one walk) and keeps the counts beside the job for its progress; a retry while
     * the job runs re-attaches and reads the counts kept, without walking again.
     */
    startMediaChown: onCluster(
      'media chown start',
      async (a: HostRequest & { version: string; variant: ComposeVariant }, cluster) => {
        const mediaDir = mediaDirOf(cluster);
        const container = await webContainer(cluster, a);
        const running = (await exec(cluster, a.host, mediaChownRunningCommand(container))).code === 0;
        if (running) {
          const kept = parseChownCounts(
            (await run(cluster, a.host, mediaChownCountsCommand(container), 'reading chown counts')).trim(),
          );
          if (kept) return { container, started: false, before: kept };
        }
        const before = parseChownCounts(
          (
            await run(cluster, a.host, mediaCountsCommand(container, mediaDir), 'counting media files')
          ).trim(),
        ) ?? { total: 0, remaining: 0 };
        // Already running (a retry), or nothing left to change (a re-run): start nothing.
        if (running || before.remaining === 0) return { container, started: false, before };
        // Clear the previous run's markers first, so a poll never reads a stale exit code.
        await run(cluster, a.host, clearMediaChownMarkersCommand(container), 'clearing chown markers');
        await run(cluster, a.host, startMediaChownCommand(container, mediaDir), 'starting the chown');
        return { container, started: true, before };
      },
    ),

    /**
     * The chown's progress from what it reports (files changed, counted by the job itself), with
     * the counts kept at its start; no walk of the tree while it runs. Once it exited, the files
     * still not root's are counted again (one walk: the final check).
     */
    mediaChownProgress: onCluster(
      'media chown progress',
      async (a: HostRequest & { container: string }, cluster): Promise<MediaChownProgress> => {
        const mediaDir = mediaDirOf(cluster);
        const p = parseChownProgress(
          await run(
            cluster,
            a.host,
            mediaChownProgressCommand(a.container, mediaDir),
            'reading chown progress',
          ),
        );
        // The container is gone (re-created, stopped) and the job with it: nothing to count in
        // it; the workflow starts the chown again in the service's container of now.
        if (p.containerGone) return { ...CHOWN_GONE_WITH_CONTAINER };
        // A chown started by an older worker kept no counts: count once now (and keep them).
        const counts = p.counts ??
          parseChownCounts(
            (
              await run(cluster, a.host, mediaCountsCommand(a.container, mediaDir), 'counting media files')
            ).trim(),
          ) ?? { total: 0, remaining: 0 };
        const remaining = p.left ?? Math.max(0, counts.remaining - p.changed);
        return {
          total: counts.total,
          remaining,
          done: counts.total - remaining,
          exitCode: p.exitCode,
          changed: p.changed,
          state: p.state,
        };
      },
    ),

    /** Stop a running chown (the window closed); what is done stays done. */
    stopMediaChown: onCluster('media chown stop', async (a: HostRequest & { container: string }, cluster) => {
      await exec(cluster, a.host, stopMediaChownCommand(a.container));
      return { stopped: true };
    }),

    /** `down` (both variables set), optionally removing volumes; then what is left of the project. */
    composeDown: onCluster(
      'compose down',
      async (
        a: HostRequest & { version: string; variant: ComposeVariant; removeVolumes: boolean },
        cluster,
      ) => {
        const call = composeCall(cluster, a.host, a.version, a.variant);
        const exists = await exec(cluster, a.host, fileExistsCommand(`${call.workDir}/${call.file}`));
        if (exists.code !== 0) return { host: a.host, ran: false, left: [] as string[] };
        await run(
          cluster,
          a.host,
          composeCommand(call, ['down', ...(a.removeVolumes ? ['-v'] : [])]),
          'down',
          300_000,
        );
        const left = parsePs(await run(cluster, a.host, psCommand(call), 'ps'));
        return { host: a.host, ran: true, left: left.map((c) => c.name) };
      },
    ),

    /** `logs` of one service into a bounded file on the worker, with its error lines counted. */
    collectServiceLogs: onCluster(
      'logs',
      async (
        a: HostRequest & {
          version: string;
          variant: ComposeVariant;
          service: string;
          since?: string;
          maxBytes: number;
          runDir: string;
        },
        cluster,
      ) => {
        // Under the artifacts folder, in the cluster's own folder: `<cluster>/logs-<run id>`.
        if (
          !/^logs-[0-9a-f-]{1,64}$/.test(a.runDir.slice(cluster.name.length + 1)) ||
          !a.runDir.startsWith(`${cluster.name}/`)
        )
          throw nonRetryable(INVALID_INPUT, `runDir must be ${cluster.name}/logs-<run id>`);
        const call = composeCall(cluster, a.host, a.version, a.variant);
        const args = ['logs', '--no-color', ...(a.since ? ['--since', a.since] : []), a.service];
        const r = await exec(
          cluster,
          a.host,
          composeLogsCommand(call, args, Math.floor(a.maxBytes)),
          600_000,
        );
        const dir = path.join(deps.artifactsDir, a.runDir);
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, `debug_output-${a.host}-${a.service}.txt`);
        await writeFile(file, r.stdout);
        const errorLines = r.stdout.split('\n').filter((l) => /\b(ERROR|FATAL|error)\b/.test(l)).length;
        return {
          host: a.host,
          service: a.service,
          path: file,
          bytes: Buffer.byteLength(r.stdout),
          errorLines,
          sha256: createHash('sha256').update(r.stdout).digest('hex'),
        };
      },
    ),
  };

  async function webContainer(
    cluster: ClusterSpec,
    a: HostRequest & { version: string; variant: ComposeVariant },
  ): Promise<string> {
    const states = parsePs(
      await run(
        cluster,
        a.host,
        psCommand(composeCall(cluster, a.host, a.version, a.variant), 'waweb'),
        'ps',
      ),
    );
    const web = states.find((c) => c.running);
    if (!web) throw new Error(`no running waweb container on ${a.host}`);
    return web.id;
  }
}
