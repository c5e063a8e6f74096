// Seed section F: take the cluster down, Coreapps, then Masters, then Webapps, from the compose file
// the cluster was started with; data only with removeVolumes and a second approval.
import { ApplicationFailure } from '@temporalio/workflow';
import type { HostSpec, OperableCluster, Role } from '../src/model/cluster';
import type { ComposeVariant } from '../src/model/commands';
import { CONTAINERS_LEFT } from '../src/model/errors';
import { RUNBOOK_INPUTS, type UninstallInput } from '../src/model/inputs';
import { type ClusterRef, inventoryOf, type Resolution } from '../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../src/model/results';
import type { PlanStep } from './api';
import { defineRunbook } from './lib/define-runbook';
import { detectCompose, hostActs, hostsWithRole } from './lib/hosts';
import { resolveStep } from './lib/plan';

export interface UninstallResult {
  cluster: string;
  inventory: InventoryStamp;
  nothingToDo: boolean;
  removed: { host: string; containers: string[] }[];
  volumesRemoved: boolean;
  decisions: unknown[];
}

const ORDER: Role[] = ['coreapp', 'master', 'webapp'];

export const uninstall = defineRunbook(
  { ...RUNBOOK_INPUTS.uninstall, gated: true },
  async (run, input): Promise<UninstallResult | PreviewResult> => {
    const { progress, gates } = run;
    // Step 1: the cluster, its hosts in the order they go down, and the plan.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const version = cluster.version;
    const stamp = inventoryOf(resolved.resolution);
    const ordered = ORDER.flatMap((r) => hostsWithRole(cluster, r)).filter(
      (h, i, all) => all.indexOf(h) === i,
    );
    let plan = uninstallPlan(input, cluster, ordered, resolved.resolution);
    run.showPlan(plan);
    await run.holdClusterLock(cluster.name);

    // Step 2: what runs on each host; the gate shows and the approvers sign what was found.
    progress.stage('find containers');
    // Not the media mount's mode: a cluster set up on a wrong mount must still come down.
    const variants = await detectCompose(ref, cluster, cluster.hosts, { media: false });
    const variantOf = (h: HostSpec) => variants.get(h.name) ?? 'v1';
    const inventory = await findContainers(ref, ordered, version, variants);
    const present = inventory.filter((i) => i.containers.length > 0);
    plan = plan.map((step) => {
      const found = inventory.find((i) => i.host === step.host);
      return step.stage === 'down' && found
        ? { ...step, note: `${step.note}; found: ${found.containers.join(', ') || 'none'}` }
        : step;
    });
    run.showPlan(plan);
    if (input.preview) return run.preview('uninstall', plan, resolved);
    if (present.length === 0 && !input.removeVolumes) {
      progress.stage('done: nothing to do, no container of the project on any host');
      return await run.succeeded(
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

    // Step 3: approval, then `down` role by role.
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
          variant: variantOf(h),
          removeVolumes: false,
        });
        progress.host(h.name, out.ran ? 'down' : 'no compose file: nothing to do');
      }
    }

    // Step 4: the data, only with removeVolumes and a second approval.
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
          variant: variantOf(h),
          removeVolumes: true,
        });
      volumesRemoved = true;
    }

    // Step 5: nothing of the project left.
    progress.stage('verify');
    const left = await Promise.all(
      ordered.map((h) => hostActs.composePs({ cluster: ref, host: h.name, version, variant: variantOf(h) })),
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
    return await run.succeeded(
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
  },
);

/** The `down` of every host in order, and the data's removal when asked for. */
function uninstallPlan(
  input: UninstallInput,
  cluster: OperableCluster,
  ordered: HostSpec[],
  resolution: Resolution,
): PlanStep[] {
  return [
    resolveStep(cluster.name, resolution),
    ...ordered.map((h) => ({
      stage: 'down',
      host: h.name,
      note: 'docker-compose down (EXTERNAL_HOSTNAME and WA_API_VERSION set)',
    })),
    ...(input.removeVolumes
      ? [{ stage: 'remove data', note: 'down -v on every host, after gate "remove-data"' }]
      : []),
  ];
}

/** The names of the project's containers on each host, in parallel. */
function findContainers(
  ref: ClusterRef,
  hosts: HostSpec[],
  version: string,
  variants: Map<string, ComposeVariant>,
): Promise<{ host: string; containers: string[] }[]> {
  return Promise.all(
    hosts.map(async (h) => ({
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
}
