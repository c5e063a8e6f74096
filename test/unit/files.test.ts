import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDbPassword, renderDbEnv, rewriteMediaVolume } from '../../activities/files';

const upstream = path.join(__dirname, '../../../shared/fixtures/upstream/installation');
const prodMulticonnect = readFileSync(path.join(upstream, 'prod-multiconnect-compose.yml'), 'utf8');

describe('db.env', () => {
  it('renders the keys of the upstream db.env from the spec', () => {
    expect(renderDbEnv({ engine: 'MYSQL', host: '10.0.0.5', port: 3306, user: 'waba' }, 'S3cret-pass')).toBe(
      '# Rendered by waba-runbooks from the cluster spec (seed step A3).\nWA_DB_ENGINE=MYSQL\nWA_DB_HOSTNAME=10.0.0.5\nWA_DB_PORT=3306\nWA_DB_USERNAME=waba\nWA_DB_PASSWORD=S3cret-pass\nWA_DB_CONNECTION_IDLE_TIMEOUT=180000\n',
    );
    expect(renderDbEnv({ engine: 'PGSQL', host: 'db', port: 5432, user: 'root' }, 'x')).not.toContain(
      'IDLE_TIMEOUT',
    );
  });

  it.each([
    '?',
    '{',
    '}',
    '&',
    '~',
    '!',
    '(',
    ')',
    '^',
    '=',
  ])('refuses a password containing %s, without showing it or naming the character', (c) => {
    const password = `abc${c}def123`;
    const other = `abc${c === '?' ? '=' : '?'}def123`;
    const messageOf = (p: string) => {
      try {
        checkDbPassword(p);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`${p} was accepted`);
    };
    expect(messageOf(password)).toContain('contains a character the client does not accept');
    expect(messageOf(password)).not.toContain(password);
    // The same words whatever the character: the message says nothing about which one it is.
    expect(messageOf(password)).toBe(messageOf(other));
  });
});

describe('media volume rewrite (seed step A4)', () => {
  it('swaps whatsappMedia for the host path in waweb, wacore and master, and nothing else', () => {
    const out = rewriteMediaVolume(prodMulticonnect, '/mnt/nfs/wamedia');
    const before = parse(prodMulticonnect);
    const after = parse(out);
    for (const s of ['waweb', 'wacore', 'master']) {
      expect(after.services[s].volumes).toEqual(['/mnt/nfs/wamedia:/usr/local/wamedia']);
      const { volumes: _a, ...restAfter } = after.services[s];
      const { volumes: _b, ...restBefore } = before.services[s];
      expect(restAfter).toEqual(restBefore);
    }
    expect(after.volumes).toEqual(before.volumes);
    expect(out).toContain('# Needs to reflect ports exposed above');
  });

  it('says what is wrong with a file it cannot edit', () => {
    expect(() => rewriteMediaVolume('version: "3"\n', '/x')).toThrow('no services map');
    expect(() =>
      rewriteMediaVolume('services:\n  waweb:\n    volumes:\n      - other:/data\n', '/x'),
    ).toThrow('services.waweb.volumes has no whatsappMedia:/usr/local/wamedia entry');
  });
});
