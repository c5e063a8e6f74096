// The settings backups on the worker (activities/settings-backups.ts), on real files: found by run
// id (the sidecar, or the name of a backup taken before sidecars) or checksum, refused when absent,
// ambiguous, changed since taken, of another cluster or outside the cluster's folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../activities/files';
import {
  checkBackupPath,
  findBackup,
  verifiedBackup,
  writeBackupRecord,
} from '../../activities/settings-backups';

const root = mkdtempSync(path.join(tmpdir(), 'waba-backups-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RUN = '0b4c1f2e-1111-4222-8333-944455556666';
const dir = path.join(root, 'lab');
mkdirSync(dir);

async function backup(label: string, opts: { runId?: string; cluster?: string; record?: boolean } = {}) {
  const file = path.join(dir, `settings-backup-${label}.json`);
  const body = JSON.stringify({ cluster: opts.cluster ?? 'lab', version: '2.29.1', data: `blob ${label}` });
  writeFileSync(file, body);
  const sum = sha256(body);
  if (opts.record !== false)
    await writeBackupRecord(file, {
      ...(opts.runId ? { runId: opts.runId } : {}),
      cluster: 'lab',
      fromVersion: '2.29.1',
      sha256: sum,
      takenAt: '2026-12-01T00:00:00Z',
    });
  return { file, sum };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: { type?: string; message: string }) => ({ type: e.type, message: e.message }),
  );

const mine = await backup(`v2.29.1-to-v2.29.3-${RUN.slice(0, 8)}`, { runId: RUN });
const legacy = await backup('v2.23.4-to-v2.29.1-aaaaaaaa', { record: false });
const other = await backup('v2.29.1-to-v2.29.3-bbbbbbbb', { runId: 'bbbbbbbb-1111-4222-8333-944455556666' });

describe('settings backups on the worker', () => {
  it('by run id (full or its first 8 characters) and by sha256: the one backup, verified', async () => {
    for (const by of [{ runId: RUN }, { runId: RUN.slice(0, 8) }, { sha256: mine.sum }])
      expect(await findBackup(root, 'lab', by)).toEqual({
        path: mine.file,
        sha256: mine.sum,
        version: '2.29.1',
        runId: RUN,
        bytes: expect.any(Number),
      });
    expect((await findBackup(root, 'lab', { sha256: legacy.sum })).path).toBe(legacy.file);
  });

  it('none, or one without a recorded checksum asked by run id: refused', async () => {
    expect(await refusal(findBackup(root, 'lab', { runId: 'cccccccc' }))).toMatchObject({
      type: 'BackupNotFound',
    });
    expect(await refusal(findBackup(root, 'other', { runId: RUN }))).toMatchObject({
      type: 'BackupNotFound',
    });
    expect(await refusal(findBackup(root, 'lab', { runId: 'aaaaaaaa' }))).toMatchObject({
      type: 'BackupChecksumMismatch',
      message: expect.stringContaining('choose it by its sha256'),
    });
  });

  it('a backup changed since it was taken: refused naming the file, by run id and by its recorded sum', async () => {
    writeFileSync(other.file, JSON.stringify({ cluster: 'lab', version: '2.29.1', data: 'changed' }));
    for (const by of [{ runId: 'bbbbbbbb' }, { sha256: other.sum }]) {
      const r = await refusal(findBackup(root, 'lab', by));
      expect(r.type).toBe('BackupChecksumMismatch');
      expect(r.message).toContain(other.file);
    }
    expect(await refusal(verifiedBackup(other.file, other.sum, 'lab'))).toMatchObject({
      type: 'BackupChecksumMismatch',
    });
  });

  it('a backup of another cluster in this folder, and paths outside it: refused', async () => {
    const stray = await backup('stray', { cluster: 'prod' });
    expect(await refusal(verifiedBackup(stray.file, stray.sum, 'lab'))).toMatchObject({
      type: 'BackupNotFound',
    });
    for (const p of [
      path.join(root, 'prod', 'settings-backup-x.json'),
      path.join(dir, '..', 'lab', '..', 'settings-backup-x.json'),
      path.join(dir, 'settings-backup-x.json.meta'),
      '/etc/passwd',
    ])
      expect(() => checkBackupPath(root, 'lab', p)).toThrow(/not a settings backup of cluster lab/);
    expect(checkBackupPath(root, 'lab', mine.file)).toBe(mine.file);
  });
});
