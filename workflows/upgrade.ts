// Seed sections C, D, E: back up, approve, upgrade the schema (MySQL), re-create the containers on
// the new version role by role with a health gate after each batch, roll back when a gate fails.
import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { type HostSpec, mediaDirOf, type OperableCluster, type Role } from '../src/model/cluster';
import { type ComposeVariant, composeCommand, hostComposeCall } from '../src/model/commands';
import {
  HEALTH_GATE_FAILED,
  HOST_NEWER_THAN_TARGET,
  PLAN_UNSTABLE,
  UPGRADE_FAILED,
  UPGRADE_ROLLED_BACK,
} from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { RUNBOOK_INPUTS, UpgradeInput } from '../src/model/inputs';
import { type ClusterRef, inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { compareVersions, VERSION_PATTERN } from '../src/model/version';
import { windowState } from '../src/model/window';
import { type PlanStep, planQuery } from './api';
import { type DbUpgradeResult, dbUpgrade } from './db-upgrade';
import { planHashOf } from './lib/approval';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { failureText } from './lib/failure-text';
import { gatedRun } from './lib/gated-run';
import { waitForHealth } from './lib/health-gate';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep, SERVICE_OF_ROLE, upSteps } from './lib/plan';
import { requireScheduledForPreApproval, validateInput } from './lib/validate';
import { type MediaChownResult, mediaChown as mediaChownWorkflow } from './media-chown';

export interface UpgradeResult {
  cluster: string;
  inventory: InventoryStamp;
  fromVersion: string;
  toVersion: string;
  backup: { path: string; sha256: string };
  dbUpgrade: DbUpgradeResult | 'skipped';
  /** One line per host and role (a host with two roles has two), in upgrade order. */
  hosts: HostOutcome[];
  gates: { gate: string; outcome: string; at: string; detail?: string }[];
  decisions: unknown[];
  mediaChown: MediaChownResult | 'not needed';
  health: HealthSummary;
}

/** What a host ran for one role before this run, and what the run did about it. */
export interface HostOutcome {
  host: string;
  role: Role;
  service: string;
  /** The version its containers of the service ran before (read from their image), or `none`. */
  from: string;
  to: string;
  /** `already on target`: it ran `to` before this run (e.g. a re-run after a partial upgrade): left alone. */
  action: 'upgraded' | 'already on target';
}

/**
 * Marks runs that know `window.onClose` (the plan says what happens when the window closes; `park`
 * parks between batches). A run started before it replays as it ran: no parking, the old plan text.
 */
export const WINDOW_ON_CLOSE_PATCH = 'upgrade-window-on-close';

/** A parked run (`status.parked`): its window closed between two batches. */
export interface Parked {
  /** When it parked, and the opening it waits for (ISO). */
  since: string;
  until: string;
  /** The last health gate that passed before it parked (null: it parked before the first batch). */
  after: string | null;
  /** The batch it starts with at the opening, e.g. `upgrade master on master2`. */
  next: string;
}

/** One role's service on one host, as read before upgrading. */
interface ServiceOnHost {
  host: HostSpec;
  role: Role;
  service: string;
  /** The version read from its containers' image; `none` without a container. */
  from: string;
  onTarget: boolean;
  /** What a rollback puts it back on: what it ran, or cluster.version when that is not an older version. */
  rollbackTo: string;
}

const ROLES: Role[] = ['webapp', 'master', 'coreapp'];

/** `docker.whatsapp.biz/coreapp:v2.29.1` -> `2.29.1`; undefined for any other tag. */
export function versionOfImage(image: string): string | undefined {
  const m = /:v(\d+\.\d+\.\d+)$/.exec(image);
  return m?.[1];
}

/**
 * What each role's service runs on each host, read from its containers: a service counts as on the
 * target only when every one of its containers runs the target's image; otherwise its version is
 * the first one that is not the target.
 */
async function readRunningVersions(
  ref: ClusterRef,
  cluster: OperableCluster,
  variants: Map<string, ComposeVariant>,
  from: string,
  to: string,
): Promise<ServiceOnHost[]> {
  const states = new Map(
    await Promise.all(
      cluster.hosts.map(
        async (h) =>
          [
            h.name,
            await hostActs.composePs({
              cluster: ref,
              host: h.name,
              version: from,
              variant: variants.get(h.name) ?? 'v1',
            }),
          ] as const,
      ),
    ),
  );
  return ROLES.flatMap((role) =>
    hostsWithRole(cluster, role).map((host) => {
      const service = SERVICE_OF_ROLE[role];
      const mine = (states.get(host.name) ?? []).filter((c) => c.service === service);
      const versions = mine.map((c) => versionOfImage(c.image) ?? `unknown (${c.image})`);
      const onTarget = mine.length > 0 && mine.every((c) => c.running) && versions.every((v) => v === to);
      const read = versions.find((v) => v !== to) ?? versions[0] ?? 'none';
      const older = VERSION_PATTERN.test(read) && compareVersions(read, to) < 0;
      return { host, role, service, from: read, onTarget, rollbackTo: older ? read : from };
    }),
  );
}

/** "web1, master1 to v2.29.3" or, when they differ, "web1 to v2.29.2, master1 to v2.29.3". */
function rollbackText(items: { host: HostSpec; rollbackTo: string }[], to = 'to'): string {
  const versions = new Set(items.map((u) => u.rollbackTo));
  if (versions.size === 1) return `${items.map((u) => u.host.name).join(', ')} ${to} v${[...versions][0]}`;
  return items.map((u) => `${u.host.name} ${to} v${u.rollbackTo}`).join(', ');
}

/** A gate re-opens at most this often because the hosts changed under it; then the run stops. */
const MAX_REOPENS = 3;

/** What changed between two readings of the hosts, for the re-opened gate and its notification. */
function planChange(before: ServiceOnHost[], after: ServiceOnHost[], to: string): string {
  const key = (s: ServiceOnHost) => `${s.host.name}/${s.service}`;
  const changes = after.flatMap((a) => {
    const b = before.find((x) => key(x) === key(a));
    if (b && b.from === a.from && b.onTarget === a.onTarget) return [];
    const shown = (s: ServiceOnHost) =>
      s.onTarget ? `v${to}` : s.from === 'none' ? 'no container' : `v${s.from}`;
    return [`${key(a)} ran ${b ? shown(b) : 'nothing known'} when the gate opened, now ${shown(a)}`];
  });
  return changes.join('; ') || 'the plan changed';
}

/** The `up -d` of every host the rollback puts back, newest first, with the version it goes back to. */
function rollbackSteps(
  cluster: OperableCluster,
  upgraded: ServiceOnHost[],
  variants: Map<string, ComposeVariant>,
): PlanStep[] {
  return [...upgraded].reverse().map((u) => ({
    stage: 'rollback',
    host: u.host.name,
    command: composeCommand(hostComposeCall(cluster, u.host.name, u.rollbackTo, variants.get(u.host.name)), [
      'up',
      '-d',
      u.service,
    ]),
    note: `back on v${u.rollbackTo}`,
  }));
}

export function needsDbUpgrade(engine: string, to: string): boolean {
  return engine === 'MYSQL' && compareVersions(to, '2.23.0') >= 0;
}

export function needsMediaChown(from: string, to: string): boolean {
  return (from === '2.29.1' || from === '2.29.2') && compareVersions(to, '2.29.3') >= 0;
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function upgrade(raw: unknown): Promise<UpgradeResult | PreviewResult> {
  const input = validateInput('upgrade', UpgradeInput, raw);
  requireScheduledForPreApproval('upgrade', input.preApproved);
  const { toVersion, rollback } = input;
  const id = workflowInfo().workflowId;
  const gateLog: UpgradeResult['gates'] = [];
  let from: string | undefined;
  /** While the run is parked (its window closed between two batches): since when, until when, what is next. */
  let parked: Parked | null = null;
  const { progress, gates, notifier, resolve, preview } = gatedRun('upgrade', input, raw, () => ({
    fromVersion: from,
    toVersion,
    healthGates: gateLog,
    parked,
  }));
  let plan: PlanStep[] = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);
  /** The window's onClose policy applies (a window, not forced, and a run that knows the policy). */
  const onClosePolicy = () => Boolean(input.window && !input.force) && patched(WINDOW_ON_CLOSE_PATCH);
  const buildPlan = (cluster: OperableCluster, dbUp: boolean, chown: boolean): PlanStep[] => [
    ...(input.window
      ? [
          {
            stage: 'window',
            note: `${input.window.days.join(',')} ${input.window.start}-${input.window.end} ${input.window.timeZone}${input.force ? ` (forced: ${input.force.reason})` : onClosePolicy() ? `; when it closes: ${input.window.onClose === 'park' ? 'park (no new batch; resume at the next opening)' : 'finish (run on to the last batch)'}` : ''}`,
          },
        ]
      : []),
    { stage: 'pre-upgrade health', note: 'registered and healthy' },
    { stage: 'settings backup', note: 'POST /v1/settings/backup, stored on the worker' },
    {
      stage: 'approval',
      // What approvers sign is this plan; approvals given in advance are in `status` and the result.
      note: 'gate "upgrade"',
    },
    ...(dbUp ? [{ stage: 'dbUpgrade', note: `child workflow: dbupgrade job v${toVersion}` }] : []),
    ...upSteps(cluster, toVersion).map((s) => ({
      ...s,
      note: `batches of ${input.maxUnavailable}, health gate after each`,
    })),
    ...(chown
      ? [
          {
            stage: 'mediaChown',
            note: `child workflow after the Webapps: chown -R root ${mediaDirOf(cluster)}/{incoming,outgoing,shared}`,
          },
        ]
      : []),
  ];

  const waitForWindow = async () => {
    if (!input.window) return;
    if (input.force) {
      progress.host('window', `forced outside the window: ${input.force.reason}`);
      return;
    }
    for (;;) {
      const w = windowState(Date.now(), input.window);
      if (w.inside) return;
      progress.stage(`waiting for window opening at ${new Date(w.opensAt).toISOString()}`);
      notifier.waitingForWindow(w.opensAt);
      await sleep(w.opensAt - Date.now());
    }
  };

  /** Hosts (and roles) this run changed, in order: what a rollback puts back. */
  const upgraded: ServiceOnHost[] = [];
  try {
    const resolved = await resolve(RUNBOOK_INPUTS.upgrade.issues);
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const apiReq = { cluster: ref };
    from = cluster.version;
    const fromVersion = from;
    gates.preApprove(input.preApproved);
    const dbUp = needsDbUpgrade(cluster.db.engine, toVersion);
    const chown = needsMediaChown(fromVersion, toVersion);
    plan = [resolveStep(cluster.name, resolved.resolution), ...buildPlan(cluster, dbUp, chown)];
    await holdClusterLock(progress, 'upgrade', cluster.name, input);
    if (!input.preview) await waitForWindow();
    progress.stage('pre-upgrade health');
    const before = await waitForHealth(
      apiReq,
      'registered and healthy',
      { verdictIn: ['ha-connected', 'multiconnect-connected'] },
      '2m',
    );
    const expected = before.connectedCoreapps;
    progress.stage('preflight');
    const variants = await detectCompose(ref, cluster);
    /**
     * What each host and role runs now, and the plan that follows from it (hosts already on the
     * target are left alone). Read before the gate, and again after it: what was approved is what runs.
     */
    const survey = async () => {
      progress.stage('read running versions');
      const services = await readRunningVersions(ref, cluster, variants, fromVersion, toVersion);
      for (const s of services)
        progress.host(
          s.host.name,
          `${s.service} runs ${s.from === 'none' ? 'no container' : VERSION_PATTERN.test(s.from) ? `v${s.from}` : s.from}`,
        );
      const newer = services.filter(
        (s) => VERSION_PATTERN.test(s.from) && compareVersions(s.from, toVersion) > 0,
      );
      if (newer.length > 0)
        throw ApplicationFailure.create({
          type: HOST_NEWER_THAN_TARGET,
          nonRetryable: true,
          message: `refusing to downgrade: ${newer.map((s) => `${s.service} on ${s.host.name} runs v${s.from}`).join(', ')}, newer than v${toVersion}`,
        });
      const done = services.filter((s) => s.onTarget);
      const steps = [resolveStep(cluster.name, resolved.resolution), ...buildPlan(cluster, dbUp, chown)].map(
        (step) =>
          done.some((s) => s.host.name === step.host && step.stage === `start ${s.service}`)
            ? { ...step, note: `already on v${toVersion}: left alone` }
            : step,
      );
      const doneText = done.length
        ? `; already on v${toVersion}, left alone: ${done.map((s) => `${s.host.name}/${s.service}`).join(', ')}`
        : '';
      return { services, steps, doneText };
    };
    let current = await survey();
    plan = current.steps;
    if (input.preview) return preview('upgrade', current.steps, resolved);
    progress.stage('settings backup');
    const backup = await hostActs.settingsBackup({
      cluster: ref,
      label: `v${fromVersion}-to-v${toVersion}-${workflowInfo().runId.slice(0, 8)}`,
    });
    progress.host('backup', `${backup.path} (sha256 ${backup.sha256.slice(0, 12)}…)`);

    const gateText = (c: typeof current) =>
      `upgrade cluster ${cluster.name} from v${fromVersion} to v${toVersion}: ${dbUp ? 'dbupgrade job, then ' : ''}webapps, masters, coreapps in batches of ${input.maxUnavailable}; rollback ${rollback}; backup ${backup.path}${c.doneText}`;
    await gates.require('upgrade', gateText(current), current.steps);
    // Before the first disruptive step: the window again, and the hosts again. When what they run
    // changed since the gate opened (someone upgraded a host by hand meanwhile), the approvals were
    // given for another plan: the gate opens again, saying what changed.
    for (let reopened = 0; ; reopened++) {
      await waitForWindow();
      const fresh = await survey();
      if (planHashOf('upgrade', resolved.resolution.specHash, fresh.steps) === gates.planOf('upgrade')) {
        current = fresh;
        break;
      }
      if (reopened >= MAX_REOPENS)
        throw ApplicationFailure.create({
          type: PLAN_UNSTABLE,
          nonRetryable: true,
          message: `the hosts of cluster ${cluster.name} kept changing while the gate waited (${MAX_REOPENS} times): nothing was upgraded`,
        });
      const because = planChange(current.services, fresh.services, toVersion);
      current = fresh;
      plan = fresh.steps;
      await gates.require('upgrade', gateText(fresh), fresh.steps, because);
    }
    const { services, doneText } = current;
    const done = services.filter((s) => s.onTarget);

    let db: DbUpgradeResult | 'skipped' = 'skipped';
    if (dbUp) {
      progress.stage('dbUpgrade');
      db = await executeChild(dbUpgrade, {
        workflowId: `${id}/dbUpgrade`,
        args: [
          {
            cluster: cluster.name,
            toVersion,
            restartApps: false,
            timeouts: { job: input.timeouts.dbUpgrade },
          },
        ],
      });
    }

    const rollbackAll = async (why: string): Promise<never> => {
      progress.stage('rollback');
      for (const u of [...upgraded].reverse()) {
        progress.host(u.host.name, `rolling back to v${u.rollbackTo}`);
        await hostActs.composeUp({
          cluster: ref,
          host: u.host.name,
          service: u.service,
          version: u.rollbackTo,
          variant: variants.get(u.host.name) ?? 'v1',
        });
        progress.host(u.host.name, `back on v${u.rollbackTo}`);
      }
      throw ApplicationFailure.create({
        type: UPGRADE_ROLLED_BACK,
        nonRetryable: true,
        message: `${why}; rolled back ${rollbackText(upgraded)}${doneText}`,
      });
    };

    const onFailedGate = async (why: string): Promise<never> => {
      if (rollback === 'auto') return rollbackAll(why);
      if (rollback === 'ask') {
        try {
          await gates.require(
            'rollback',
            `${why}. Approve to put ${rollbackText(upgraded, 'back on')}; reject to leave them as they are`,
            rollbackSteps(cluster, upgraded, variants),
          );
        } catch (err) {
          if (err instanceof ApplicationFailure) {
            throw ApplicationFailure.create({
              type: UPGRADE_FAILED,
              nonRetryable: true,
              message: `${why}; rollback not done (${err.message}); hosts left as they are`,
            });
          }
          throw err;
        }
        return rollbackAll(why);
      }
      throw ApplicationFailure.create({
        type: UPGRADE_FAILED,
        nonRetryable: true,
        message: `${why}; rollback is off: hosts left as they are`,
      });
    };

    /**
     * Before each batch, with `onClose: park`: when the window has closed, no batch starts; the run
     * parks (every batch so far passed its health gate) until the next opening, checks the health
     * again, and goes on with this batch.
     */
    const parkIfClosed = async (next: string) => {
      const w = input.window;
      if (!w || !onClosePolicy() || w.onClose !== 'park') return;
      let state = windowState(Date.now(), w);
      if (state.inside) return;
      const passed = gateLog.filter((g) => g.outcome === 'passed').at(-1)?.gate;
      const after = passed ? `after "${passed}" passed` : 'before the first batch';
      const since = new Date().toISOString();
      while (!state.inside) {
        const until = new Date(state.opensAt).toISOString();
        parked = { since, until, after: passed ?? null, next };
        progress.host('window', `closed: parked ${after}; ${next} at ${until}`);
        progress.stage(`parked until ${until}`);
        notifier.waitingForWindow(state.opensAt);
        await sleep(state.opensAt - Date.now());
        state = windowState(Date.now(), w);
      }
      parked = null;
      progress.host('window', `open again (parked ${since} to ${new Date().toISOString()})`);
      // The cluster had time to change while the run waited: healthy again before the next batch.
      progress.stage('health before resuming');
      const gate = 'health before resuming';
      try {
        await waitForHealth(
          apiReq,
          `${expected} Coreapp(s) connected`,
          { minConnectedCoreapps: expected, verdictNotIn: ['degraded'] },
          input.timeouts.health,
        );
        gateLog.push({
          gate,
          outcome: 'passed',
          at: new Date().toISOString(),
          detail: `parked since ${since}`,
        });
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
        gateLog.push({ gate, outcome: 'failed', at: new Date().toISOString(), detail: err.message });
        await onFailedGate(`${gate} failed: ${err.message}`);
      }
    };

    let chownChild: Promise<MediaChownResult> | undefined;
    for (const role of ROLES) {
      const service = SERVICE_OF_ROLE[role];
      const ofRole = services.filter((s) => s.role === role);
      for (const s of ofRole.filter((x) => x.onTarget))
        progress.host(s.host.name, `${service} already on v${toVersion}: left alone`);
      const todo = ofRole.filter((s) => !s.onTarget);
      for (const batch of batches(todo, input.maxUnavailable)) {
        const names = batch.map((s) => s.host.name).join(', ');
        await parkIfClosed(`upgrade ${service} on ${names}`);
        progress.stage(`upgrade ${service} on ${names}`);
        const ups = await Promise.allSettled(
          batch.map(async (s) => {
            await hostActs.composeUp({
              cluster: ref,
              host: s.host.name,
              service,
              version: toVersion,
              variant: variants.get(s.host.name) ?? 'v1',
            });
            upgraded.push(s);
            progress.host(s.host.name, `${service} on v${toVersion}`);
          }),
        );
        const upFailure = firstUpFailure(
          batch.map((s) => s.host),
          ups,
        );
        if (upFailure) {
          // The host may be half-way (container removed, new one not up): it is rolled back too.
          const why = `up -d ${service} v${toVersion} on ${upFailure.host.name} failed: ${failureText(upFailure.error)}`;
          for (const s of batch) if (!upgraded.includes(s)) upgraded.push(s);
          progress.host(upFailure.host.name, `up -d failed`);
          gateLog.push({
            gate: `up -d ${service} on ${names}`,
            outcome: 'failed',
            at: new Date().toISOString(),
            detail: why,
          });
          await onFailedGate(why);
        }
        const gate = `health after ${service} on ${names}`;
        try {
          await waitForHealth(
            apiReq,
            `${expected} Coreapp(s) connected`,
            { minConnectedCoreapps: expected, verdictNotIn: ['degraded'] },
            input.timeouts.health,
          );
          gateLog.push({ gate, outcome: 'passed', at: new Date().toISOString() });
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
          gateLog.push({ gate, outcome: 'failed', at: new Date().toISOString(), detail: err.message });
          await onFailedGate(`${gate} failed: ${err.message}`);
        }
      }
      if (role === 'webapp' && chown) {
        progress.stage('mediaChown started');
        // The chown keeps to the upgrade's window (unless the upgrade was forced outside it): it
        // stops when the window closes and resumes at its next opening, as a mediaChown does.
        const w = input.window && !input.force ? input.window : undefined;
        const handle = await startChild(mediaChownWorkflow, {
          workflowId: `${id}/mediaChown`,
          args: [
            w
              ? {
                  cluster: cluster.name,
                  window: { days: w.days, start: w.start, end: w.end, timeZone: w.timeZone },
                }
              : { cluster: cluster.name },
          ],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        chownChild = handle.result();
        // Awaited at the end; until then a failure of the child must not count as unhandled.
        chownChild.catch(() => undefined);
      }
    }

    progress.stage('final health');
    const health = await waitForHealth(
      apiReq,
      `${expected} Coreapp(s) connected`,
      { minConnectedCoreapps: expected, verdictNotIn: ['degraded'] },
      input.timeouts.health,
    );
    let mediaChown: UpgradeResult['mediaChown'] = 'not needed';
    if (chownChild) {
      progress.stage('waiting for mediaChown');
      mediaChown = await chownChild;
    }
    progress.stage(`done: v${toVersion}, ${health.verdict}`);
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolved.resolution),
        fromVersion,
        toVersion,
        backup: { path: backup.path, sha256: backup.sha256 },
        dbUpgrade: db,
        hosts: services.map((s) => ({
          host: s.host.name,
          role: s.role,
          service: s.service,
          from: s.from,
          to: toVersion,
          action: s.onTarget ? ('already on target' as const) : ('upgraded' as const),
        })),
        gates: gateLog,
        decisions: gates.decisions(),
        mediaChown,
        health,
      },
      `v${fromVersion} → v${toVersion} on ${upgraded.length} hosts${done.length ? ` (${done.length} already on it)` : ''}${dbUp ? ', database upgraded' : ''}${chownChild ? ', media chown done' : ''}; health ${health.verdict}; backup ${backup.path}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}

/**
 * The first host of a batch whose `up -d` failed, when the failure is one to roll back for (not a
 * cancellation of the run, which must end the run as cancelled).
 */
function firstUpFailure(
  batch: HostSpec[],
  results: PromiseSettledResult<void>[],
): { host: HostSpec; error: unknown } | undefined {
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (isCancellation(r.reason)) throw r.reason;
    const host = batch[i];
    if (host) return { host, error: r.reason };
  }
  return undefined;
}
