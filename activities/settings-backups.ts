// The settings backups stored on the worker (WABA_ARTIFACTS_DIR/<cluster>/): how they are named,
// the sidecar that records who took each and its sha256, and finding one by run id or checksum,
// verified against that record before anything is sent anywhere.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BACKUP_CHECKSUM_MISMATCH, BACKUP_NOT_FOUND, INVALID_INPUT, nonRetryable } from '../src/model/errors';
import { sha256 } from './files';

/** `settings-backup-<label>.json`: the product's encrypted blob with the cluster and version. */
const BACKUP_FILE = /^settings-backup-[A-Za-z0-9._-]{1,100}\.json$/;

/** What is kept beside a backup (`<file>.meta`, JSON) when it is taken. */
export interface BackupRecord {
  runId?: string;
  workflowId?: string;
  cluster: string;
  fromVersion: string;
  sha256: string;
  takenAt: string;
}

/** A stored backup found and verified: its path, checksum and the version it was taken on. */
export interface FoundBackup {
  path: string;
  sha256: string;
  version: string;
  runId?: string;
  bytes: number;
}

export const backupDir = (artifactsDir: string, cluster: string) => path.join(artifactsDir, cluster);
const recordPath = (file: string) => `${file}.meta`;

export async function writeBackupRecord(file: string, record: BackupRecord): Promise<void> {
  await writeFile(recordPath(file), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

async function readRecord(file: string): Promise<BackupRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(recordPath(file), 'utf8')) as Partial<BackupRecord>;
    return typeof r.sha256 === 'string' ? (r as BackupRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Only a backup file of this cluster's folder: never a path the caller made up. */
export function checkBackupPath(artifactsDir: string, cluster: string, file: string): string {
  const dir = path.resolve(backupDir(artifactsDir, cluster));
  const resolved = path.resolve(file);
  if (path.dirname(resolved) !== dir || !BACKUP_FILE.test(path.basename(resolved)))
    throw nonRetryable(
      INVALID_INPUT,
      `${file} is not a settings backup of cluster ${cluster} on this worker`,
    );
  return resolved;
}

/**
 * Read a backup and check its sha256 against `expected` (the record, or what the caller asked
 * for); refuse, naming the file, when it differs. Returns the text as read (what gets sent).
 */
export async function verifiedBackup(
  file: string,
  expected: string | undefined,
  cluster: string,
): Promise<{ text: string; data: string; version: string }> {
  const text = await readFile(file, 'utf8');
  const actual = sha256(text);
  if (expected === undefined)
    throw nonRetryable(
      BACKUP_CHECKSUM_MISMATCH,
      `${file} has no recorded sha256 (taken before checksums were kept beside backups): choose it by its sha256, the upgrade result's backup.sha256`,
    );
  if (actual !== expected)
    throw nonRetryable(
      BACKUP_CHECKSUM_MISMATCH,
      `${file} has sha256 ${actual}, not the ${expected} recorded when it was taken: it is not sent`,
    );
  const body = JSON.parse(text) as { cluster?: unknown; version?: unknown; data?: unknown };
  if (body.cluster !== cluster || typeof body.data !== 'string' || typeof body.version !== 'string')
    throw nonRetryable(BACKUP_NOT_FOUND, `${file} is not a settings backup of cluster ${cluster}`);
  return { text, data: body.data, version: body.version };
}

/** A full run id matches the record's; 8 characters match its start (or, with no record, the name's end). */
function runIdMatches(asked: string, recorded: string | undefined, name: string): boolean {
  if (recorded) return asked.length === 8 ? recorded.startsWith(asked) : recorded === asked;
  return name.endsWith(`-${asked.slice(0, 8)}.json`);
}

/**
 * The one backup of `cluster` taken by run `runId` (its sidecar says so; a backup without one by
 * the run id's first 8 characters at the end of its name) or whose sha256 is `sha`, verified.
 */
export async function findBackup(
  artifactsDir: string,
  cluster: string,
  by: { runId?: string; sha256?: string },
): Promise<FoundBackup> {
  const dir = backupDir(artifactsDir, cluster);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => BACKUP_FILE.test(n)).sort();
  const what = by.runId ? `taken by run ${by.runId}` : `with sha256 ${by.sha256}`;
  const matches: { file: string; record?: BackupRecord }[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const record = await readRecord(file);
    const hit = by.runId
      ? runIdMatches(by.runId, record?.runId, name)
      : record?.sha256 === by.sha256 || sha256(await readFile(file, 'utf8')) === by.sha256;
    if (hit) matches.push({ file, ...(record ? { record } : {}) });
  }
  const [match, ...others] = matches;
  if (!match)
    throw nonRetryable(
      BACKUP_NOT_FOUND,
      `no settings backup of cluster ${cluster} ${what} among the ${names.length} in ${dir}`,
    );
  if (others.length > 0)
    throw nonRetryable(
      BACKUP_NOT_FOUND,
      `${matches.length} settings backups of cluster ${cluster} are ${what} (${matches.map((m) => path.basename(m.file)).join(', ')}): choose one by its sha256`,
    );
  const expected = by.sha256 ?? match.record?.sha256;
  const { text, version } = await verifiedBackup(match.file, expected, cluster);
  return {
    path: match.file,
    sha256: sha256(text),
    version,
    ...(match.record?.runId ? { runId: match.record.runId } : {}),
    bytes: Buffer.byteLength(text),
  };
}
