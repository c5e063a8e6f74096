// The disruptive part of an upgrade: one role's hosts in batches of maxUnavailable, `up -d` on the
// new version, a health gate after each batch; a failed batch goes to the rollback policy.
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { HostSpec, Role } from '../../src/model/cluster';
import { HEALTH_GATE_FAILED } from '../../src/model/errors';
import type { UpgradeInput } from '../../src/model/inputs';
import type { ClusterRef } from '../../src/model/inventory';
import { failureText } from '../lib/failure-text';
import { waitForHealth } from '../lib/health-gate';
import { hostActs } from '../lib/hosts';
import { SERVICE_OF_ROLE } from '../lib/plan';
import { onFailedGate, type RollbackContext } from './rollback';
import type { ServiceOnHost } from './versions';
import type { UpgradeWindow } from './window';

/** One health gate (or failed `up -d`) of the run, as `status.healthGates` and the result show it. */
export interface GateOutcome {
  gate: string;
  outcome: string;
  at: string;
  detail?: string;
}

export interface BatchContext extends RollbackContext {
  input: UpgradeInput;
  apiReq: { cluster: ClusterRef };
  gateLog: GateOutcome[];
  window: UpgradeWindow;
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `role`'s services not on the target yet, batch by batch, each followed by its health gate. */
export async function upgradeRole(c: BatchContext, role: Role, services: ServiceOnHost[]): Promise<void> {
  const { input, progress } = c;
  const { toVersion } = input;
  const service = SERVICE_OF_ROLE[role];
  const ofRole = services.filter((s) => s.role === role);
  for (const s of ofRole.filter((x) => x.onTarget))
    progress.host(s.host.name, `${service} already on v${toVersion}: left alone`);
  const todo = ofRole.filter((s) => !s.onTarget);
  for (const batch of batches(todo, input.maxUnavailable)) {
    const names = batch.map((s) => s.host.name).join(', ');
    await parkIfClosed(c, `upgrade ${service} on ${names}`);
    progress.stage(`upgrade ${service} on ${names}`);
    const ups = await Promise.allSettled(
      batch.map(async (s) => {
        await hostActs.composeUp({
          cluster: c.ref,
          host: s.host.name,
          service,
          version: toVersion,
          variant: c.variants.get(s.host.name) ?? 'v1',
        });
        c.upgraded.push(s);
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
      for (const s of batch) if (!c.upgraded.includes(s)) c.upgraded.push(s);
      progress.host(upFailure.host.name, `up -d failed`);
      c.gateLog.push({
        gate: `up -d ${service} on ${names}`,
        outcome: 'failed',
        at: new Date().toISOString(),
        detail: why,
      });
      await onFailedGate(c, why);
    }
    await healthGate(c, `health after ${service} on ${names}`);
  }
}

/** With `onClose: park`, before a batch: parked while the window is closed, then healthy again. */
async function parkIfClosed(c: BatchContext, next: string): Promise<void> {
  const passed = c.gateLog.filter((g) => g.outcome === 'passed').at(-1)?.gate;
  const since = await c.window.parkIfClosed(next, passed);
  if (since === undefined) return;
  // The cluster had time to change while the run waited: healthy again before the next batch.
  c.progress.stage('health before resuming');
  await healthGate(c, 'health before resuming', `parked since ${since}`);
}

/** As many Coreapps connected as before, none degraded, within timeouts.health; else the rollback policy. */
async function healthGate(c: BatchContext, gate: string, passedDetail?: string): Promise<void> {
  try {
    await waitForHealth(
      c.apiReq,
      `${c.expected} Coreapp(s) connected`,
      { minConnectedCoreapps: c.expected, verdictNotIn: ['degraded'] },
      c.input.timeouts.health,
    );
    c.gateLog.push({
      gate,
      outcome: 'passed',
      at: new Date().toISOString(),
      ...(passedDetail ? { detail: passedDetail } : {}),
    });
  } catch (err) {
    if (!(err instanceof ApplicationFailure) || err.type !== HEALTH_GATE_FAILED) throw err;
    c.gateLog.push({ gate, outcome: 'failed', at: new Date().toISOString(), detail: err.message });
    await onFailedGate(c, `${gate} failed: ${err.message}`);
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
