// The first activity of every run: the cluster its input names, resolved against the worker's
// inventory. Its result (the spec with references, never a secret's value; the runbook's approval
// policy; their hashes) is recorded in the run's history, so the run is deterministic and auditable.
import { createHash } from 'node:crypto';
import type { InventoryStore } from '../src/inventory/store';
import { INVALID_INPUT, INVENTORY_INCOMPLETE, nonRetryable } from '../src/model/errors';
import { canonicalJson, type Resolution, requirementProblems, runbookPolicy } from '../src/model/inventory';
import { isRunbook } from '../src/model/runbooks';

export function inventoryActivities(deps: { inventory: InventoryStore }) {
  return {
    async resolveCluster({ cluster, runbook }: { cluster: string; runbook: string }): Promise<Resolution> {
      if (!isRunbook(runbook)) throw nonRetryable(INVALID_INPUT, `unknown runbook ${runbook.slice(0, 40)}`);
      const found = deps.inventory.byName(cluster);
      if (!found.ok) throw nonRetryable(found.kind, found.message);
      const { entry, specHash, file } = found.entry;
      const missing = requirementProblems(runbook, entry);
      if (missing.length > 0)
        throw nonRetryable(
          INVENTORY_INCOMPLETE,
          `cluster ${cluster} in the inventory (${file}) cannot run ${runbook}: ${missing.map((m) => `clusters.${cluster}.${m}`).join('; ')}`,
        );
      const policy = runbookPolicy(entry, runbook);
      return {
        cluster: found.entry.cluster,
        specHash,
        policy,
        policyHash: policy ? createHash('sha256').update(canonicalJson(policy)).digest('hex') : null,
        source: file,
      };
    },
  };
}
