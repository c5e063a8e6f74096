// `waba-runbooks inventory check [file]`: validate an inventory without a worker and say, per
// cluster, what it holds and which runbooks it can run (and why not the others).
import { type Env, processEnv } from '../config/env';
import { requirementProblems } from '../model/inventory';
import { RUNBOOK_NAMES } from '../model/runbooks';
import { lintCluster, toleranceText } from '../model/topology';
import { type Inventory, loadInventory } from './load';
import { inventorySource } from './source';
import { inventoryWarnings } from './warnings';

export interface InventoryReport {
  source: string;
  clusters: {
    name: string;
    file: string;
    version?: string;
    hosts: string[];
    spareHosts: string[];
    /** The host failures each role survives (the topology lint), e.g. `host failures tolerated: Masters 1 (...)`. */
    tolerance: string;
    specHash: string;
    runbooks: string[];
    notRunnable: Record<string, string[]>;
  }[];
  warnings: string[];
}

function reportOf(inventory: Inventory, env: Env): InventoryReport {
  return {
    source: inventory.source,
    clusters: [...inventory.clusters].map(([name, e]) => {
      const notRunnable: Record<string, string[]> = {};
      for (const r of RUNBOOK_NAMES) {
        const problems = requirementProblems(r, e.entry);
        if (problems.length) notRunnable[r] = problems;
      }
      return {
        name,
        file: e.file,
        ...(e.cluster.version ? { version: e.cluster.version } : {}),
        hosts: e.cluster.hosts.map((h) => `${h.name} (${h.roles.join(', ')})`),
        spareHosts: e.cluster.spareHosts.map((h) => `${h.name} (${h.roles.join(', ')})`),
        tolerance: toleranceText(lintCluster(e.cluster)),
        specHash: e.specHash,
        runbooks: RUNBOOK_NAMES.filter((r) => !notRunnable[r]),
        notRunnable,
      };
    }),
    warnings: inventoryWarnings(inventory, env),
  };
}

/** The file given, else the one the worker would read; throws InventoryError when invalid. */
export function checkInventory(file: string | undefined, env: Env = processEnv()): InventoryReport {
  const source = file ?? inventorySource(env).path;
  if (!source)
    throw new Error(
      'no inventory to check: give a file, or set WABA_INVENTORY (or put inventory.yaml in the data directory)',
    );
  return reportOf(loadInventory(source), env);
}

/** The report as an operator reads it. */
export function reportText(r: InventoryReport): string {
  const lines = [`inventory ${r.source}: valid, ${r.clusters.length} cluster(s)`];
  for (const c of r.clusters) {
    lines.push(
      '',
      `cluster ${c.name}${c.version ? ` v${c.version}` : ''} (${c.file})`,
      `  hosts: ${c.hosts.join(', ')}`,
      ...(c.spareHosts.length ? [`  spare: ${c.spareHosts.join(', ')}`] : []),
      `  ${c.tolerance}`,
      `  spec sha256: ${c.specHash}`,
      `  runbooks: ${c.runbooks.join(', ') || 'none'}`,
      ...Object.entries(c.notRunnable).map(([r, p]) => `  not ${r}: ${p.join('; ')}`),
    );
  }
  if (r.warnings.length) lines.push('', 'warnings:', ...r.warnings.map((w) => `  ${w}`));
  return lines.join('\n');
}
