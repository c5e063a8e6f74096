// What each host and role runs now, and the plan that follows from it (hosts already on the target
// are left alone). Read before the gate, and again after it: what was approved is what runs.
import { ApplicationFailure } from '@temporalio/workflow';
import type { OperableCluster } from '../../src/model/cluster';
import type { ComposeVariant } from '../../src/model/commands';
import { HOST_NEWER_THAN_TARGET, PLAN_UNSTABLE } from '../../src/model/errors';
import type { ClusterRef } from '../../src/model/inventory';
import { compareVersions, VERSION_PATTERN } from '../../src/model/version';
import type { PlanStep } from '../api';
import type { ApprovalGates } from '../lib/approval';
import { planHashOf } from '../lib/approval';
import { upSteps } from '../lib/plan';
import type { Progress } from '../lib/progress';
import { planChange, ROLES, readRunningVersions, type ServiceOnHost } from './versions';
import type { UpgradeWindow } from './window';

export interface Survey {
  services: ServiceOnHost[];
  /** The whole plan, the steps of services already on the target marked "left alone". */
  steps: PlanStep[];
  /** For the gate's summary and the failures: the services already on the target, or ''. */
  doneText: string;
}

/**
 * Runs started before it signed a plan that did not say what each host ran, nor what a failed batch
 * leads to: approvals stayed valid when a host was found on another version after the gate (TRUST.md
 * rule 8), and an input with rollback auto signed the same plan as one with rollback ask. The marker
 * says this run's plan binds them.
 */
export const PLAN_BINDS_HOSTS_PATCH = 'upgrade-plan-binds-hosts';

/** A version as read from a host: `v2.29.1`, `no container`, or what the image said. */
const shownVersion = (from: string): string =>
  from === 'none' ? 'no container' : VERSION_PATTERN.test(from) ? `v${from}` : from;

/** A gate re-opens at most this often because the hosts changed under it; then the run stops. */
const MAX_REOPENS = 3;

export async function surveyHosts(s: {
  progress: Progress;
  ref: ClusterRef;
  cluster: OperableCluster;
  variants: Map<string, ComposeVariant>;
  fromVersion: string;
  toVersion: string;
  /** The plan before the hosts were read (its resolve step included). */
  plan: () => PlanStep[];
  /** Runs since PLAN_BINDS_HOSTS_PATCH: each host's step shows what it runs and the command for its compose. */
  bindsHosts?: boolean;
}): Promise<Survey> {
  const { progress, toVersion } = s;
  progress.stage('read running versions');
  const services = await readRunningVersions(s.ref, s.cluster, s.variants, s.fromVersion, toVersion);
  for (const sv of services) progress.host(sv.host.name, `${sv.service} runs ${shownVersion(sv.from)}`);
  const newer = services.filter(
    (sv) => VERSION_PATTERN.test(sv.from) && compareVersions(sv.from, toVersion) > 0,
  );
  if (newer.length > 0)
    throw ApplicationFailure.create({
      type: HOST_NEWER_THAN_TARGET,
      nonRetryable: true,
      message: `refusing to downgrade: ${newer.map((sv) => `${sv.service} on ${sv.host.name} runs v${sv.from}`).join(', ')}, newer than v${toVersion}`,
    });
  const done = services.filter((sv) => sv.onTarget);
  const bound = s.bindsHosts ? upSteps(s.cluster, toVersion, ROLES, s.variants) : [];
  const steps = s.plan().map((step) => {
    const sv = services.find((x) => x.host.name === step.host && step.stage === `start ${x.service}`);
    if (!sv) return step;
    if (sv.onTarget) return { ...step, note: `already on v${toVersion}: left alone` };
    if (!s.bindsHosts) return step;
    // What approvers sign binds what the host runs now (and so what a rollback restores) and the
    // command its own compose runs: a host found on another version after the gate re-opens it.
    const same = bound.find((b) => b.host === step.host && b.stage === step.stage);
    return {
      ...step,
      ...(same?.command ? { command: same.command } : {}),
      note: `runs ${shownVersion(sv.from)} now, rollback target v${sv.rollbackTo}; ${step.note ?? ''}`,
    };
  });
  const doneText = done.length
    ? `; already on v${toVersion}, left alone: ${done.map((sv) => `${sv.host.name}/${sv.service}`).join(', ')}`
    : '';
  return { services, steps, doneText };
}

/**
 * Gate "upgrade" on the survey `first`; then, before the first disruptive step, the window again
 * and the hosts again. When what they run changed since the gate opened (someone upgraded a host by
 * hand meanwhile), the approvals were given for another plan: the gate opens again, saying what
 * changed, at most MAX_REOPENS times. Returns the survey that was approved.
 */
export async function approvedSurvey(a: {
  gates: ApprovalGates;
  window: UpgradeWindow;
  specHash: string;
  cluster: string;
  toVersion: string;
  first: Survey;
  survey: () => Promise<Survey>;
  gateText: (s: Survey) => string;
  showPlan: (steps: PlanStep[]) => void;
}): Promise<Survey> {
  let current = a.first;
  await a.gates.require('upgrade', a.gateText(current), current.steps);
  for (let reopened = 0; ; reopened++) {
    await a.window.waitForOpening();
    const fresh = await a.survey();
    if (planHashOf('upgrade', a.specHash, fresh.steps) === a.gates.planOf('upgrade')) return fresh;
    if (reopened >= MAX_REOPENS)
      throw ApplicationFailure.create({
        type: PLAN_UNSTABLE,
        nonRetryable: true,
        message: `the hosts of cluster ${a.cluster} kept changing while the gate waited (${MAX_REOPENS} times): nothing was upgraded`,
      });
    const because = planChange(current.services, fresh.services, a.toVersion);
    current = fresh;
    a.showPlan(fresh.steps);
    await a.gates.require('upgrade', a.gateText(fresh), fresh.steps, because);
  }
}
