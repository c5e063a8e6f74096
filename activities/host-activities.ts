// Activities that act on cluster hosts over SSH: preflight, setup files, docker-compose.
import { readFile } from 'node:fs/promises';
import type { ClusterSpec } from '../src/model/cluster';
import {
  type ComposeVariant,
  composeCommand,
  composeFileOf,
  DETECT_COMPOSE,
  hostComposeCall,
  psCommand,
} from '../src/model/commands';
import type { ContainersWaitRequest, ContainersWaitResult } from '../src/model/containers-wait';
import {
  COMPOSE_FILE_CHANGED,
  COMPOSE_FILE_MISSING,
  DB_PASSWORD_REJECTED,
  INVENTORY_INCOMPLETE,
  nonRetryable,
  PREFLIGHT_FAILED,
} from '../src/model/errors';
import {
  DOCKER_VERSION,
  dirModesCommand,
  fileModeCommand,
  fileSha256Command,
  makeDirCommand,
} from '../src/model/host-commands';
import { clusterSecret } from './cluster-secrets';
import { type ContainerState, parseDetect, parsePs } from './compose';
import { waitContainers } from './containers-wait';
import { classify } from './failures';
import { checkDbPassword, DbPasswordError, renderDbEnv, rewriteMediaVolume, sha256 } from './files';
import { activityPollDeps } from './poll';
import { type ClusterRequest, type HostDeps, type HostRequest, remote, specOf, sshTarget } from './remote';

export type { HostDeps, HostRequest } from './remote';
export { sshTarget } from './remote';

export function composeFileName(cluster: ClusterSpec): string {
  if (!cluster.compose)
    throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no compose file in the inventory`);
  return composeFileOf(cluster);
}

export const composeCall = hostComposeCall;

export interface PreflightResult {
  host: string;
  docker: string;
  compose: { variant: ComposeVariant; version?: string };
  mediaMode?: string;
}

export function hostActivities(deps: HostDeps) {
  const { exec, run, onCluster } = remote(deps);

  return {
    /**
     * SSH works, Docker and compose are there, the media mount has mode 755 (unless `media: false`:
     * runbooks that neither start nor serve the apps, such as collectLogs and uninstall, must work
     * on a cluster whose media mount is wrong).
     */
    preflightHost: onCluster(
      'preflight',
      async (
        { host, media = true }: HostRequest & { media?: boolean },
        cluster,
      ): Promise<PreflightResult> => {
        const dockerOut = await exec(cluster, host, DOCKER_VERSION);
        if (dockerOut.code !== 0)
          throw nonRetryable(
            PREFLIGHT_FAILED,
            `docker does not answer on ${host}: ${dockerOut.stderr.trim().slice(-300)}`,
          );
        const compose = parseDetect(await run(cluster, host, DETECT_COMPOSE, 'compose detection'));
        if (!compose)
          throw nonRetryable(
            PREFLIGHT_FAILED,
            `neither docker-compose nor docker compose is installed on ${host}`,
          );
        const result: PreflightResult = { host, docker: dockerOut.stdout.trim(), compose };
        if (media && cluster.media?.hostPath) {
          const dir = cluster.media.hostPath;
          const modes = await exec(cluster, host, dirModesCommand(dir));
          if (modes.code !== 0 && !modes.stdout)
            throw nonRetryable(PREFLIGHT_FAILED, `media directory ${dir} does not exist on ${host}`);
          const wrong = modes.stdout
            .trim()
            .split('\n')
            .filter((l) => !l.startsWith('755 '));
          if (wrong.length > 0)
            throw nonRetryable(
              PREFLIGHT_FAILED,
              `media mount on ${host} must be mode 755: ${wrong.join('; ')}`,
            );
          result.mediaMode = '755';
        }
        return result;
      },
    ),

    /** The DB password from its reference, against the seed's forbidden characters. */
    checkDbSecret: onCluster(
      'database password check',
      async (_: ClusterRequest & { host?: string }, cluster) => {
        try {
          checkDbPassword(await clusterSecret(deps.secrets, cluster, 'db.passwordRef'));
        } catch (err) {
          if (err instanceof DbPasswordError)
            throw nonRetryable(
              DB_PASSWORD_REJECTED,
              `clusters.${cluster.name}.db.passwordRef: ${err.message}`,
            );
          throw err;
        }
        return { ok: true };
      },
    ),

    /** db.env and the compose file in the work dir, each uploaded only when its checksum differs. */
    uploadSetupFiles: onCluster('upload', async ({ host }: HostRequest, cluster) => {
      if (!cluster.db || !cluster.compose)
        throw nonRetryable(
          INVENTORY_INCOMPLETE,
          `cluster ${cluster.name} needs db and compose in the inventory`,
        );
      const original = await readFile(cluster.compose.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw nonRetryable(
          COMPOSE_FILE_MISSING,
          `clusters.${cluster.name}.compose.file ${cluster.compose?.file} cannot be read on the worker (${e.code})`,
        );
      });
      if (cluster.compose.sha256 && sha256(original) !== cluster.compose.sha256) {
        throw nonRetryable(
          COMPOSE_FILE_CHANGED,
          `clusters.${cluster.name}.compose.file ${cluster.compose.file} has sha256 ${sha256(original)}, not the expected ${cluster.compose.sha256}`,
        );
      }
      const composeText = cluster.media?.hostPath
        ? rewriteMediaVolume(original, cluster.media.hostPath)
        : original;
      const dbEnv = renderDbEnv(cluster.db, await clusterSecret(deps.secrets, cluster, 'db.passwordRef'));
      const files = [
        { path: `${cluster.workDir}/${composeFileName(cluster)}`, content: composeText, mode: 0o644 },
        { path: `${cluster.workDir}/db.env`, content: dbEnv, mode: 0o600 },
      ];
      await run(cluster, host, makeDirCommand(cluster.workDir), 'creating the work dir');
      const target = sshTarget(cluster, host);
      const out = [];
      for (const f of files) {
        const want = sha256(f.content);
        const have = (await exec(cluster, host, fileSha256Command(f.path))).stdout.trim();
        if (have !== want) await deps.ssh.upload(target, Buffer.from(f.content), f.path, f.mode);
        // db.env already in place may have been written by hand (seed A3) readable by everyone.
        else if (f.mode === 0o600)
          await run(cluster, host, fileModeCommand(f.path, f.mode), `chmod 600 ${f.path}`);
        // No checksum in the result: it lands in history, and db.env's (a fixed template around the
        // password) would let anyone who reads history test password guesses offline.
        out.push({ path: f.path, uploaded: have !== want });
      }
      return out;
    }),

    /** `up -d <service>` with both compose variables. */
    composeUp: onCluster(
      'compose up',
      async (a: HostRequest & { service: string; version: string; variant: ComposeVariant }, cluster) => {
        await run(
          cluster,
          a.host,
          composeCommand(composeCall(cluster, a.host, a.version, a.variant), ['up', '-d', a.service]),
          `up -d ${a.service}`,
          300_000,
        );
        return { host: a.host, service: a.service, version: a.version };
      },
    ),

    /** `stop <service>` (the container stays, `up -d` starts it again); stopping a stopped one is a no-op. */
    composeStop: onCluster(
      'compose stop',
      async (a: HostRequest & { service: string; version: string; variant: ComposeVariant }, cluster) => {
        await run(
          cluster,
          a.host,
          composeCommand(composeCall(cluster, a.host, a.version, a.variant), ['stop', a.service]),
          `stop ${a.service}`,
          120_000,
        );
        return { host: a.host, service: a.service };
      },
    ),

    /** `restart <service>` (as `docker restart` of its containers: same container, same version). */
    composeRestart: onCluster(
      'compose restart',
      async (a: HostRequest & { service: string; version: string; variant: ComposeVariant }, cluster) => {
        await run(
          cluster,
          a.host,
          composeCommand(composeCall(cluster, a.host, a.version, a.variant), ['restart', a.service]),
          `restart ${a.service}`,
          300_000,
        );
        return { host: a.host, service: a.service };
      },
    ),

    /** Container states of the project on the host, stopped ones too (`ps -a -q` + `docker inspect`). */
    composePs: onCluster(
      'compose ps',
      async (
        a: HostRequest & { version: string; variant: ComposeVariant; service?: string },
        cluster,
      ): Promise<ContainerState[]> => {
        return parsePs(
          await run(
            cluster,
            a.host,
            psCommand(composeCall(cluster, a.host, a.version, a.variant), a.service),
            'ps',
          ),
        );
      },
    ),

    /**
     * Seed A6: `ps` on every host at the poll schedule (src/model/poll.ts) until every expected service
     * runs, heartbeating with what is missing; ContainersNotRunning once `until` has passed
     * (activities/containers-wait.ts). Each round reads the inventory, as every host activity.
     */
    async waitContainersRunning(r: ContainersWaitRequest): Promise<ContainersWaitResult> {
      return waitContainers(
        r,
        async (h) => {
          const cluster = specOf(deps.inventory, r.cluster);
          try {
            return parsePs(
              await run(cluster, h.host, psCommand(composeCall(cluster, h.host, r.version, h.variant)), 'ps'),
            );
          } catch (err) {
            throw classify(err, `compose ps on ${h.host}`);
          }
        },
        activityPollDeps(),
      );
    },
  };
}
