// The worker's inventory at start-up: chosen (source.ts), loaded and validated (an invalid one stops
// the worker, every problem named), described in one line, its warnings printed.
import { type Env, processEnv } from '../config/env';
import { type InventorySource, inventorySource } from './source';
import { InventoryStore } from './store';
import { inventoryWarnings } from './warnings';

export interface OpenedInventory {
  store: InventoryStore;
  source: InventorySource;
  /** One line for the start-up log: where it was read and which clusters it holds. */
  describe: string;
  warnings: string[];
}

/** Throws InventoryError (every problem of every file) when the inventory is not valid. */
export function openInventory(env: Env = processEnv()): OpenedInventory {
  const source = inventorySource(env);
  const store = new InventoryStore(source.path);
  const inventory = store.current();
  const names = [...inventory.clusters.keys()];
  const describe = source.path
    ? `inventory ${source.path} (${source.origin}): ${names.length} cluster(s)${names.length ? `: ${names.join(', ')}` : ''}`
    : 'inventory: none (no WABA_INVENTORY, no inventory.yaml in the data directory, no lab): every run will fail with UnknownCluster; see docs/configuration.md#the-inventory';
  return { store, source, describe, warnings: inventoryWarnings(inventory, env) };
}
