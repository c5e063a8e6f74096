// Which inventory the worker reads (docs/configuration.md#the-inventory): WABA_INVENTORY, else
// inventory.yaml in the data directory, else the lab's when the lab is up, else none (every run
// then fails naming it).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';

export interface InventorySource {
  /** A file or a directory; undefined: no inventory (empty). */
  path: string | undefined;
  /** Where the choice came from, for the worker's start-up line. */
  origin: 'WABA_INVENTORY' | 'data directory' | 'lab' | 'none';
}

export function inventorySource(env: NodeJS.ProcessEnv = process.env): InventorySource {
  if (env.WABA_INVENTORY) return { path: path.resolve(env.WABA_INVENTORY), origin: 'WABA_INVENTORY' };
  const dataDir = path.resolve(env.WABA_DATA_DIR ?? path.join(PROJECT_ROOT, '.data'));
  const inData = path.join(dataDir, 'inventory.yaml');
  if (existsSync(inData)) return { path: inData, origin: 'data directory' };
  const lab = path.join(path.resolve(env.WABA_LAB_DIR ?? path.join(PROJECT_ROOT, '.lab')), 'inventory.yaml');
  if (existsSync(lab)) return { path: lab, origin: 'lab' };
  return { path: undefined, origin: 'none' };
}
