// Seed section F: take the cluster down, Coreapps, then Masters, then Webapps, from the compose file
// the cluster was started with; data only with removeVolumes and a second approval.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { OperableCluster, Role } from '../src/model/cluster';
import { CONTAINERS_LEFT } from '../src/model/errors';
import { RUNBOOK_INPUTS, UninstallInput } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import { type PlanStep, planQuery } from './api';
import { holdClusterLock, releaseClusterLock } from './lib/cluster-lock';
import { gatedRun } from './lib/gated-run';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep } from './lib/plan';
import { validateInput } from './lib/validate';

export interface UninstallResult {
  cluster: string;
  inventory: InventoryStamp;
  nothingToDo: boolean;
  removed: { host: string; containers: string[] }[];
  volumesRemoved: boolean;
  decisions: unknown[];
}

const ORDER: Role[] = ['coreapp', 'master', 'webapp'];

export async function uninstall(raw: unknown): Promise<UninstallResult | PreviewResult> {
  const input = validateInput('uninstall', UninstallInput, raw);
  const { progress, gates, notifier, resolve, preview } = gatedRun('uninstall', input, raw);
  let plan: PlanStep[] = [resolveStep(input.cluster)];
  setHandler(planQuery, () => plan);
  try {
    const resolved = await resolve(RUNBOOK_INPUTS.uninstall.issues);
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const version = cluster.version;
    const stamp = inventoryOf(resolved.resolution);
    const ordered = ORDER.flatMap((r) => hostsWithRole(cluster, r)).filter(
      (h, i, all) => all.indexOf(h) === i,
    );
    plan = [
      resolveStep(cluster.name, resolved.resolution),
      ...ordered.map((h) => ({
        stage: 'down',
        host: h.name,
        note: 'docker-compose down (EXTERNAL_HOSTNAME and WA_API_VERSION set)',
      })),
      ...(input.removeVolumes
        ? [{ stage: 'remove data', note: 'down -v on every host, after gate "remove-data"' }]
        : []),
    ];
    await holdClusterLock(progress, 'uninstall', cluster.name, input);
    progress.stage('find containers');
    const variants = await detectCompose(ref, cluster);
    const inventory = await Promise.all(
      ordered.map(async (h) => ({
        host: h.name,
        containers: (
          await hostActs.composePs({
            cluster: ref,
            host: h.name,
            version,
            variant: variants.get(h.name) ?? 'v1',
          })
        ).map((c) => c.name),
      })),
    );
    const present = inventory.filter((i) => i.containers.length > 0);
    // What the gate shows and the approvers sign: the containers found on each host.
    plan = plan.map((step) => {
      const found = inventory.find((i) => i.host === step.host);
      return step.stage === 'down' && found
        ? { ...step, note: `${step.note}; found: ${found.containers.join(', ') || 'none'}` }
        : step;
    });
    if (input.preview) return preview('uninstall', plan, resolved);
    if (present.length === 0 && !input.removeVolumes) {
      progress.stage('done: nothing to do, no container of the project on any host');
      return await notifier.succeeded(
        {
          cluster: cluster.name,
          inventory: stamp,
          nothingToDo: true,
          removed: [],
          volumesRemoved: false,
          decisions: [],
        },
        'nothing to do: no container of the project on any host',
      );
    }
    await gates.require(
      'uninstall',
      `remove from cluster ${cluster.name}: ${present.map((i) => `${i.host}: ${i.containers.join(', ')}`).join('; ') || 'no containers'}`,
      plan,
    );
    for (const role of ORDER) {
      progress.stage(`down ${role} hosts`);
      for (const h of hostsWithRole(cluster, role)) {
        const out = await hostActs.composeDown({
          cluster: ref,
          host: h.name,
          version,
          variant: variants.get(h.name) ?? 'v1',
          removeVolumes: false,
        });
        progress.host(h.name, out.ran ? 'down' : 'no compose file: nothing to do');
      }
    }
    let volumesRemoved = false;
    if (input.removeVolumes) {
      await gates.require(
        'remove-data',
        `DELETE the named volumes (media) of cluster ${cluster.name} on ${ordered.map((h) => h.name).join(', ')}`,
        plan,
      );
      progress.stage('remove data');
      for (const h of ordered)
        await hostActs.composeDown({
          cluster: ref,
          host: h.name,
          version,
          variant: variants.get(h.name) ?? 'v1',
          removeVolumes: true,
        });
      volumesRemoved = true;
    }
    progress.stage('verify');
    const left = await Promise.all(
      ordered.map((h) =>
        hostActs.composePs({ cluster: ref, host: h.name, version, variant: variants.get(h.name) ?? 'v1' }),
      ),
    );
    const remaining = left.flat().map((c) => c.name);
    if (remaining.length > 0) {
      throw ApplicationFailure.create({
        type: CONTAINERS_LEFT,
        nonRetryable: true,
        message: `containers left after down: ${remaining.join(', ')}`,
      });
    }
    progress.stage('done');
    return await notifier.succeeded(
      {
        cluster: cluster.name,
        inventory: stamp,
        nothingToDo: false,
        removed: present,
        volumesRemoved,
        decisions: gates.decisions(),
      },
      `containers removed from ${present.map((p) => p.host).join(', ') || 'no host'}; data ${volumesRemoved ? 'removed' : 'kept'}`,
    );
  } catch (err) {
    progress.failed(err);
    await notifier.failed(err);
    throw err;
  } finally {
    await releaseClusterLock();
  }
}
