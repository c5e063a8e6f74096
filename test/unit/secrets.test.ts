import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretResolver } from '../../src/secrets';

describe('secret references', () => {
  it('resolves env: and file: references on the worker', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sec-')), 'pw');
    writeFileSync(file, 'from-file\n');
    const resolve = createSecretResolver({ DB_PW: 'from-env' });
    expect(await resolve('env:DB_PW')).toBe('from-env');
    expect(await resolve(`file:${file}`)).toBe('from-file');
  });

  it('says what is missing without any value', async () => {
    const resolve = createSecretResolver({});
    await expect(resolve('env:DB_PW')).rejects.toThrow('environment variable DB_PW is not set on the worker');
    await expect(resolve('file:/nonexistent/pw')).rejects.toThrow(
      'cannot read the file on the worker (ENOENT)',
    );
    const err = await resolve('plain-password').catch((e: Error) => e);
    expect(String(err)).toContain('must be env:NAME or a normalised file:/path');
    expect(String(err)).not.toContain('plain-password');
  });

  it('refuses, without reading anything, a file: reference that is relative or climbs with ..', async () => {
    const resolve = createSecretResolver({});
    for (const ref of [
      'file:etc/passwd',
      'file:../../etc/passwd',
      'file:/srv/../etc/passwd',
      'file:/a//b',
      'file:/a/./b',
    ]) {
      const err = await resolve(ref).catch((e: Error) => e);
      expect(String(err), ref).toContain('must be env:NAME or a normalised file:/path');
    }
  });
});
