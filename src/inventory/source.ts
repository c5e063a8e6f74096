// Which inventory the worker reads (docs/configuration.md#the-inventory): WABA_INVENTORY, else
// inventory.yaml in the data directory, else the lab's when the lab is up, else none (every run
// then fails naming it).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Env } from '../config/env';
import { dataDir, inventorySetting, labDir } from '../config/paths';

export interface InventorySource {
  /** A file or a directory; undefined: no inventory (empty). */
  path: string | undefined;
  /** Where the choice came from, for the worker's start-up line. */
  origin: 'WABA_INVENTORY' | 'data directory' | 'lab' | 'none';
}

export function inventorySource(env?: Env): InventorySource {
  const named = inventorySetting(env);
  if (named) return { path: named, origin: 'WABA_INVENTORY' };
  const inData = path.join(dataDir(env), 'inventory.yaml');
  if (existsSync(inData)) return { path: inData, origin: 'data directory' };
  const lab = path.join(labDir(env), 'inventory.yaml');
  if (existsSync(lab)) return { path: lab, origin: 'lab' };
  return { path: undefined, origin: 'none' };
}
