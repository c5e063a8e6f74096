// uploadSetupFiles over a fake SSH pool: what it writes, and that its result (which lands in the run's
// history) says nothing that would let a reader of history test guesses at the database password.
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../activities/files';
import { hostActivities } from '../../activities/host-activities';
import type { SshPool } from '../../activities/ssh';
import { fileModeCommand } from '../../src/model/host-commands';
import type { ClusterRef } from '../../src/model/inventory';
import { createSecretResolver } from '../../src/secrets';
import { testClusterEntry, testInventoryStore } from '../support/inventory';

const UPSTREAM = path.join(__dirname, '../../../shared/fixtures/upstream/installation');
const PASSWORD = 'Db-Pass-Word-7731';

function setup(remoteSha: (file: string) => string) {
  const entry = testClusterEntry();
  entry.compose = { file: path.join(UPSTREAM, 'prod-multiconnect-compose.yml') };
  const inventory = testInventoryStore({ lab: entry });
  const found = inventory.byName('lab');
  if (!found.ok) throw new Error(found.message);
  const ref: ClusterRef = { name: 'lab', specHash: found.entry.specHash };
  const written = new Map<string, string>();
  const ran: string[] = [];
  const ssh = {
    exec: async (_t: unknown, command: string) => {
      ran.push(command);
      const file = /\/root\/biz\/[\w.-]+/.exec(command)?.[0] ?? '';
      return {
        code: 0,
        stdout: command.includes('sha256sum') ? remoteSha(file) : '',
        stderr: '',
        truncated: false,
      };
    },
    upload: async (_t: unknown, content: Buffer, file: string) => {
      written.set(file, content.toString());
    },
  } as unknown as SshPool;
  const secrets = createSecretResolver({ DB_PASSWORD: PASSWORD });
  const acts = hostActivities({ inventory, secrets, ssh });
  const env = new MockActivityEnvironment();
  const upload = () =>
    env.run(acts.uploadSetupFiles, { cluster: ref, host: 'web1' }) as Promise<
      { path: string; uploaded: boolean }[]
    >;
  return { upload, written, ran };
}

describe('uploadSetupFiles', () => {
  it('writes db.env with the password, and returns no checksum of it (nor of any file)', async () => {
    const { upload, written } = setup(() => '');
    const out = await upload();
    const dbEnv = written.get('/root/biz/db.env') ?? '';
    expect(dbEnv).toContain(`WA_DB_PASSWORD=${PASSWORD}`);
    expect(out).toEqual([
      { path: '/root/biz/prod-multiconnect-compose.yml', uploaded: true },
      { path: '/root/biz/db.env', uploaded: true },
    ]);
    const recorded = JSON.stringify(out);
    for (const content of written.values()) expect(recorded).not.toContain(sha256(content));
    expect(recorded).not.toContain(PASSWORD);
  });

  it('sends nothing when the host has both files already, says so, and makes db.env 600 again', async () => {
    const first = setup(() => '');
    await first.upload();
    const { upload, written, ran } = setup((file) => sha256(first.written.get(file) ?? 'none'));
    expect(await upload()).toEqual([
      { path: '/root/biz/prod-multiconnect-compose.yml', uploaded: false },
      { path: '/root/biz/db.env', uploaded: false },
    ]);
    expect(written.size).toBe(0);
    // db.env in place keeps no mode it may have been given by hand: it is made 600 again.
    expect(ran.filter((c) => c.startsWith('chmod'))).toEqual([fileModeCommand('/root/biz/db.env', 0o600)]);
    expect(fileModeCommand('/root/biz/db.env', 0o600)).toBe('chmod 600 /root/biz/db.env');
  });
});
