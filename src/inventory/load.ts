// Reading the worker's inventory from disk: one YAML or JSON file, or a directory of them. Every
// problem is named (file, then the field's path); nothing partial is ever returned.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ClusterSpec } from '../model/cluster';
import { canonicalJson, clusterOf, type InventoryCluster, InventoryFile } from '../model/inventory';
import { clean, describeIssues } from '../model/validate';

export class InventoryError extends Error {
  override name = 'InventoryError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`inventory ${source} is not valid:\n  ${problems.join('\n  ')}`);
  }
}

export interface InventoryEntry {
  entry: InventoryCluster;
  cluster: ClusterSpec;
  /** sha256 of the cluster's canonical JSON (defaults applied, references only). */
  specHash: string;
  /** The file it came from. */
  file: string;
}

export interface Inventory {
  /** The file or directory it was read from; `(none)` for an empty inventory. */
  source: string;
  files: string[];
  clusters: ReadonlyMap<string, InventoryEntry>;
}

export const EMPTY_SOURCE = '(none)';
export const emptyInventory = (): Inventory => ({ source: EMPTY_SOURCE, files: [], clusters: new Map() });

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

const EXTENSIONS = /\.(ya?ml|json)$/i;
/** An inventory file bigger than this is a mistake (a log file, a binary), not a list of clusters. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The files an inventory source stands for: itself, or the YAML/JSON files of a directory (sorted). */
function inventoryFiles(source: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(source);
  } catch (err) {
    throw new InventoryError(source, [`cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  if (!stat.isDirectory()) return [source];
  return readdirSync(source)
    .filter((f) => EXTENSIONS.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(source, f));
}

function parseFile(file: string): unknown {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw new InventoryError(file, ['larger than 4 MiB']);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError(file, [`cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    // JSON is YAML; one parser for both. Duplicate keys and alias bombs are refused by the parser.
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new InventoryError(file, [
      `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${clean((err as Error).message, 200)}`,
    ]);
  }
}

/** Read and validate an inventory; throws InventoryError naming every problem of every file. */
export function loadInventory(source: string): Inventory {
  const files = inventoryFiles(source);
  if (files.length === 0)
    throw new InventoryError(source, ['the directory has no .yaml, .yml or .json file']);
  const docs: { file: string; doc: unknown }[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      docs.push({ file, doc: parseFile(file) });
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err;
      problems.push(...err.problems.map((p) => `${file}: ${p}`));
    }
  }
  try {
    const inventory = inventoryOfDocuments(source, docs);
    if (problems.length > 0) throw new InventoryError(source, problems);
    return inventory;
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    throw new InventoryError(source, [...problems, ...err.problems]);
  }
}

/** Validate parsed inventory documents (one per file) and merge them; every problem named by file. */
export function inventoryOfDocuments(source: string, docs: { file: string; doc: unknown }[]): Inventory {
  const problems: string[] = [];
  const clusters = new Map<string, InventoryEntry>();
  for (const { file, doc } of docs) {
    const parsed = InventoryFile.safeParse(doc);
    if (!parsed.success) {
      problems.push(...describeIssues(parsed.error).map((p) => `${file}: ${p}`));
      continue;
    }
    for (const [name, entry] of Object.entries(parsed.data.clusters)) {
      if (entry.name !== undefined && entry.name !== name) {
        problems.push(`${file}: clusters.${name}.name: "${entry.name}" differs from its key "${name}"`);
        continue;
      }
      const earlier = clusters.get(name);
      if (earlier) {
        problems.push(`${file}: clusters.${name}: cluster ${name} is also in ${earlier.file}`);
        continue;
      }
      const cluster = clusterOf(name, entry);
      clusters.set(name, { entry, cluster, specHash: sha256Hex(canonicalJson(cluster)), file });
    }
  }
  if (problems.length > 0) throw new InventoryError(source, problems);
  return { source, files: docs.map((d) => d.file), clusters };
}

/** Size, time and inode of every file: what changes when an inventory is edited. */
export function inventoryFingerprint(source: string): string {
  try {
    return inventoryFiles(source)
      .map((f) => {
        const s = statSync(f);
        return `${f}:${s.size}:${s.mtimeMs}:${s.ino}`;
      })
      .join('|');
  } catch {
    return 'unreadable';
  }
}
