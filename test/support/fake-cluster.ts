// A fake WhatsApp Business API cluster for workflow tests: in-process activities that record every
// call and answer from a small state (containers up and their versions, registered, shards, the
// database schema, dbupgrade jobs, the media chown, volumes), with scripted health, registration
// status and injected failures. Plus valid inputs for every runbook, and bounded helpers to drive
// runs on the suite's dev server.
import { createHash, randomUUID } from 'node:crypto';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import {
  type Client,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { Activities } from '../../activities';
import { clusterLockActivities } from '../../activities/cluster-lock';
import type { ContainerState } from '../../activities/compose';
import { waitContainers } from '../../activities/containers-wait';
import { waitHealth } from '../../activities/health-wait';
import { inventoryActivities } from '../../activities/inventory';
import { activityPollDeps, type PollDeps } from '../../activities/poll';
import { scheduleActivities } from '../../activities/schedules';
import type { InventoryStore } from '../../src/inventory/store';
import { CHOWN_GONE_WITH_CONTAINER, type MediaChownProgress } from '../../src/model/chown-progress';
import type { ComposeVariant } from '../../src/model/commands';
import type { ContainersWaitRequest } from '../../src/model/containers-wait';
import { BACKUP_CHECKSUM_MISMATCH, BACKUP_NOT_FOUND, PREFLIGHT_FAILED } from '../../src/model/errors';
import type { HealthBody } from '../../src/model/health';
import type { HealthWaitRequest } from '../../src/model/health-condition';
import type {
  CollectLogsInput,
  DbUpgradeInput,
  HaSetupInput,
  MediaChownInput,
  MulticonnectExpandInput,
  UninstallInput,
  UpgradeInput,
} from '../../src/model/inputs';
import { type ClusterRef, canonicalJson, runbookPolicy } from '../../src/model/inventory';
import type { NotifyEvent } from '../../src/model/notify';
import type { PrerequisiteProbe } from '../../src/model/prerequisites';
import type { RunbookName } from '../../src/model/runbooks';
import seed from '../fixtures/seed-health.json';
import { signedInput } from './decide';
import { type RawEntry, testClusterEntry, testInventoryStore } from './inventory';

// ---------------------------------------------------------------------------------------------
// Inputs: a cluster by name (the fake's inventory holds it, see FakeClusterOptions) and intent.

export type HaSetupRaw = z.input<typeof HaSetupInput>;
export type MulticonnectRaw = z.input<typeof MulticonnectExpandInput>;
export type UpgradeRaw = z.input<typeof UpgradeInput>;
export type DbUpgradeRaw = z.input<typeof DbUpgradeInput>;
export type MediaChownRaw = z.input<typeof MediaChownInput>;
export type UninstallRaw = z.input<typeof UninstallInput>;
export type CollectLogsRaw = z.input<typeof CollectLogsInput>;

export { knownHostKey, spareHost } from './inventory';

export const TIMEOUTS = { code: '20s', health: '15s', containers: '15s' } as const;

export function haSetupInput(patch: Partial<HaSetupRaw> = {}, cluster = 'lab'): HaSetupRaw {
  return { cluster, requestedBy: 'carol', timeouts: { ...TIMEOUTS }, ...patch };
}

/** multiconnectExpand on the same cluster, adding the named spare hosts of its inventory entry. */
export function multiconnectInput(patch: Partial<MulticonnectRaw> = {}, cluster = 'lab'): MulticonnectRaw {
  return {
    cluster,
    shards: 2,
    addCoreapps: [],
    requestedBy: 'carol',
    timeouts: { health: TIMEOUTS.health },
    ...patch,
  };
}

/** upgrade to 2.29.3 (the fake's inventory says what the cluster runs), requested by carol; short health deadline. */
export function upgradeInput(patch: Partial<UpgradeRaw> = {}, cluster = 'lab'): UpgradeRaw {
  return {
    cluster,
    toVersion: '2.29.3',
    requestedBy: 'carol',
    timeouts: { health: '15s', dbUpgrade: '1m' },
    ...patch,
  };
}

/** dbUpgrade to 2.29.3 (defaults for host, exitOnSuccess, restartApps). */
export function dbUpgradeInput(patch: Partial<DbUpgradeRaw> = {}, cluster = 'lab'): DbUpgradeRaw {
  return { cluster, toVersion: '2.29.3', ...patch };
}

export function mediaChownInput(patch: Partial<MediaChownRaw> = {}, cluster = 'lab'): MediaChownRaw {
  return { cluster, ...patch };
}

export function uninstallInput(patch: Partial<UninstallRaw> = {}, cluster = 'lab'): UninstallRaw {
  return { cluster, requestedBy: 'carol', ...patch };
}

export function collectLogsInput(patch: Partial<CollectLogsRaw> = {}, cluster = 'lab'): CollectLogsRaw {
  return { cluster, ...patch };
}

// ---------------------------------------------------------------------------------------------
// Health bodies

const clone = <T>(v: T): T => structuredClone(v);

export const SEED = {
  /** A7: the primary master reports unregistered, the other nodes 1011. */
  unregistered: (): HealthBody => clone(seed['A7-before-registration']),
  /** A9: exactly one Coreapp connected. */
  haConnected: (): HealthBody => clone(seed['A9-ha-registered']),
  /** B2: two shards, two Coreapps connected. */
  twoShards: (): HealthBody => clone(seed['B2-two-shards']),
  /** B4: two shards plus your-coreapp3-hostname as standby. */
  twoShardsPlusStandby: (): HealthBody => clone(seed['B4-two-shards-plus-standby']),
  /** A9 with the connected Coreapp answering 1011 instead: degraded, no Coreapp connected. */
  degraded: (): HealthBody => {
    const body = clone(seed['A9-ha-registered']);
    (body.health as Record<string, unknown>)['your-coreapp1-hostname:753efb1cf72c'] = {
      errors: [{ code: 1011, title: 'Service not ready' }],
    };
    return body;
  },
};

// ---------------------------------------------------------------------------------------------
// The fake cluster

export const FAKE_ACTIVITIES = [
  'checkDbSecret',
  'preflightHost',
  'prerequisitesHost',
  'uploadSetupFiles',
  'composeUp',
  'composeStop',
  'composeRestart',
  'composePs',
  'wabaLogin',
  'wabaHealth',
  'wabaRegister',
  'wabaVerify',
  'wabaSetShards',
  'settingsBackup',
  'findSettingsBackup',
  'settingsRestore',
  'uploadDbUpgradeFiles',
  'startDbUpgrade',
  'waitDbUpgrade',
  'removeDbUpgrade',
  'startMediaChown',
  'mediaChownProgress',
  'stopMediaChown',
  'composeDown',
  'collectServiceLogs',
] as const;
export type FakeActivityName = (typeof FAKE_ACTIVITIES)[number];
export type FakeActivities = Pick<Activities, FakeActivityName>;
type ClusterLockActivityName = keyof ReturnType<typeof clusterLockActivities>;

export interface FakeCall {
  /** 1-based order over every activity call of this fake. */
  seq: number;
  name: FakeActivityName;
  host?: string;
  service?: string;
  /** Temporal's attempt number (retries count up). */
  attempt: number;
  /** The run that called it (absent outside an activity). */
  workflowId?: string;
  /** When the call started (Date.now()). */
  at: number;
  args: Record<string, unknown>;
  outcome: 'running' | 'ok' | 'failed';
  error?: string;
}

export interface FakeState {
  registered: boolean;
  /** A code was sent (POST /v1/account answered 202) and not verified yet. */
  codePending: boolean;
  shards: number;
  /** `<host>/<service>` for every container started. */
  up: Set<string>;
  /** Hosts whose setup files are in place. */
  files: Set<string>;
  /** Polls of GET /v1/health so far. */
  healthPolls: number;
  /** The WA_API_VERSION each host's containers run, by host name (composeUp sets it). */
  versions: Record<string, string>;
  /** The database schema version (a dbupgrade job that exits 0 sets it). */
  schemaVersion: string;
  /** Hosts with dbupgrade-compose.yml and db.env in place. */
  dbUpgradeFiles: Set<string>;
  /** dbupgrade job containers on the hosts (removeDbUpgrade removes them). */
  dbUpgradeJobs: DbUpgradeJob[];
  /** dbupgrade jobs started so far (a re-attach starts none). */
  dbUpgradeStarts: number;
  /** The media chown inside the Webapp container. */
  chown: ChownState;
  /** Hosts whose named volumes (media) exist. */
  volumes: Set<string>;
  /** Labels of the settings backups taken. */
  backups: string[];
  /** The backups stored on the (fake) worker: taken by settingsBackup or given in the options. */
  stored: StoredBackup[];
  /** Paths of the backups POSTed to /v1/settings/restore. */
  restores: string[];
}

/** A backup on the fake worker; `actual` differs from `sha256` when the file changed since it was taken. */
export interface StoredBackup {
  path: string;
  sha256: string;
  actual: string;
  version: string;
  runId?: string;
}

export interface DbUpgradeJob {
  host: string;
  version: string;
  container: string;
  exitOnSuccess: boolean;
  /** null while it runs. */
  exitCode: number | null;
}

export interface ChownState {
  total: number;
  /** Files not owned by root yet. */
  remaining: number;
  running: boolean;
  /** null while it runs or after it was stopped. */
  exitCode: number | null;
  /** Not root's when the running chown started (its counts, kept beside it). */
  remainingAtStart: number;
  starts: number;
  stops: number;
  /** Times a poll found it gone (see FakeClusterOptions.media.vanishes). */
  vanished: number;
}

export type HealthScript = readonly HealthBody[] | ((state: FakeState, poll: number) => HealthBody);

export interface FakeClusterOptions {
  /**
   * The clusters of the fake's inventory (default `['lab']`), each the seed's five hosts plus spare
   * core3 and core4, at `version` on `engine`, with alice and bob as approvers.
   */
  clusters?: string[];
  /** The database engine of the inventory's clusters (default MYSQL). */
  engine?: 'MYSQL' | 'PGSQL';
  /** Changes to every inventory entry before it is validated (e.g. a policy of two approvals). */
  entry?: (entry: RawEntry) => void;
  /** Start as an already set-up cluster: files uploaded, every container up, registered (one shard). */
  setUp?: boolean;
  registered?: boolean;
  shards?: number;
  /** What POST /v1/account answers for an unregistered number (default 202: code sent). */
  registerStatus?: 201 | 202;
  /** Health answers: a sequence (the last one repeats) or a function of the state. Default: {@link stateHealth}. */
  health?: HealthScript;
  /** Compose variant a host reports at preflight (default v1). */
  variants?: Record<string, ComposeVariant>;
  /** `<host>/<service>` containers that never reach running. */
  notRunning?: string[];
  /** The version the containers of a set-up cluster run, and the inventory's version (default 2.23.4). */
  version?: string;
  /** The inventory's version when it differs from what the containers run (default: `version`). */
  inventoryVersion?: string;
  /** The database schema version at the start (default: `version`). */
  schemaVersion?: string;
  /** What every dbupgrade job exits with (default 0). */
  dbUpgradeExitCode?: number;
  /** The dbupgrade job never exits: waitDbUpgrade heartbeats until cancelled (at most 60 s). */
  dbUpgradeHangs?: boolean;
  /** A dbupgrade job container already on a host (a run to re-attach to). */
  dbUpgradeJob?: { host: string; version: string };
  /**
   * Media files: how many, how many are not root's yet, how many each progress poll gives to root
   * (defaults 1000, 400, 250; a function is asked at every poll), `failWith`: chown exits with this code at the first poll, and
   * `vanishes`: the first N polls of a running chown find it gone (no exit code, no process: the
   * container restarted under it); `withContainer`: gone with its container too (re-created by an
   * `up -d`), so the poll reports no counts, as the real activity does.
   */
  media?: {
    total?: number;
    remaining?: number;
    perPoll?: number | (() => number);
    failWith?: number;
    vanishes?: number;
    withContainer?: boolean;
  };
  /** Log size and error lines per `<host>/<service>` (default 1024 bytes, 0 error lines). */
  logs?: Record<string, { bytes: number; errorLines: number }>;
  /** `<host>/<service>` containers that `down` does not remove. */
  stuck?: string[];
  /** Hosts whose media mount is not mode 755: their preflight fails, unless it is told `media: false`. */
  mediaModeWrong?: string[];
  /** The chat webhook: every `notify` delivers (default) or every attempt fails (retryable). */
  notify?: 'delivered' | 'fails';
  /** Hosts whose SSH server presents a key other than the pinned one (checkHostKeys fails naming them). */
  hostKeyMismatch?: string[];
  /**
   * What the prerequisites probes read, per host (default: the database answers in 0.4-0.6 ms, MySQL
   * 8.0.36 or PostgreSQL's "not read", no writable media directory).
   */
  prerequisites?: Record<string, Partial<Omit<PrerequisiteProbe, 'host'>>>;
  /** Settings backups already stored on the worker (see {@link storedBackup}). */
  storedBackups?: StoredBackup[];
}

/** A stored backup of cluster `lab` labelled `label`; `tampered`: its file changed since it was taken. */
export function storedBackup(
  label: string,
  opts: { runId?: string; tampered?: boolean; version?: string } = {},
) {
  const sha = createHash('sha256').update(`backup ${label}`).digest('hex');
  return {
    path: `/artifacts/lab/settings-backup-${label}.json`,
    sha256: sha,
    actual: opts.tampered ? createHash('sha256').update(`changed ${label}`).digest('hex') : sha,
    version: opts.version ?? '2.23.4',
    ...(opts.runId ? { runId: opts.runId } : {}),
  };
}

/** One attempt of `checkHostKeys`: the hosts, and how many cluster calls (`calls`) came before it. */
export interface FakeHostKeyCheck {
  hosts: string[];
  attempt: number;
  callsBefore: number;
}

/**
 * One attempt of a waiting activity (`waitWabaHealth`, `waitContainersRunning`): kept apart from
 * `calls`, which list each of its polls as the `wabaHealth` or `composePs` it makes.
 */
export interface FakeWait {
  name: 'waitWabaHealth' | 'waitContainersRunning';
  attempt: number;
  args: HealthWaitRequest | ContainersWaitRequest;
  outcome: 'running' | 'ok' | 'failed';
  error?: string;
}

/** One attempt of the `notify` activity (kept apart from `calls`: notifications are not cluster work). */
export interface FakeNotification {
  event: NotifyEvent;
  attempt: number;
  delivered: boolean;
}

interface FailureRule {
  name: FakeActivityName;
  when: (call: FakeCall) => boolean;
  remaining: number;
  error: (call: FakeCall) => Error;
  after: boolean;
}

/** A retryable failure (a plain Error, as a dropped SSH connection would throw). */
export const retryable = (message: string) => () => new Error(message);
/** A non-retryable failure with a type, as the real activities classify configuration problems. */
export const nonRetryable = (type: string, message: string) => () =>
  ApplicationFailure.nonRetryable(message, type);

/**
 * The default health: A7 until registered, A9 with one shard, B2 with two, B4 once a third Coreapp
 * container runs.
 */
export function stateHealth(state: FakeState): HealthBody {
  if (!state.registered) return SEED.unregistered();
  if (state.shards <= 1) return SEED.haConnected();
  const coreapps = [...state.up].filter((u) => u.endsWith('/wacore')).length;
  return coreapps >= 3 ? SEED.twoShardsPlusStandby() : SEED.twoShards();
}

const ALL_UP = ['web1/waweb', 'master1/master', 'master2/master', 'core1/wacore', 'core2/wacore'];

/** The 12-hex-digit container id the fake reports for `<host>/<service>`. */
export const containerId = (u: string) => Buffer.from(u).toString('hex').padEnd(12, '0').slice(0, 12);

export class FakeCluster {
  readonly calls: FakeCall[] = [];
  readonly state: FakeState;
  readonly activities: FakeActivities &
    Pick<
      Activities,
      | 'notify'
      | 'checkHostKeys'
      | 'resolveCluster'
      | 'waitWabaHealth'
      | 'waitContainersRunning'
      | 'confirmScheduledRun'
      | ClusterLockActivityName
    >;
  /** The fake's inventory: what `resolveCluster` (the real activity) reads. */
  readonly inventory: InventoryStore;
  readonly notifications: FakeNotification[] = [];
  /** SSH handshakes only (nothing runs): kept apart from `calls`, whose phases list commands and API calls. */
  readonly hostKeyChecks: FakeHostKeyCheck[] = [];
  /** Attempts of the waiting activities; their polls are in `calls`. */
  readonly waits: FakeWait[] = [];
  private readonly rules: FailureRule[] = [];

  constructor(private readonly options: FakeClusterOptions = {}) {
    this.inventory = testInventoryStore(
      Object.fromEntries(
        (options.clusters ?? ['lab']).map((name) => {
          const entry = testClusterEntry({
            version: options.inventoryVersion ?? options.version,
            engine: options.engine,
          });
          options.entry?.(entry);
          return [name, entry];
        }),
      ),
    );
    this.state = {
      registered: options.registered ?? options.setUp ?? false,
      codePending: false,
      shards: options.shards ?? 1,
      up: new Set(options.setUp ? ALL_UP : []),
      files: new Set(options.setUp ? ALL_UP.map((u) => u.split('/')[0] as string) : []),
      healthPolls: 0,
      versions: Object.fromEntries(
        options.setUp ? ALL_UP.map((u) => [u.split('/')[0] as string, options.version ?? '2.23.4']) : [],
      ),
      schemaVersion: options.schemaVersion ?? options.version ?? '2.23.4',
      dbUpgradeFiles: new Set(),
      dbUpgradeJobs: options.dbUpgradeJob
        ? [
            {
              ...options.dbUpgradeJob,
              container: `dbup${containerId(options.dbUpgradeJob.version)}`.slice(0, 12),
              exitOnSuccess: true,
              exitCode: null,
            },
          ]
        : [],
      dbUpgradeStarts: 0,
      chown: {
        total: options.media?.total ?? 1000,
        remaining: options.media?.remaining ?? 400,
        running: false,
        exitCode: null,
        remainingAtStart: 0,
        starts: 0,
        stops: 0,
        vanished: 0,
      },
      volumes: new Set(options.setUp ? ALL_UP.map((u) => u.split('/')[0] as string) : []),
      backups: [],
      stored: [...(options.storedBackups ?? [])],
      restores: [],
    };
    this.activities = {
      ...this.build(),
      notify: (event) => this.notify(event),
      // The real cluster lock (workflows/cluster-lock.ts) on the scenario's own task queue, so
      // tests never share a lock; not cluster work either: kept out of `calls`, like notify.
      ...clusterLockActivities(),
      // The real check that a run carrying TemporalScheduledById is that schedule's (asks the dev server).
      ...scheduleActivities(),
      checkHostKeys: async (a) => this.checkHostKeys(a),
      // The real polling loops (activities/health-wait.ts, containers-wait.ts) over the fake's own
      // recorded `wabaHealth` and `composePs`: the same schedule, heartbeats, cancellation and failures.
      waitWabaHealth: (r) =>
        this.waiting('waitWabaHealth', r, (deps) =>
          waitHealth(r, () => this.activities.wabaHealth({ cluster: r.cluster }), deps),
        ),
      waitContainersRunning: (r) =>
        this.waiting('waitContainersRunning', r, (deps) =>
          waitContainers(
            r,
            (h) =>
              this.activities.composePs({
                cluster: r.cluster,
                host: h.host,
                version: r.version,
                variant: h.variant,
              }),
            deps,
          ),
        ),
      // The real resolution, over the fake's inventory: kept out of `calls` too (nothing is touched).
      resolveCluster: inventoryActivities({ inventory: this.inventory }).resolveCluster,
    };
  }

  /** How a run's activities name cluster `name` of the fake's inventory: `{ name, specHash }`. */
  ref(name = 'lab'): ClusterRef {
    return { name, specHash: this.stamp('healthCheck', name).specHash };
  }

  /** What a `runbook` run's result says of cluster `name` of the fake's inventory (`inventory`). */
  stamp(runbook: RunbookName, name = 'lab') {
    const found = this.inventory.byName(name);
    if (!found.ok) throw new Error(found.message);
    const policy = runbookPolicy(found.entry.entry, runbook);
    return {
      source: 'test-inventory.yaml',
      specHash: found.entry.specHash,
      ...(policy ? { policyHash: createHash('sha256').update(canonicalJson(policy)).digest('hex') } : {}),
    };
  }

  /** The spec a run resolved, as the real activities look it up (refused when it changed). */
  spec(ref: ClusterRef) {
    const found = this.inventory.byRef(ref);
    if (!found.ok) throw ApplicationFailure.nonRetryable(found.message, found.kind);
    return found.entry.cluster;
  }

  /** A waiting activity's attempt, recorded in `waits`; its polls go through the recorded activities. */
  private async waiting<T>(
    name: FakeWait['name'],
    args: FakeWait['args'],
    fn: (deps: PollDeps) => Promise<T>,
  ): Promise<T> {
    let attempt = 1;
    let deps: PollDeps;
    try {
      attempt = activityInfo().attempt;
      deps = activityPollDeps();
    } catch {
      // outside an activity: plain timers, never cancelled, no heartbeats
      deps = {
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        heartbeat: () => {},
        cancelled: new Promise<never>(() => {}),
      };
    }
    const wait: FakeWait = { name, attempt, args, outcome: 'running' };
    this.waits.push(wait);
    try {
      const result = await fn(deps);
      wait.outcome = 'ok';
      return result;
    } catch (err) {
      wait.outcome = 'failed';
      wait.error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  /** As the real activity: a wrong key on any host fails (non-retryable), naming each such host. */
  private checkHostKeys({ cluster: ref, hosts }: { cluster: ClusterRef; hosts: string[] }) {
    const cluster = this.spec(ref);
    const all = [...cluster.hosts, ...cluster.spareHosts];
    let attempt = 1;
    try {
      attempt = activityInfo().attempt;
    } catch {
      // outside an activity
    }
    this.hostKeyChecks.push({ hosts: [...hosts], attempt, callsBefore: this.calls.length });
    const wrong = hosts.filter((h) => this.options.hostKeyMismatch?.includes(h));
    if (wrong.length > 0) {
      const address = (h: string) => all.find((x) => x.name === h)?.address;
      throw ApplicationFailure.nonRetryable(
        wrong
          .map((h) => `host key of ${h} (${address(h)}) does not match ssh.knownHosts.${h}; nothing was run`)
          .join('; '),
        'HostKeyMismatch',
      );
    }
    return { checked: hosts };
  }

  /**
   * Make the next `times` (default 1) calls of `name` matching `when` (e.g. a host) throw `error`,
   * before they change any state; with `after`, once they did (the work happened, the answer was lost).
   */
  fail(
    name: FakeActivityName,
    error: (call: FakeCall) => Error,
    opts: { times?: number; host?: string; when?: (call: FakeCall) => boolean; after?: boolean } = {},
  ): this {
    this.rules.push({
      name,
      error,
      remaining: opts.times ?? 1,
      when: (c) => (opts.host === undefined || c.host === opts.host) && (opts.when?.(c) ?? true),
      after: opts.after ?? false,
    });
    return this;
  }

  callsOf(name: FakeActivityName): FakeCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  /** Activity names in call order, e.g. for "nothing ran after X". */
  names(): FakeActivityName[] {
    return this.calls.map((c) => c.name);
  }

  private record<A extends object, R>(
    name: FakeActivityName,
    impl: (a: A, call: FakeCall) => R | Promise<R>,
  ): (a: A) => Promise<R> {
    return async (a: A) => {
      const args = a as Record<string, unknown>;
      let attempt = 1;
      let workflowId: string | undefined;
      try {
        attempt = activityInfo().attempt;
        workflowId = activityInfo().workflowExecution?.workflowId;
      } catch {
        // called outside an activity (a unit use of the fake): attempt 1
      }
      const call: FakeCall = {
        seq: this.calls.length + 1,
        name,
        attempt,
        ...(workflowId ? { workflowId } : {}),
        at: Date.now(),
        args,
        outcome: 'running',
        ...(typeof args.host === 'string' ? { host: args.host } : {}),
        ...(typeof args.service === 'string' ? { service: args.service } : {}),
      };
      this.calls.push(call);
      try {
        // As the real activities: the run's spec from the inventory, refused when it changed.
        if (args.cluster && typeof args.cluster === 'object') this.spec(args.cluster as ClusterRef);
        const rule = this.rules.find((r) => r.name === name && r.remaining > 0 && r.when(call));
        if (rule) rule.remaining--;
        if (rule && !rule.after) throw rule.error(call);
        const result = await impl(a, call);
        if (rule) throw rule.error(call);
        call.outcome = 'ok';
        return result;
      } catch (err) {
        call.outcome = 'failed';
        call.error = err instanceof Error ? err.message : String(err);
        throw err;
      }
    };
  }

  private build(): FakeActivities {
    const s = this.state;
    const o = this.options;
    type HostArgs = { host: string };
    return {
      checkDbSecret: this.record('checkDbSecret', () => ({ ok: true })),

      preflightHost: this.record(
        'preflightHost',
        ({ host, media = true }: HostArgs & { media?: boolean }) => {
          if (media && o.mediaModeWrong?.includes(host))
            throw ApplicationFailure.create({
              type: PREFLIGHT_FAILED,
              nonRetryable: true,
              message: `media mount on ${host} must be mode 755: 777 /mnt/wamedia`,
            });
          const variant = o.variants?.[host] ?? 'v1';
          return {
            host,
            docker: '24.0.7',
            compose: variant === 'v1' ? { variant } : { variant, version: '2.24.0' },
          };
        },
      ),

      prerequisitesHost: this.record(
        'prerequisitesHost',
        (a: HostArgs & { cluster: ClusterRef; engineVersion: boolean; mediaTree: boolean }) => {
          const spec = this.spec(a.cluster);
          const db = spec.db as NonNullable<typeof spec.db>;
          const given = o.prerequisites?.[a.host] ?? {};
          const probe: PrerequisiteProbe = {
            host: a.host,
            target: `${db.host}:${db.port}`,
            connect: given.connect ?? { ms: [0.4, 0.5, 0.6], failed: [] },
            connectTimeoutS: 3,
          };
          if (a.engineVersion)
            probe.engineVersion =
              given.engineVersion ?? (db.engine === 'MYSQL' ? { version: '8.0.36' } : { version: '13.14' });
          if (a.mediaTree && spec.media?.hostPath)
            probe.media = given.media ?? { dir: spec.media.hostPath, stdout: '', exit: 0, timeoutS: 120 };
          return probe;
        },
      ),

      uploadSetupFiles: this.record('uploadSetupFiles', ({ host }: HostArgs) => {
        const uploaded = !s.files.has(host);
        s.files.add(host);
        return ['/root/biz/x.yml', '/root/biz/db.env'].map((path) => ({ path, uploaded }));
      }),

      composeUp: this.record(
        'composeUp',
        ({ host, service, version }: HostArgs & { service: string; version: string }) => {
          s.up.add(`${host}/${service}`);
          s.versions[host] = version;
          s.volumes.add(host);
          return { host, service, version };
        },
      ),

      composeStop: this.record('composeStop', ({ host, service }: HostArgs & { service: string }) => {
        s.up.delete(`${host}/${service}`);
        return { host, service };
      }),

      composeRestart: this.record('composeRestart', ({ host, service }: HostArgs & { service: string }) => {
        if (!s.up.has(`${host}/${service}`)) throw new Error(`no ${service} container on ${host} to restart`);
        return { host, service };
      }),

      composePs: this.record('composePs', ({ host, version }: HostArgs & { version: string }) =>
        [...s.up]
          .filter((u) => u.startsWith(`${host}/`))
          .map((u): ContainerState => {
            const service = u.slice(host.length + 1);
            const running = !o.notRunning?.includes(u);
            return {
              service,
              name: `biz_${service}_1`,
              id: containerId(u),
              // What the host runs (as a real `ps` reports), not the WA_API_VERSION `ps` was called with.
              image: `docker.whatsapp.biz/${service === 'waweb' ? 'web' : 'coreapp'}:v${s.versions[host] ?? version}`,
              state: running ? 'running' : 'restarting',
              running,
              exitCode: running ? 0 : 1,
              restarting: !running,
            };
          }),
      ),

      wabaLogin: this.record('wabaLogin', () => ({ ok: true as const })),

      wabaHealth: this.record('wabaHealth', () => {
        const poll = s.healthPolls++;
        const script = o.health ?? stateHealth;
        if (typeof script === 'function') return script(s, poll);
        const body = script[Math.min(poll, script.length - 1)];
        if (!body) throw new Error('fake cluster: empty health script');
        return clone(body);
      }),

      wabaRegister: this.record('wabaRegister', () => {
        if (s.registered) return { status: 201 as const, vname: 'Test Business' };
        const status = o.registerStatus ?? 202;
        if (status === 201) s.registered = true;
        else s.codePending = true;
        return { status, vname: 'Test Business' };
      }),

      wabaVerify: this.record('wabaVerify', () => {
        // The real API refuses a verification nobody asked for: fail loudly if the workflow does that.
        if (!s.codePending)
          throw ApplicationFailure.nonRetryable('no code was sent to verify', 'FakeUnexpectedVerify');
        s.codePending = false;
        s.registered = true;
        return { status: 201 };
      }),

      wabaSetShards: this.record('wabaSetShards', ({ shards }: { shards: number }) => {
        if (!s.registered)
          throw ApplicationFailure.nonRetryable('set shards on an unregistered number', 'FakeNotRegistered');
        s.shards = shards;
        return { status: 200, attempts: 1 };
      }),

      ...this.buildLifecycle(),
    };
  }

  /** Delivered notifications, e.g. `['gateOpened', 'runSucceeded']` (failed attempts left out). */
  notified(): NotifyEvent['kind'][] {
    return this.notifications.filter((n) => n.delivered).map((n) => n.event.kind);
  }

  private async notify(event: NotifyEvent): Promise<{ delivered: true; status: number }> {
    let attempt = 1;
    try {
      attempt = activityInfo().attempt;
    } catch {
      // outside an activity
    }
    const delivered = this.options.notify !== 'fails';
    this.notifications.push({ event, attempt, delivered });
    if (!delivered) throw new Error('fake webhook: connection refused');
    return { delivered: true, status: 200 };
  }

  /** settingsBackup, the dbupgrade job, the media chown, `down` and log collection. */
  private buildLifecycle() {
    const s = this.state;
    const o = this.options;
    type HostArgs = { host: string };
    type ClusterArgs = { cluster: ClusterRef };
    const media = {
      get perPoll(): number {
        const p = o.media?.perPoll ?? 250;
        return typeof p === 'function' ? p() : p;
      },
      failWith: o.media?.failWith,
      vanishes: o.media?.vanishes ?? 0,
      withContainer: o.media?.withContainer ?? false,
    };
    const hash = (text: string) => createHash('sha256').update(text).digest('hex');
    return {
      settingsBackup: this.record(
        'settingsBackup',
        ({ cluster: ref, label }: ClusterArgs & { label: string }) => {
          const cluster = this.spec(ref);
          s.backups.push(label);
          const body = `backup of ${cluster.name} ${label}`;
          const path = `/artifacts/${cluster.name}/settings-backup-${label}.json`;
          let runId: string | undefined;
          try {
            runId = activityInfo().workflowExecution?.runId;
          } catch {
            // outside an activity
          }
          s.stored.push({
            path,
            sha256: hash(body),
            actual: hash(body),
            version: cluster.version ?? 'unknown',
            ...(runId ? { runId } : {}),
          });
          return { path, sha256: hash(body), bytes: body.length };
        },
      ),

      // As the real activities (activities/settings-backups.ts): one match by run id or checksum,
      // verified against what was recorded when it was taken; a restore verifies once more.
      findSettingsBackup: this.record(
        'findSettingsBackup',
        ({ runId, sha256 }: ClusterArgs & { runId?: string; sha256?: string }) => {
          const hits = s.stored.filter((b) =>
            runId
              ? b.runId === runId || (runId.length === 8 && b.runId?.startsWith(runId))
              : b.sha256 === sha256 || b.actual === sha256,
          );
          const [hit] = hits;
          if (!hit || hits.length > 1)
            throw ApplicationFailure.nonRetryable(
              `${hits.length} settings backups of cluster lab match ${runId ?? sha256}`,
              BACKUP_NOT_FOUND,
            );
          if (hit.actual !== (sha256 ?? hit.sha256))
            throw ApplicationFailure.nonRetryable(
              `${hit.path} has sha256 ${hit.actual}, not the ${sha256 ?? hit.sha256} recorded when it was taken: it is not sent`,
              BACKUP_CHECKSUM_MISMATCH,
            );
          return {
            path: hit.path,
            sha256: hit.actual,
            version: hit.version,
            ...(hit.runId ? { runId: hit.runId } : {}),
            bytes: 100,
          };
        },
      ),

      settingsRestore: this.record(
        'settingsRestore',
        ({ path, sha256 }: ClusterArgs & { path: string; sha256: string }) => {
          const b = s.stored.find((x) => x.path === path);
          if (!b || b.actual !== sha256)
            throw ApplicationFailure.nonRetryable(
              `${path}: no such backup or sha256 differs`,
              BACKUP_CHECKSUM_MISMATCH,
            );
          s.restores.push(path);
          return { path, sha256, version: b.version };
        },
      ),

      uploadDbUpgradeFiles: this.record(
        'uploadDbUpgradeFiles',
        ({ cluster: ref, host }: ClusterArgs & HostArgs) => {
          const cluster = this.spec(ref);
          s.dbUpgradeFiles.add(host);
          return { host, files: [`${cluster.workDir}/dbupgrade-compose.yml`, `${cluster.workDir}/db.env`] };
        },
      ),

      startDbUpgrade: this.record(
        'startDbUpgrade',
        ({ host, version, exitOnSuccess }: HostArgs & { version: string; exitOnSuccess: boolean }) => {
          // As the real activity: a job of this version already there (running or exited) is re-attached.
          const mine = s.dbUpgradeJobs.find((j) => j.host === host && j.version === version);
          if (mine) return { container: mine.container, started: false };
          if (!s.dbUpgradeFiles.has(host))
            throw ApplicationFailure.nonRetryable(
              `no dbupgrade-compose.yml on ${host}`,
              'FakeNoDbUpgradeFile',
            );
          s.dbUpgradeJobs = s.dbUpgradeJobs.filter((j) => j.host !== host);
          s.dbUpgradeStarts++;
          const container = `db${containerId(`${host}/dbupgrade/${s.dbUpgradeStarts}`)}`.slice(0, 12);
          s.dbUpgradeJobs.push({ host, version, container, exitOnSuccess, exitCode: null });
          return { container, started: true };
        },
      ),

      waitDbUpgrade: this.record(
        'waitDbUpgrade',
        async ({ host, container }: HostArgs & { container: string }) => {
          const job = s.dbUpgradeJobs.find((j) => j.host === host && j.container === container);
          if (!job)
            throw ApplicationFailure.nonRetryable(
              `no dbupgrade container ${container} on ${host}`,
              'FakeNoSuchJob',
            );
          if (o.dbUpgradeHangs) {
            const deadline = Date.now() + 60_000;
            let cancelled = () => false;
            try {
              const signal = Context.current().cancellationSignal;
              cancelled = () => signal.aborted;
            } catch {
              // outside an activity: just the deadline
            }
            while (!cancelled() && Date.now() < deadline) {
              try {
                heartbeat('dbupgrade wait');
              } catch {
                // outside an activity
              }
              await new Promise((r) => setTimeout(r, 500));
            }
            throw new Error('fake dbupgrade job: wait abandoned');
          }
          const exitCode = o.dbUpgradeExitCode ?? 0;
          job.exitCode = exitCode;
          if (exitCode === 0) {
            s.schemaVersion = job.version;
            return { exitCode, lastLines: [`upgrade to v${job.version} complete`] };
          }
          return {
            exitCode,
            lastLines: ['applying migration 42', "ERROR: migration 42 failed: duplicate column 'wa_id'"],
          };
        },
      ),

      removeDbUpgrade: this.record('removeDbUpgrade', ({ host }: HostArgs) => {
        s.dbUpgradeJobs = s.dbUpgradeJobs.filter((j) => j.host !== host);
        return { host };
      }),

      startMediaChown: this.record('startMediaChown', ({ host }: HostArgs) => {
        if (!s.up.has(`${host}/waweb`)) throw new Error(`no running waweb container on ${host}`);
        const c = s.chown;
        const before = { total: c.total, remaining: c.remaining };
        const container = containerId(`${host}/waweb`);
        // As the real activity: a retry while it runs reads the counts kept at its start.
        if (c.running)
          return { container, started: false, before: { total: c.total, remaining: c.remainingAtStart } };
        if (c.remaining === 0) return { container, started: false, before };
        c.running = true;
        c.exitCode = null;
        c.remainingAtStart = c.remaining;
        c.starts++;
        return { container, started: true, before };
      }),

      mediaChownProgress: this.record('mediaChownProgress', (): MediaChownProgress => {
        const c = s.chown;
        if (c.running && c.vanished < media.vanishes) {
          // Gone: no exit code and no process; what it did stays done.
          c.vanished++;
          c.running = false;
          c.remaining = Math.max(0, c.remaining - media.perPoll);
          const changed = c.remainingAtStart - c.remaining;
          if (media.withContainer) return { ...CHOWN_GONE_WITH_CONTAINER };
          return {
            total: c.total,
            remaining: c.remaining,
            done: c.total - c.remaining,
            exitCode: null,
            changed,
            state: 'gone',
          };
        }
        if (c.running) {
          if (media.failWith !== undefined) {
            c.remaining = Math.max(1, c.remaining - media.perPoll);
            c.running = false;
            c.exitCode = media.failWith;
          } else {
            c.remaining = Math.max(0, c.remaining - media.perPoll);
            if (c.remaining === 0) {
              c.running = false;
              c.exitCode = 0;
            }
          }
        }
        return {
          total: c.total,
          remaining: c.remaining,
          done: c.total - c.remaining,
          exitCode: c.exitCode,
          changed: c.remainingAtStart - c.remaining,
          state: c.exitCode !== null ? 'exited' : c.running ? 'running' : 'gone',
        };
      }),

      stopMediaChown: this.record('stopMediaChown', () => {
        // Killed: no exit code is written, what is done stays done.
        s.chown.running = false;
        s.chown.stops++;
        return { stopped: true };
      }),

      composeDown: this.record(
        'composeDown',
        ({ host, removeVolumes }: HostArgs & { removeVolumes: boolean }) => {
          if (!s.files.has(host)) return { host, ran: false, left: [] as string[] };
          for (const u of [...s.up]) {
            if (u.startsWith(`${host}/`) && !o.stuck?.includes(u)) s.up.delete(u);
          }
          if (removeVolumes) s.volumes.delete(host);
          const left = [...s.up]
            .filter((u) => u.startsWith(`${host}/`))
            .map((u) => `biz_${u.slice(host.length + 1)}_1`);
          return { host, ran: true, left };
        },
      ),

      collectServiceLogs: this.record(
        'collectServiceLogs',
        ({
          host,
          service,
          maxBytes,
          runDir,
        }: HostArgs & { service: string; maxBytes: number; runDir: string }) => {
          const log = o.logs?.[`${host}/${service}`] ?? { bytes: 1024, errorLines: 0 };
          return {
            host,
            service,
            path: `/artifacts/${runDir}/debug_output-${host}-${service}.txt`,
            bytes: Math.min(log.bytes, maxBytes),
            errorLines: log.errorLines,
            sha256: hash(`${host}/${service}`),
          };
        },
      ),
    };
  }
}

export const fakeCluster = (options?: FakeClusterOptions) => new FakeCluster(options);

/**
 * A set-up cluster on `from` (default 2.29.3) whose health degrades while master1 runs `to` (default
 * 2.30.0): an upgrade to `to` fails its first health gate and rolls back. `options`: the rest.
 */
export const degradesWhileMasterRuns = (
  { from = '2.29.3', to = '2.30.0' }: { from?: string; to?: string } = {},
  options: Omit<FakeClusterOptions, 'setUp' | 'version' | 'health'> = {},
) =>
  fakeCluster({
    ...options,
    setUp: true,
    version: from,
    health: (state) => (state.versions.master1 === to ? SEED.degraded() : SEED.haConnected()),
  });

// ---------------------------------------------------------------------------------------------
// Driving runs (every wait bounded)

export interface Scenario {
  client: Client;
  taskQueue: string;
  /**
   * Start `workflowType` with a unique id (`test/<type>/<label>-<uuid>`), its request signed by the
   * input's `requestedBy` (test keys) unless `unsigned`; terminated at the end if still open.
   * `executionTimeout` (default 2m) bounds the run and its continuations.
   */
  start(
    workflowType: string,
    label: string,
    input: unknown,
    opts?: { unsigned?: boolean; executionTimeout?: string; extraArgs?: unknown[] },
  ): Promise<WorkflowHandle>;
  /** Track a handle started otherwise, so the scenario terminates it at the end. */
  track(handle: WorkflowHandle): void;
}

/** A real worker with the fake's activities on a fresh task queue; open runs are terminated afterwards. */
export async function scenario(
  fake: FakeCluster,
  fn: (s: Scenario) => Promise<void>,
  /** Real activities to use instead of the fake's (e.g. the run guard against the dev server). */
  real: Partial<Activities> = {},
): Promise<void> {
  // Imported here, not at the top: worker processes outside vitest load this file too.
  const { withWorker } = await import('./temporal');
  await withWorker({ ...fake.activities, ...real }, async ({ client, taskQueue }) => {
    const handles: WorkflowHandle[] = [];
    const s: Scenario = {
      client,
      taskQueue,
      track: (h) => {
        handles.push(h);
      },
      async start(workflowType, label, input, opts = {}) {
        const workflowId = `test/${workflowType}/${label}-${randomUUID()}`;
        // Signed by its requester, as `waba-runbooks start` does, unless the test wants it unsigned.
        const args = opts.unsigned ? input : await signedInput(workflowType, workflowId, input);
        const handle = await client.workflow.start(workflowType, {
          taskQueue,
          workflowId,
          args: [args, ...(opts.extraArgs ?? [])],
          workflowExecutionTimeout: opts.executionTimeout ?? '2m',
        });
        handles.push(handle);
        return handle;
      },
    };
    try {
      await fn(s);
    } finally {
      for (const h of handles) {
        const d = await h.describe().catch(() => undefined);
        if (d?.status.name === 'RUNNING') await h.terminate('test over').catch(() => undefined);
      }
    }
  });
}

/** `promise`, or a clear error after `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rejectTimeout) => {
    timer = setTimeout(() => rejectTimeout(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `read` (e.g. a query) until `ok` holds, for at most `ms` (default 15 s). */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (ok(value)) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How a run failed: the error, its direct cause, and the first ApplicationFailure down the chain. */
export interface RunFailure {
  error: WorkflowFailedError;
  cause: Error | undefined;
  failure: ApplicationFailure;
}

/** Await a run that must fail (within `ms`, default 40 s). */
export async function runFailure(handle: WorkflowHandle, ms = 40_000): Promise<RunFailure> {
  const err = await within(ms, `run ${handle.workflowId}`, handle.result()).then(
    (value) => new Error(`expected the run to fail, it returned ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw err;
  let cause: unknown = err.cause;
  while (cause instanceof TemporalFailure && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure))
    throw new Error(`the run failed without an ApplicationFailure: ${String(err.cause)}`);
  return { error: err, cause: err.cause, failure: cause };
}

/** The failure an Update was refused with (by its validator), within 15 s. */
export async function updateRefusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await within(15_000, 'the update', promise).then(
    (value) => new Error(`expected the update to be refused, it returned ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowUpdateFailedError)) throw err;
  if (!(err.cause instanceof ApplicationFailure))
    throw new Error(`refused without a failure: ${String(err)}`);
  return err.cause;
}
