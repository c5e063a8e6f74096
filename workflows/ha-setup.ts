// Seed procedure A (9 steps): set up an HA cluster, register it, and check exactly one Coreapp connects.
// Every stage checks before it acts, so a re-run on a set-up cluster does nothing twice and says
// what it found (files unchanged, services already running, number already registered).
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperableCluster } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import type { ContainerLines } from '../src/model/containers-wait';
import type { HealthSummary } from '../src/model/health';
import { type HaSetupInput, RUNBOOK_INPUTS } from '../src/model/inputs';
import { type ClusterRef, inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import type { PlanStep } from './api';
import {
  current,
  flatten,
  type HostContainers,
  psAll,
  refuseNewerThan,
  waitRunning,
} from './ha-setup/containers';
import { haSetupPlan } from './ha-setup/plan';
import { API_STEP } from './lib/activity-options';
import { defineRunbook, type GatedRunbookRun } from './lib/define-runbook';
import { waitForHealth } from './lib/health-gate';
import { hostActs, preflightHosts } from './lib/hosts';
import { SERVICE_OF_ROLE } from './lib/plan';
import { prerequisitesPatched, requirePrerequisites } from './lib/prerequisites';
import { VerificationCode } from './lib/verification-code';

const api = proxyActivities<Activities>(API_STEP);

export interface HaSetupResult {
  cluster: string;
  inventory: InventoryStamp;
  version: string;
  alreadyRegistered: boolean;
  uploads: { host: string; path: string; uploaded: boolean }[];
  containers: ContainerLines;
  /** What was already done and left alone, e.g. "waweb already running on web1 (v2.23.4)". */
  found: string[];
  registration: { status: 201 | 202 | 'skipped'; codeBy?: string; codeAt?: string };
  decisions: unknown[];
  health: HealthSummary;
}

export const haSetup = defineRunbook(
  { ...RUNBOOK_INPUTS.haSetup, gated: true },
  async (run, input): Promise<HaSetupResult | PreviewResult> => {
    const { progress, gates } = run;
    const { timeouts } = input;
    const found: string[] = [];
    const code = new VerificationCode({ onWait: (timeout) => run.notifier.waitingForCode(timeout) });
    run.showInStatus(() => ({
      awaitingCode: code.awaiting(),
      codePlan: code.codePlan(),
      found: [...found],
    }));
    const noted = (what: string, host?: string) => {
      found.push(what);
      if (host) progress.host(host, what);
    };

    // Step 1 (A1): the cluster; the plan shows every command, for docker-compose until preflight
    // has detected each host's compose, then rebuilt with it.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref, resolution } = resolved;
    const version = cluster.version;
    const apiReq = { cluster: ref };
    run.showPlan(haSetupPlan(input, cluster, resolution));
    await run.holdClusterLock(cluster.name);

    // Step 2: the password check runs first and alone: a bad password stops the run before any SSH connection.
    progress.stage('database password');
    await hostActs.checkDbSecret({ cluster: ref });

    // Step 3 (A2-A3): host keys and preflight of every host.
    const preflight = await preflightHosts(ref, cluster, cluster.hosts, (s) => progress.stage(s));
    // The seed's prerequisites (database host, reach, version; media modes): before anything is sent.
    if (prerequisitesPatched()) await requirePrerequisites(ref, cluster, cluster.hosts, progress);
    const variant = new Map<string, ComposeVariant>(preflight.map((p) => [p.host, p.compose.variant]));
    const plan = haSetupPlan(input, cluster, resolution, variant);
    run.showPlan(plan);
    // The register gate comes after the containers start; a dry run stops before anything is uploaded.
    if (input.preview) return run.preview('register', plan, resolved);
    for (const p of preflight)
      progress.host(
        p.host,
        `docker ${p.docker}, compose ${p.compose.variant} ${p.compose.version ?? ''}`.trim(),
      );

    // Step 4 (A4): the setup files, each sent only when it differs.
    progress.stage('upload');
    const uploads = (
      await Promise.all(
        cluster.hosts.map(async (h) =>
          (
            await hostActs.uploadSetupFiles({ cluster: ref, host: h.name })
          ).map((u) => ({
            host: h.name,
            ...u,
          })),
        ),
      )
    ).flat();
    for (const h of cluster.hosts) {
      if (uploads.every((u) => u.host !== h.name || !u.uploaded))
        noted(`setup files already in place on ${h.name}`);
    }

    // Step 5 (A5-A6): what already runs, the services that do not, and the wait until all run.
    progress.stage('check containers');
    const before = await psAll(ref, cluster, version, variant);
    refuseNewerThan(before, version);
    const started = await startServices(ref, cluster, variant, before, progress, noted);
    progress.stage('wait running');
    // Nothing started: the first `ps` showed every service running this version; no need to ask again.
    const containers =
      started === 0
        ? flatten(before)
        : await waitRunning(ref, cluster, version, variant, timeouts.containers);

    // Step 6 (A7): first login, and the cluster unregistered (or registered already: no gate).
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

    // Step 7 (A8): approval, registration, the verification code when one is sent.
    const registration = cluster.registration;
    const number = `+${registration?.cc} ${registration?.phoneNumber}`;
    const reg: HaSetupResult['registration'] = alreadyRegistered
      ? { status: 'skipped' }
      : await register(run, input, code, apiReq, number, plan, cluster.name);

    // Step 8 (A9): exactly one Coreapp connected.
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
    return await run.succeeded(
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
  },
);

/**
 * Seed A5: Webapps, then Masters, then Coreapps; hosts of one role in parallel; a service that
 * runs this version already is not started again. Returns how many services were started.
 */
async function startServices(
  ref: ClusterRef,
  cluster: OperableCluster,
  variant: Map<string, ComposeVariant>,
  before: HostContainers[],
  progress: GatedRunbookRun['progress'],
  noted: (what: string, host?: string) => void,
): Promise<number> {
  const version = cluster.version;
  const runsAlready = (host: string, service: string) =>
    before.some((s) => s.host === host && s.containers.some((c) => current(c, service, version)));
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
          await hostActs.composeUp({
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
  return started;
}

/** Seed A8: gate "register", POST /v1/account, and on 202 the code an operator sends, verified. */
async function register(
  run: GatedRunbookRun,
  input: HaSetupInput,
  code: VerificationCode,
  apiReq: { cluster: ClusterRef },
  number: string,
  plan: PlanStep[],
  cluster: string,
): Promise<HaSetupResult['registration']> {
  const { progress, gates } = run;
  await gates.require('register', `register ${number} (${input.method}) on cluster ${cluster}`, plan);
  code.requireSignatures(gates.policy(), gates.planOf('register') as string);
  progress.stage('register');
  const answer = await api.wabaRegister({ ...apiReq, method: input.method });
  if (answer.status !== 202) return { status: answer.status };
  progress.stage('waiting for verification code');
  const received = await code.wait(input.timeouts.code);
  progress.stage('verify');
  await api.wabaVerify({ ...apiReq, code: received.code });
  return { status: 202, codeBy: received.by, codeAt: received.at };
}
