// The prerequisites stage shared by haSetup, multiconnectExpand and upgrade (and run alone by
// preflightCheck): after the per-host preflight, before any container starts. The rules are in
// src/model/prerequisites.ts; the probes are one activity per host.
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { ClusterSpec, HostSpec } from '../../src/model/cluster';
import { PREREQUISITE_FAILED } from '../../src/model/errors';
import type { ClusterRef } from '../../src/model/inventory';
import {
  dbConnectTimesCommand,
  dbGreetingCommand,
  type GreetingRead,
  mediaTreeCommand,
} from '../../src/model/prerequisite-commands';
import {
  CONNECT_TIMEOUT_S,
  CONNECT_TRIES,
  DEFAULT_MAX_DB_LATENCY_MS,
  evaluatePrerequisites,
  findingText,
  MEDIA_REPORT_LIMIT,
  MEDIA_WALK_TIMEOUT_S,
  type PrerequisiteCluster,
  type PrerequisiteProbe,
  type PrerequisiteReport,
} from '../../src/model/prerequisites';
import type { PlanStep } from '../api';
import { hostActs } from './hosts';
import type { Progress } from './progress';

/**
 * Runs started before the stage existed neither probed nor showed it in their plans (a decision
 * signs the plan's text): on replay they keep going without it.
 */
export const PREREQUISITES_PATCH = 'prerequisites';

/**
 * Runs started before the probe logged in to PostgreSQL showed "not read" for its version in their
 * plans (a decision signs the plan's text): they keep that note on replay.
 */
export const POSTGRES_VERSION_PATCH = 'prerequisites-postgres-version';

/**
 * Runs started before the greeting probe read the packet alone showed (and ran) the read that sits
 * out its whole wait: they keep that command in their plans on replay.
 */
export const GREETING_PACKET_PATCH = 'prerequisites-greeting-packet';

/** How this run reads MySQL's greeting. Only from workflow code: it asks `patched()`. */
const greetingRead = (): GreetingRead => (patched(GREETING_PACKET_PATCH) ? 'packet' : 'until-wait');

/** Does this run check the prerequisites? Only from workflow code: it asks `patched()`. */
export const prerequisitesPatched = (): boolean => patched(PREREQUISITES_PATCH);

type DbCluster = ClusterSpec & { db: NonNullable<ClusterSpec['db']> };

/** The stage in a plan: the pure rule, then the probes of each host (the first one also reads version and media). */
export function prerequisiteSteps(cluster: DbCluster, hosts: readonly HostSpec[]): PlanStep[] {
  const { db } = cluster;
  const max = db.maxLatencyMs ?? DEFAULT_MAX_DB_LATENCY_MS;
  const first = hosts[0];
  const steps: PlanStep[] = [
    {
      stage: 'prerequisites',
      note: `db-host: db.host ${db.host} is none of the cluster's hosts (names and addresses)`,
    },
    ...hosts.map((h) => ({
      stage: 'prerequisites',
      host: h.name,
      command: dbConnectTimesCommand(db.host, db.port, CONNECT_TRIES, CONNECT_TIMEOUT_S, db.engine),
      note: `db-reachable: ${db.host}:${db.port} answers within ${CONNECT_TIMEOUT_S} s; db-latency: median round trip to its first answer over ${CONNECT_TRIES} at most ${max} ms (else a warning)`,
    })),
  ];
  if (!first) return steps;
  steps.push(
    db.engine === 'MYSQL'
      ? {
          stage: 'prerequisites',
          host: first.name,
          command: dbGreetingCommand(db.host, db.port, 2, greetingRead()),
          note: 'db-engine-version: the version in the server greeting: MySQL 5.7/8.0 (MariaDB >= 10.2: a warning)',
        }
      : {
          stage: 'prerequisites',
          host: first.name,
          note: patched(POSTGRES_VERSION_PATCH)
            ? `db-engine-version: SHOW server_version, logged in as ${db.user} through ${first.name}'s SSH connection: PostgreSQL 11/12/13 (newer: a warning)`
            : 'db-engine-version: PostgreSQL tells its version only after a login: not read (a warning)',
        },
  );
  if (cluster.media?.hostPath)
    steps.push({
      stage: 'prerequisites',
      host: first.name,
      command: mediaTreeCommand(cluster.media.hostPath, MEDIA_REPORT_LIMIT, MEDIA_WALK_TIMEOUT_S),
      note: 'media-tree: the mount and every directory under it 755 for group and others (read and search, no write)',
    });
  return steps;
}

/** Probe every host (in parallel) and judge: the report, nothing thrown for what it finds. */
export async function probePrerequisites(
  ref: ClusterRef,
  cluster: DbCluster,
  hosts: readonly HostSpec[],
): Promise<{ report: PrerequisiteReport; probes: PrerequisiteProbe[] }> {
  const probes = await Promise.all(
    hosts.map((h, i) =>
      hostActs.prerequisitesHost({
        cluster: ref,
        host: h.name,
        engineVersion: i === 0,
        mediaTree: i === 0,
        ...(i === 0 && cluster.db.engine === 'MYSQL' ? { greetingRead: greetingRead() } : {}),
      }),
    ),
  );
  const judged: PrerequisiteCluster = { hosts: cluster.hosts, db: cluster.db };
  return { report: evaluatePrerequisites(judged, probes), probes };
}

/**
 * The stage in a changing runbook: warnings into the run's warnings, any failure stops the run
 * (PrerequisiteFailed, every failed rule listed as `host: rule: detail`) before anything is started.
 */
export async function requirePrerequisites(
  ref: ClusterRef,
  cluster: DbCluster,
  hosts: readonly HostSpec[],
  progress: Progress,
): Promise<PrerequisiteReport> {
  progress.stage('prerequisites');
  const { report } = await probePrerequisites(ref, cluster, hosts);
  showPrerequisites(progress, report);
  if (report.failures.length > 0)
    throw ApplicationFailure.create({
      type: PREREQUISITE_FAILED,
      nonRetryable: true,
      message: `cluster ${cluster.name}: ${report.failures.length} prerequisite(s) failed, nothing was started: ${report.failures.map(findingText).join('; ')}`,
      details: [report],
    });
  return report;
}

/** Warnings into `status`; each host's verdict into its progress line. */
export function showPrerequisites(progress: Progress, report: PrerequisiteReport): void {
  progress.warn(report.warnings.map(findingText));
  for (const f of report.failures) progress.host(f.host, `prerequisite failed: ${f.rule}`);
}
