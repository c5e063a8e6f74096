import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../src/model/shell';

const echoBack = (cmd: string) =>
  execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${cmd}`], { encoding: 'utf8' });

describe('shellQuote', () => {
  it('leaves safe words alone and quotes everything else', () => {
    expect(shellQuote('docker-compose')).toBe('docker-compose');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it.each([
    '; rm -rf /',
    '$(id)',
    '`id`',
    'a\'b"c',
    'x\ny',
    '*',
    '~root',
    '!',
    '&&',
    '|',
    '>f',
  ])('a real shell reads %j back as one literal word', (value) => {
    expect(echoBack(shellQuote(value))).toBe(`${value}\n`);
  });

  it('builds env-prefixed commands and refuses bad variable names', () => {
    expect(
      shellCommand(['docker-compose', '-f', '/root/biz/x.yml', 'up', '-d', 'waweb'], {
        WA_API_VERSION: '2.23.4',
      }),
    ).toBe('WA_API_VERSION=2.23.4 docker-compose -f /root/biz/x.yml up -d waweb');
    expect(() => shellCommand(['true'], { 'A;B': 'x' })).toThrow('not an environment variable name');
  });
});
