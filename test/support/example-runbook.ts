// The example of docs/adding-a-runbook.md: a whole runbook in one file, written with defineRunbook.
// Test-only (bundled by test/workflows/example-runbook.test.ts; the real worker does not register it).
// A real runbook keeps its input schema in src/model/inputs/ and its name in src/model/runbooks.ts.
import { z } from 'zod';
import type { OperableCluster } from '../../src/model/cluster';
import {
  ApprovalTimeout,
  ClusterLockFields,
  ClusterName,
  type InputIssue,
  memberHost,
  Preview,
  RequestedBy,
  type Resolved,
  StartRequest,
} from '../../src/model/inputs/common';
import { inventoryOf } from '../../src/model/inventory';
import type { InventoryStamp, PreviewResult } from '../../src/model/results';
import { defineRunbook } from '../../workflows/lib/define-runbook';
import { hostActs } from '../../workflows/lib/hosts';
import { resolveStep } from '../../workflows/lib/plan';

/** exampleRestart: re-create one service on one host, after an approval. */
export const ExampleRestartInput = z.strictObject({
  cluster: ClusterName,
  ...ClusterLockFields,
  host: z.string().min(1).max(64),
  service: z.enum(['waweb', 'master', 'wacore']),
  requestedBy: RequestedBy,
  request: StartRequest,
  preview: Preview,
  approvalTimeout: ApprovalTimeout,
});
export type ExampleRestartInput = z.infer<typeof ExampleRestartInput>;

/** The input against its cluster: the host must be one of its members. */
export const exampleRestartIssues = (input: ExampleRestartInput, r: Resolved): InputIssue[] => {
  const found = memberHost(r, input.host);
  return 'why' in found ? [{ path: ['host'], message: found.why }] : [];
};

export interface ExampleRestartResult {
  cluster: string;
  inventory: InventoryStamp;
  host: string;
  service: string;
  decisions: unknown[];
}

export const exampleRestart = defineRunbook(
  { schema: ExampleRestartInput, issues: exampleRestartIssues, gated: true },
  async (run, input): Promise<ExampleRestartResult | PreviewResult> => {
    const { host, service } = input;

    // Step 1: the cluster from the worker's inventory, the input checked against it.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const plan = [
      resolveStep(cluster.name, resolved.resolution),
      { stage: 'approval', note: 'gate "restart"' },
      { stage: `restart ${service}`, host, note: `up -d ${service} on v${cluster.version}` },
    ];
    run.showPlan(plan);
    await run.holdClusterLock(cluster.name);

    // Step 2: approval (a dry run ends before it, with the plan the gate would show).
    if (input.preview) return run.preview('restart', plan, resolved);
    await run.gates.require('restart', `restart ${service} on ${host} of cluster ${cluster.name}`, plan);

    // Step 3: the change itself.
    run.progress.stage(`restart ${service}`);
    await hostActs.composeUp({
      cluster: resolved.ref,
      host,
      service,
      version: cluster.version,
      variant: 'v1',
    });
    run.progress.host(host, `${service} re-created`);

    run.progress.stage('done');
    return await run.succeeded(
      {
        cluster: cluster.name,
        inventory: inventoryOf(resolved.resolution),
        host,
        service,
        decisions: run.gates.decisions(),
      },
      `${service} re-created on ${host}`,
    );
  },
);
