// The rules every setting shares (src/config/env.ts): one port rule, "NAME or NAME_FILE" secrets
// whose value never appears in an error, and an empty variable read as unset.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chatopsConfig } from '../../src/config/chatops';
import { port, secretOrFile, setting } from '../../src/config/env';
import { dataDir } from '../../src/config/paths';
import { devServerConfig } from '../../src/config/temporal';

describe('config helpers', () => {
  it('a port is 1-65535 (0 only where any free port is wanted); the error names the variable', () => {
    expect(port({}, 'P', 8787)).toBe(8787);
    expect(port({ P: '' }, 'P', 8787)).toBe(8787);
    expect(port({ P: '65535' }, 'P', 1)).toBe(65535);
    for (const bad of ['0', '65536', '-1', '80.5', '8o', ' 80', '1e3'])
      expect(() => port({ P: bad }, 'P', 1), bad).toThrow(`P=${bad}: expected a TCP port, 1-65535`);
    expect(port({ P: '0' }, 'P', 1, { allowAny: true })).toBe(0);
    expect(() => devServerConfig({ TEMPORAL_DEV_UI_PORT: '99999' })).toThrow(/^TEMPORAL_DEV_UI_PORT=99999:/);
    expect(chatopsConfig({ WABA_CHATOPS_PORT: '0' }).port).toBe(0);
  });

  it('a secret inline or in a file, not both; an error shows the variable and the path, never the value', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-env-'));
    const file = path.join(dir, 'secret');
    writeFileSync(file, 's3cret-from-file\n');
    expect(secretOrFile({}, 'S', 'S_FILE')).toBeUndefined();
    expect(secretOrFile({ S: 's3cret' }, 'S', 'S_FILE')).toEqual({ text: 's3cret', source: 'S' });
    expect(secretOrFile({ S_FILE: file }, 'S', 'S_FILE')).toEqual({
      text: 's3cret-from-file\n',
      source: `S_FILE=${file}`,
      file,
    });
    const errors = [
      () => secretOrFile({ S: 's3cret', S_FILE: file }, 'S', 'S_FILE'),
      () => secretOrFile({ S_FILE: path.join(dir, 'missing') }, 'S', 'S_FILE'),
    ].map((f) => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    });
    expect(errors).toEqual([
      'set S or S_FILE, not both',
      `S_FILE=${path.join(dir, 'missing')}: cannot read the file (ENOENT)`,
    ]);
    class Refused extends Error {}
    expect(() => secretOrFile({ S: 'a', S_FILE: file }, 'S', 'S_FILE', (m) => new Refused(m))).toThrow(
      Refused,
    );
  });

  it('an empty variable is unset', () => {
    expect(setting({ X: '' }, 'X')).toBeUndefined();
    expect(dataDir({ WABA_DATA_DIR: '' })).toBe(dataDir({}));
    expect(dataDir({ WABA_DATA_DIR: 'rel' })).toBe(path.resolve('rel'));
  });
});
