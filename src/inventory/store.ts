// The inventory as the worker's activities see it: loaded once at start (invalid: the worker does
// not start), re-read when its files change (invalid then: the last good one stays, the problems
// are logged), and the one place a cluster name becomes a spec.
import { INVENTORY_CHANGED, UNKNOWN_CLUSTER } from '../model/errors';
import type { ClusterRef } from '../model/inventory';
import {
  EMPTY_SOURCE,
  emptyInventory,
  type Inventory,
  type InventoryEntry,
  InventoryError,
  inventoryFingerprint,
  loadInventory,
} from './load';

export type InventoryLookup =
  | { ok: true; entry: InventoryEntry }
  | { ok: false; kind: typeof UNKNOWN_CLUSTER | typeof INVENTORY_CHANGED; message: string };

export interface InventoryStoreOptions {
  /** Look at the files' size and time at most this often (default 1 s). */
  checkEveryMs?: number;
  /** Where a bad re-read is reported. */
  warn?: (message: string) => void;
  now?: () => number;
}

export class InventoryStore {
  private inventory: Inventory;
  private fingerprint: string;
  private checkedAt: number;
  private reportedBad = '';
  private readonly checkEveryMs: number;
  private readonly warn: (message: string) => void;
  private readonly now: () => number;

  /** `source` undefined: an empty inventory. Throws InventoryError when the source is not valid. */
  constructor(
    readonly source: string | undefined,
    opts: InventoryStoreOptions = {},
  ) {
    this.checkEveryMs = opts.checkEveryMs ?? 1000;
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.now = opts.now ?? Date.now;
    this.fingerprint = source ? inventoryFingerprint(source) : '';
    this.inventory = source ? loadInventory(source) : emptyInventory();
    this.checkedAt = this.now();
  }

  /** An inventory held in memory (tests, tools): never re-read. */
  static of(inventory: Inventory): InventoryStore {
    const store = new InventoryStore(undefined);
    store.inventory = inventory;
    return store;
  }

  /** The inventory now: re-read first when its files changed since the last look. */
  current(): Inventory {
    if (!this.source || this.now() - this.checkedAt < this.checkEveryMs) return this.inventory;
    this.checkedAt = this.now();
    const fingerprint = inventoryFingerprint(this.source);
    if (fingerprint === this.fingerprint) return this.inventory;
    try {
      this.inventory = loadInventory(this.source);
      this.fingerprint = fingerprint;
      this.reportedBad = '';
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err;
      // Keep serving the last good inventory; say so once per bad version of the files.
      if (this.reportedBad !== fingerprint)
        this.warn(`${err.message}\n  (the worker keeps using the inventory it read before)`);
      this.reportedBad = fingerprint;
    }
    return this.inventory;
  }

  /** A cluster by name; the message names the clusters there are. */
  byName(name: string): InventoryLookup {
    const inventory = this.current();
    const entry = inventory.clusters.get(name);
    if (entry) return { ok: true, entry };
    const known = [...inventory.clusters.keys()];
    return {
      ok: false,
      kind: UNKNOWN_CLUSTER,
      message:
        inventory.source === EMPTY_SOURCE
          ? `cluster "${name}" is not in the worker's inventory: the worker has none (set WABA_INVENTORY; docs/configuration.md#the-inventory)`
          : `cluster "${name}" is not in the worker's inventory ${inventory.source}${known.length ? ` (it has: ${known.slice(0, 20).join(', ')})` : ' (it has no cluster)'}`,
    };
  }

  /**
   * The cluster a run resolved at its start, as the inventory has it now: the same hash, or a
   * refusal. An activity never acts on a spec other than the one the run recorded and showed.
   */
  byRef(ref: ClusterRef): InventoryLookup {
    const found = this.byName(ref.name);
    if (!found.ok || found.entry.specHash === ref.specHash) return found;
    return {
      ok: false,
      kind: INVENTORY_CHANGED,
      message:
        `cluster ${ref.name} changed in the worker's inventory since this run resolved it ` +
        `(spec ${ref.specHash.slice(0, 12)}… then, ${found.entry.specHash.slice(0, 12)}… now); ` +
        'nothing was done with the new spec: start the run again to use it',
    };
  }
}
