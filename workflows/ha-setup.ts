// Seed procedure A (9 steps): set up an HA cluster, register it, and check exactly one Coreapp connects.
import { ApplicationFailure, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ContainerState } from '../activities/compose';
import { durationMs } from '../src/spec/approvals';
import type { ComposeVariant } from '../src/spec/commands';
import type { HealthSummary } from '../src/spec/health';
import { HaSetupInput } from '../src/spec/runbook-inputs';
import { gatedRun } from './lib/gated-run';
import { pollInterval, waitForHealth } from './lib/health-gate';
import { type PlanStep, planQuery, SERVICE_OF_ROLE, upSteps } from './lib/plan';
import { refuseConcurrentRuns } from './lib/run-guard';
import { validateInput } from './lib/validate';
import { VerificationCode } from './lib/verification-code';

const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
// Host activities heartbeat while they run, so a dead worker's activity is retried within 30 s.
const hosts = proxyActivities<Activities>({ startToCloseTimeout: '10m', heartbeatTimeout: '30s', retry });
const api = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry });

export interface HaSetupResult {
  cluster: string;
  version: string;
  alreadyRegistered: boolean;
  uploads: { host: string; path: string; uploaded: boolean }[];
  containers: { host: string; service: string; state: string }[];
  registration: { status: 201 | 202 | 'skipped'; codeBy?: string; codeAt?: string };
  decisions: unknown[];
  health: HealthSummary;
}

export async function haSetup(raw: unknown): Promise<HaSetupResult> {
  const input = validateInput('haSetup', HaSetupInput, raw);
  const { cluster, registration, timeouts } = input;
  const version = cluster.version as string;
  const code = new VerificationCode({ onWait: (timeout) => notifier.waitingForCode(timeout) });
  const { progress, gates, notifier } = gatedRun('haSetup', cluster.name, input, () => ({
    awaitingCode: code.awaiting(),
  }));
  const apiReq = { cluster: cluster.name, api: cluster.api };

  const plan: PlanStep[] = [
    ...cluster.hosts.map((h) => ({
      stage: 'preflight',
      host: h.name,
      note: 'ssh, docker, compose, media mount mode 755',
    })),
    { stage: 'preflight', note: 'database password against the forbidden characters' },
    ...cluster.hosts.map((h) => ({
      stage: 'upload',
      host: h.name,
      note: `${cluster.workDir}/db.env and the compose file, when changed`,
    })),
    ...upSteps(cluster, version),
    { stage: 'wait running', note: 'ps until every container runs' },
    { stage: 'health unregistered', note: 'GET /v1/health: the primary master reports unregistered (A7)' },
    { stage: 'approval', note: 'gate "register"' },
    {
      stage: 'register',
      note: `POST /v1/account (+${registration.cc} ${registration.phoneNumber}, ${registration.method}); on 202 wait for the code, POST /v1/account/verify`,
    },
    { stage: 'health connected', note: 'GET /v1/health: exactly one Coreapp connected (A9)' },
  ];
  setHandler(planQuery, () => plan);

  try {
    await refuseConcurrentRuns('haSetup', cluster.name);
    progress.stage('preflight');
    // The password check runs first and alone: a bad password stops the run before any SSH connection.
    await hosts.checkDbSecret({ cluster });
    const preflight = await Promise.all(
      cluster.hosts.map((h) => hosts.preflightHost({ cluster, host: h.name })),
    );
    const variant = new Map<string, ComposeVariant>(preflight.map((p) => [p.host, p.compose.variant]));
    for (const p of preflight)
      progress.host(p.host, `docker ${p.docker}, compose ${p.compose.variant} ${p.compose.version}`);

    progress.stage('upload');
    const uploads = (
      await Promise.all(
        cluster.hosts.map(async (h) =>
          (await hosts.uploadSetupFiles({ cluster, host: h.name })).map((u) => ({ host: h.name, ...u })),
        ),
      )
    ).flat();

    // Seed A5: Webapps, then Masters, then Coreapps; hosts of one role in parallel.
    for (const role of ['webapp', 'master', 'coreapp'] as const) {
      const service = SERVICE_OF_ROLE[role];
      progress.stage(`start ${service}`);
      await Promise.all(
        cluster.hosts
          .filter((h) => h.roles.includes(role))
          .map(async (h) => {
            progress.host(h.name, `up -d ${service}`);
            await hosts.composeUp({
              cluster,
              host: h.name,
              service,
              version,
              variant: variant.get(h.name) ?? 'v1',
            });
            progress.host(h.name, `${service} started`);
          }),
      );
    }

    progress.stage('wait running');
    const containers = await waitRunning(cluster, version, variant, timeouts.containers);

    progress.stage('health unregistered');
    await api.wabaLogin({ ...apiReq, firstLogin: true });
    const before = await waitForHealth(
      apiReq,
      'unregistered or registered',
      (s) => s.verdict !== 'degraded' || s.connectedCoreapps > 0,
      timeouts.health,
    );
    const alreadyRegistered = before.verdict !== 'unregistered';

    let reg: HaSetupResult['registration'] = { status: 'skipped' };
    if (!alreadyRegistered) {
      await gates.require(
        'register',
        `register +${registration.cc} ${registration.phoneNumber} (${registration.method}) on cluster ${cluster.name}`,
      );
      progress.stage('register');
      const answer = await api.wabaRegister({
        ...apiReq,
        cc: registration.cc,
        phoneNumber: registration.phoneNumber,
        method: registration.method,
        certRef: registration.certRef,
        pinRef: registration.pinRef,
      });
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
      (s) =>
        alreadyRegistered
          ? s.verdict !== 'degraded' && s.verdict !== 'unregistered'
          : s.verdict === 'ha-connected',
      timeouts.health,
      (s) => {
        for (const n of s.nodes)
          progress.host(`${n.host}:${n.containerId ?? ''}`, n.gatewayStatus ?? `error ${n.errorCode}`);
      },
    );
    progress.stage(`done: ${health.verdict}`);
    const registered = alreadyRegistered
      ? 'already registered'
      : `registered +${registration.cc} ${registration.phoneNumber}${reg.codeBy ? ` (code from ${reg.codeBy})` : ''}`;
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        version,
        alreadyRegistered,
        uploads: uploads.map((u) => ({ host: u.host, path: u.path, uploaded: u.uploaded })),
        containers,
        registration: reg,
        decisions: gates.decisions(),
        health,
      },
      `v${version} on ${cluster.hosts.length} hosts, ${registered}; health ${health.verdict}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  }
}

/** Seed A6: every host's service container running, within the deadline. */
async function waitRunning(
  cluster: HaSetupInput['cluster'],
  version: string,
  variant: Map<string, ComposeVariant>,
  deadline: string,
): Promise<{ host: string; service: string; state: string }[]> {
  const started = Date.now();
  const until = started + durationMs(deadline);
  for (;;) {
    const states = await Promise.all(
      cluster.hosts.map(async (h) => ({
        host: h.name,
        expected: h.roles.map((r) => SERVICE_OF_ROLE[r]),
        containers: (await hosts.composePs({
          cluster,
          host: h.name,
          version,
          variant: variant.get(h.name) ?? 'v1',
        })) as ContainerState[],
      })),
    );
    const missing = states.flatMap((s) =>
      s.expected
        .filter((svc) => !s.containers.some((c) => c.service === svc && c.running))
        .map((svc) => `${s.host}/${svc}`),
    );
    if (missing.length === 0) {
      return states.flatMap((s) =>
        s.containers.map((c) => ({ host: s.host, service: c.service, state: c.state })),
      );
    }
    if (Date.now() >= until) {
      throw ApplicationFailure.create({
        type: 'ContainersNotRunning',
        nonRetryable: true,
        message: `not running after ${deadline}: ${missing.join(', ')}`,
      });
    }
    await sleep(pollInterval(Date.now() - started));
  }
}
