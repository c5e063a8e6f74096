// Seed procedure A (9 steps): set up an HA cluster, register it, and check exactly one Coreapp connects.
// Every stage checks before it acts, so a re-run on a set-up cluster does nothing twice and says
// what it found (files unchanged, services already running, number already registered).
import { ApplicationFailure, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ContainerState } from '../activities/compose';
import type { OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { type ContainerLines, containerLines, missingServices } from '../src/model/containers-wait';
import { durationMs } from '../src/model/duration';
import { CONTAINERS_NOT_RUNNING, HOST_NEWER_THAN_TARGET } from '../src/model/errors';
import type { HealthSummary } from '../src/model/health';
import { HaSetupInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { type ClusterRef, inventoryOf, type Resolution } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { compareVersions } from '../src/model/version';
import { type PlanStep, planQuery } from './api';
import { API_STEP, HOST_STEP } from './lib/activity-options';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { failureText } from './lib/failure-text';
import { gatedRun } from './lib/gated-run';
import {
  legacyPollInterval,
  POLL_IN_ACTIVITY_PATCH,
  timedOut,
  waitForHealth,
  waitOptions,
} from './lib/health-gate';
import { preflightHosts } from './lib/hosts';
import {
  hostKeySteps,
  noteVariants,
  preflightSteps,
  psSteps,
  resolveStep,
  SERVICE_OF_ROLE,
  uploadSteps,
  upSteps,
  type Variants,
} from './lib/plan';
import { validateInput } from './lib/validate';
import { VerificationCode } from './lib/verification-code';

// Host activities heartbeat while they run, so a dead worker's activity is retried within 30 s.
const hosts = proxyActivities<Activities>(HOST_STEP);
const api = proxyActivities<Activities>(API_STEP);

type Containers = ContainerLines;

export interface HaSetupResult {
  cluster: string;
  inventory: InventoryStamp;
  version: string;
  alreadyRegistered: boolean;
  uploads: { host: string; path: string; uploaded: boolean }[];
  containers: Containers;
  /** What was already done and left alone, e.g. "waweb already running on web1 (v2.23.4)". */
  found: string[];
  registration: { status: 201 | 202 | 'skipped'; codeBy?: string; codeAt?: string };
  decisions: unknown[];
  health: HealthSummary;
}

export async function haSetup(raw: unknown): Promise<HaSetupResult | PreviewResult> {
  const input = validateInput('haSetup', HaSetupInput, raw);
  const { method, timeouts } = input;
  const found: string[] = [];
  const code = new VerificationCode({ onWait: (timeout) => notifier.waitingForCode(timeout) });
  const { progress, gates, notifier, resolve, preview } = gatedRun('haSetup', input, raw, () => ({
    awaitingCode: code.awaiting(),
    codePlan: code.codePlan(),
    found: [...found],
  }));
  const noted = (what: string, host?: string) => {
    found.push(what);
    if (host) progress.host(host, what);
  };

  // Until the cluster is resolved the plan says so; then it shows every command, for docker-compose
  // until preflight has detected each host's compose, then rebuilt with it.
  let plan = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);

  try {
    const resolved = await resolve(RUNBOOK_INPUTS.haSetup.issues);
    const cluster = resolved.cluster as OperableCluster;
    const { ref, resolution } = resolved;
    const version = cluster.version;
    const apiReq = { cluster: ref };
    plan = haSetupPlan(input, cluster, resolution);
    await holdClusterLock(progress, 'haSetup', cluster.name, input);
    // The password check runs first and alone: a bad password stops the run before any SSH connection.
    progress.stage('database password');
    await hosts.checkDbSecret({ cluster: ref });
    const preflight = await preflightHosts(ref, cluster, cluster.hosts, (s) => progress.stage(s));
    const variant = new Map<string, ComposeVariant>(preflight.map((p) => [p.host, p.compose.variant]));
    plan = haSetupPlan(input, cluster, resolution, variant);
    // The register gate comes after the containers start; a dry run stops before anything is uploaded.
    if (input.preview) return preview('register', plan, resolved);
    for (const p of preflight)
      progress.host(
        p.host,
        `docker ${p.docker}, compose ${p.compose.variant} ${p.compose.version ?? ''}`.trim(),
      );

    progress.stage('upload');
    const uploads = (
      await Promise.all(
        cluster.hosts.map(async (h) =>
          (await hosts.uploadSetupFiles({ cluster: ref, host: h.name })).map((u) => ({ host: h.name, ...u })),
        ),
      )
    ).flat();
    for (const h of cluster.hosts) {
      if (uploads.every((u) => u.host !== h.name || !u.uploaded))
        noted(`setup files already in place on ${h.name}`);
    }

    // What already runs: a service running this version is not started again.
    progress.stage('check containers');
    const before = await psAll(ref, cluster, version, variant);
    refuseNewerThan(before, version);
    const runsAlready = (host: string, service: string) =>
      before.some((s) => s.host === host && s.containers.some((c) => current(c, service, version)));

    // Seed A5: Webapps, then Masters, then Coreapps; hosts of one role in parallel.
    let started = 0;
    for (const role of ['webapp', 'master', 'coreapp'] as const) {
      const service = SERVICE_OF_ROLE[role];
      progress.stage(`start ${service}`);
      await Promise.all(
        cluster.hosts
          .filter((h) => h.roles.includes(role))
          .map(async (h) => {
            if (runsAlready(h.name, service)) {
              noted(`${service} already running on ${h.name} (v${version})`, h.name);
              return;
            }
            progress.host(h.name, `up -d ${service}`);
            await hosts.composeUp({
              cluster: ref,
              host: h.name,
              service,
              version,
              variant: variant.get(h.name) ?? 'v1',
            });
            started++;
            progress.host(h.name, `${service} started`);
          }),
      );
    }

    progress.stage('wait running');
    // Nothing started: the first `ps` showed every service running this version; no need to ask again.
    const containers =
      started === 0
        ? flatten(before)
        : await waitRunning(ref, cluster, version, variant, timeouts.containers);

    progress.stage('health unregistered');
    await api.wabaLogin({ ...apiReq, firstLogin: true });
    const beforeHealth = await waitForHealth(
      apiReq,
      'unregistered or registered',
      { anyOf: [{ verdictNotIn: ['degraded'] }, { minConnectedCoreapps: 1 }] },
      timeouts.health,
    );
    const alreadyRegistered = beforeHealth.verdict !== 'unregistered';
    if (alreadyRegistered) noted(`cluster ${cluster.name} already registered (${beforeHealth.verdict})`);

    let reg: HaSetupResult['registration'] = { status: 'skipped' };
    const registration = cluster.registration;
    const number = `+${registration?.cc} ${registration?.phoneNumber}`;
    if (!alreadyRegistered) {
      await gates.require('register', `register ${number} (${method}) on cluster ${cluster.name}`, plan);
      code.requireSignatures(gates.policy(), gates.planOf('register') as string);
      progress.stage('register');
      const answer = await api.wabaRegister({ ...apiReq, method });
      reg = { status: answer.status };
      if (answer.status === 202) {
        progress.stage('waiting for verification code');
        const received = await code.wait(timeouts.code);
        progress.stage('verify');
        await api.wabaVerify({ ...apiReq, code: received.code });
        reg = { status: 202, codeBy: received.by, codeAt: received.at };
      }
    }

    progress.stage('health connected');
    const health = await waitForHealth(
      apiReq,
      alreadyRegistered ? 'Coreapps connected' : 'exactly one Coreapp connected',
      alreadyRegistered ? { verdictNotIn: ['degraded', 'unregistered'] } : { verdictIn: ['ha-connected'] },
      timeouts.health,
      (s) => {
        for (const n of s.nodes)
          progress.host(`${n.host}:${n.containerId ?? ''}`, n.gatewayStatus ?? `error ${n.errorCode}`);
      },
    );
    progress.stage(`done: ${health.verdict}`);
    const registered = alreadyRegistered
      ? 'already registered'
      : `registered ${number}${reg.codeBy ? ` (code from ${reg.codeBy})` : ''}`;
    const reused = found.filter((f) => f.includes(' already running on ')).length;
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolution),
        version,
        alreadyRegistered,
        uploads: uploads.map((u) => ({ host: u.host, path: u.path, uploaded: u.uploaded })),
        containers,
        found,
        registration: reg,
        decisions: gates.decisions(),
        health,
      },
      `v${version} on ${cluster.hosts.length} hosts${reused ? ` (${reused} service(s) already running)` : ''}, ${registered}; health ${health.verdict}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}

/** Every stage of the run, with the command or API call per host; `variants` once preflight ran. */
function haSetupPlan(
  input: HaSetupInput,
  cluster: OperableCluster,
  resolution: Resolution,
  variants?: Variants,
): PlanStep[] {
  const { timeouts, method } = input;
  const { registration } = cluster;
  const approvals = resolution.policy;
  const version = cluster.version;
  const all = cluster.hosts;
  return [
    { stage: 'validate', note: 'the input against the haSetup schema, before anything else' },
    resolveStep(cluster.name, resolution),
    { stage: 'run guard', note: `no other disruptive run open on cluster ${cluster.name}` },
    {
      stage: 'database password',
      note: 'db.passwordRef of the inventory, resolved on the worker; refused if it has any of ? { } & ~ ! ( ) ^ =',
    },
    ...hostKeySteps(all),
    ...preflightSteps(cluster, all),
    ...uploadSteps(cluster, all),
    ...psSteps(
      cluster,
      all,
      version,
      'check containers',
      `what already runs: a service running v${version} is not started again`,
      variants,
    ),
    ...noteVariants(
      upSteps(cluster, version, undefined, variants).map((s) => ({
        ...s,
        note: `skipped when already running v${version}`,
      })),
      variants,
    ),
    ...psSteps(
      cluster,
      all,
      version,
      'wait running',
      `until every service of the host runs (at most ${timeouts.containers})`,
      variants,
    ),
    {
      stage: 'health unregistered',
      api: 'POST /v1/users/login',
      note: `first login at ${cluster.api.baseUrl}: the initial admin password is changed to api.passwordRef when the API asks`,
    },
    {
      stage: 'health unregistered',
      api: 'GET /v1/health',
      note: `the primary master reports unregistered (A7), within ${timeouts.health}; already registered: no gate, no registration`,
    },
    {
      stage: 'approval',
      note: `gate "register": ${approvals?.minApprovals} of ${approvals?.approvers.join(', ')}, within ${input.approvalTimeout ?? approvals?.timeout.default}`,
    },
    {
      stage: 'register',
      api: 'POST /v1/account',
      note: `+${registration?.cc} ${registration?.phoneNumber}, ${method}; certificate from registration.certRef${registration?.pinRef ? ', PIN from registration.pinRef' : ''} (inventory)`,
    },
    {
      stage: 'waiting for verification code',
      note: `on 202 only: the code from an operator (Update or Signal verificationCode), within ${timeouts.code}`,
    },
    { stage: 'verify', api: 'POST /v1/account/verify', note: 'on 202 only' },
    {
      stage: 'health connected',
      api: 'GET /v1/health',
      note: `exactly one Coreapp connected (A9), within ${timeouts.health}`,
    },
  ];
}

type HostContainers = { host: string; expected: string[]; containers: ContainerState[] };

/**
 * Setting up v<version> where a service already runs a newer one would downgrade it (an inventory
 * whose version was not updated after an upgrade): refused before anything starts.
 */
function refuseNewerThan(states: HostContainers[], version: string): void {
  const newer = states.flatMap((s) =>
    s.containers
      .filter((c) => {
        const v = /:v(\d+\.\d+\.\d+)$/.exec(c.image)?.[1];
        return v !== undefined && compareVersions(v, version) > 0;
      })
      .map((c) => `${c.service} on ${s.host} runs ${c.image.slice(c.image.lastIndexOf(':') + 1)}`),
  );
  if (newer.length > 0)
    throw ApplicationFailure.create({
      type: HOST_NEWER_THAN_TARGET,
      nonRetryable: true,
      message: `refusing to set up v${version} over newer containers: ${newer.join(', ')}; is the inventory's version up to date?`,
    });
}

/** A container of `service` that runs `version` (the image tag is `:v<version>`). */
const current = (c: ContainerState, service: string, version: string) =>
  c.service === service && c.running && c.image.endsWith(`:v${version}`);

async function psAll(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
): Promise<HostContainers[]> {
  return Promise.all(
    cluster.hosts.map(async (h) => ({
      host: h.name,
      expected: h.roles.map((r) => SERVICE_OF_ROLE[r]),
      containers: (await hosts.composePs({
        cluster: ref,
        host: h.name,
        version,
        variant: variant.get(h.name) ?? 'v1',
      })) as ContainerState[],
    })),
  );
}

const flatten = (states: HostContainers[]): Containers => containerLines(states);

/**
 * Seed A6: every host's service container running, within the deadline: one `waitContainersRunning`
 * activity polls `ps` on every host (src/model/poll.ts) and returns as soon as nothing is missing.
 */
async function waitRunning(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
  deadline: string,
): Promise<Containers> {
  if (!patched(POLL_IN_ACTIVITY_PATCH))
    return pollRunningFromWorkflow(ref, cluster, version, variant, deadline);
  const until = Date.now() + durationMs(deadline);
  const { waitContainersRunning } = proxyActivities<Activities>(waitOptions(deadline));
  try {
    const { containers } = await waitContainersRunning({
      cluster: ref,
      version,
      hosts: cluster.hosts.map((h) => ({
        host: h.name,
        variant: variant.get(h.name) ?? 'v1',
        expected: h.roles.map((r) => SERVICE_OF_ROLE[r]),
      })),
      deadline,
      until,
    });
    return containers;
  } catch (err) {
    if (timedOut(err) && Date.now() >= until)
      throw ApplicationFailure.create({
        type: CONTAINERS_NOT_RUNNING,
        nonRetryable: true,
        message: `not running after ${deadline}: no answer (${failureText(err)})`,
      });
    throw err;
  }
}

/** Runs started before POLL_IN_ACTIVITY_PATCH: `ps` on every host, a timer, again. */
async function pollRunningFromWorkflow(
  ref: ClusterRef,
  cluster: OperableCluster,
  version: string,
  variant: Map<string, ComposeVariant>,
  deadline: string,
): Promise<Containers> {
  const started = Date.now();
  const until = started + durationMs(deadline);
  for (;;) {
    const states = await psAll(ref, cluster, version, variant);
    const missing = missingServices(states);
    if (missing.length === 0) return flatten(states);
    if (Date.now() >= until) {
      throw ApplicationFailure.create({
        type: CONTAINERS_NOT_RUNNING,
        nonRetryable: true,
        message: `not running after ${deadline}: ${missing.join(', ')}`,
      });
    }
    await sleep(legacyPollInterval(Date.now() - started));
  }
}
