// The prerequisites stage's remote commands (src/model/prerequisite-commands.ts) against a generated
// corpus of hostile values: a media directory reaches `find` as one literal path (run for real, in a
// scratch directory: nothing a value says is ever run); a database host, a port or a count of any
// other shape is refused before a command exists. The probes also run for real, with bash, against
// local listeners (a port that answers, one that refuses, a MySQL-like greeting).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dbConnectTimesCommand,
  dbGreetingCommand,
  mediaTreeCommand,
} from '../../src/model/prerequisite-commands';
import { parseConnectTimes, parseMysqlGreeting } from '../../src/model/prerequisites';

const PIECES = [
  "'",
  '"',
  '$(touch PWNED)',
  '`touch PWNED`',
  '\n',
  ';touch PWNED;',
  '&&',
  '|',
  '>PWNED',
  '<',
  '*',
  '?',
  '~',
  '#',
  ' ',
  '\t',
  '\\',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, as hostile text
  '${IFS}',
  '-rf',
  '--',
  '%m',
  '\\n',
  'é',
  '\x01',
  '{a,b}',
  '!',
];
/** Pairs of pieces, then pieces around ordinary text: several hundred values. */
const CORPUS = [
  ...PIECES.flatMap((a) => PIECES.map((b) => `${a}${b}`)),
  ...PIECES.map((p) => `media${p}x`),
  'x'.repeat(5000),
  `${'$(touch PWNED)'.repeat(300)}`,
];

const dir = mkdtempSync(path.join(tmpdir(), 'waba-prereq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pwned = () =>
  readdirSync(dir, { recursive: true }).some((f) => String(f).includes('PWNED') && !String(f).includes('/'));

describe('media tree command', () => {
  it(`${CORPUS.length} hostile names each reach find as one path: listed exactly, nothing run`, () => {
    expect(CORPUS.length).toBeGreaterThan(700);
    let ran = 0;
    CORPUS.forEach((v, i) => {
      const parent = path.join(dir, `p${i}`);
      const target = path.join(parent, v);
      const command = mediaTreeCommand(target, 5);
      expect(spawnSync('/bin/sh', ['-n', '-c', command]).status).toBe(0);
      if (Buffer.byteLength(v) > 200) return; // too long for a file name: quoted all the same
      mkdirSync(target, { recursive: true });
      chmodSync(target, 0o777);
      const out = spawnSync('/bin/sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
      expect(out.stdout, JSON.stringify(v)).toBe(`777 ${target}\n`);
      expect(out.stderr).toContain('find-exit 0');
      ran++;
    });
    expect(ran).toBeGreaterThan(700);
    expect(pwned()).toBe(false);
  });

  it('refuses a relative path, `..` segments and NUL', () => {
    for (const bad of ['media', '../etc', '/srv/../etc', '/srv/..', '/srv/a\0b', ''])
      expect(() => mediaTreeCommand(bad, 5)).toThrow('normalised absolute path');
  });

  it('refuses limits and timeouts out of bounds', () => {
    for (const n of [-1, 1.5, Number.NaN, 1e20, 1000]) expect(() => mediaTreeCommand('/srv/m', n)).toThrow();
    for (const n of [0, -1, 1.5, Number.NaN, 1e20]) expect(() => mediaTreeCommand('/srv/m', 5, n)).toThrow();
  });

  it('lists 755 trees as clean, and at most limit + 1 offenders: writable or unreadable by group and others', () => {
    const root = path.join(dir, 'tree');
    for (const d of ['a/b/c', 'd', 'e/f']) mkdirSync(path.join(root, d), { recursive: true });
    for (const d of ['', 'a', 'a/b', 'a/b/c', 'd', 'e', 'e/f']) chmodSync(path.join(root, d), 0o755);
    chmodSync(path.join(root, 'd'), 0o555);
    const clean = spawnSync('/bin/sh', ['-c', mediaTreeCommand(root, 5)], { encoding: 'utf8' });
    expect(clean.stdout).toBe('');
    chmodSync(path.join(root, 'a/b/c'), 0o775);
    chmodSync(path.join(root, 'e/f'), 0o757);
    chmodSync(path.join(root, 'e'), 0o700);
    const deep = spawnSync('/bin/sh', ['-c', mediaTreeCommand(root, 2)], { encoding: 'utf8' });
    expect(deep.stdout.trim().split('\n').sort()).toEqual(
      [`757 ${root}/e/f`, `775 ${root}/a/b/c`, `700 ${root}/e`].sort(),
    );
    chmodSync(path.join(root, 'e'), 0o755);
    for (let i = 0; i < 5; i++) {
      mkdirSync(path.join(root, `w${i}`));
      chmodSync(path.join(root, `w${i}`), 0o777);
    }
    const cut = spawnSync('/bin/sh', ['-c', mediaTreeCommand(root, 2)], { encoding: 'utf8' });
    expect(cut.stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('database probes', () => {
  it(`${CORPUS.length} hostile database hosts are refused; so are ports and counts out of bounds`, () => {
    // A value of letters, digits, dots, colons and inner dashes is a host name (harmless); any other is refused.
    const plain = (v: string) => /^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/.test(v) && v.length < 254;
    const hostile = [...CORPUS, '', '/etc/passwd', 'a/b', '-x', 'host.', '.host'].filter((v) => !plain(v));
    expect(hostile.length).toBeGreaterThan(700);
    for (const v of hostile)
      for (const build of [dbConnectTimesCommand, dbGreetingCommand])
        expect(() => build(v, 3306), JSON.stringify(v)).toThrow('not a database host');
    for (const port of [0, -1, 65536, 1.5, Number.NaN, 1e20]) {
      expect(() => dbConnectTimesCommand('10.0.0.5', port)).toThrow('not a TCP port');
      expect(() => dbGreetingCommand('10.0.0.5', port)).toThrow('not a TCP port');
    }
    for (const n of [0, -1, 1.5, 1000]) {
      expect(() => dbConnectTimesCommand('10.0.0.5', 3306, n)).toThrow();
      expect(() => dbConnectTimesCommand('10.0.0.5', 3306, 3, n)).toThrow();
      expect(() => dbGreetingCommand('10.0.0.5', 3306, n)).toThrow();
    }
  });

  it('the scripts parse with bash -n', () => {
    for (const c of [
      dbConnectTimesCommand('db.example.com', 3306),
      dbGreetingCommand('10.0.0.5', 5432),
      dbGreetingCommand('10.0.0.5', 5432, 2, 'until-wait'),
    ]) {
      const argv = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${c.replace(/^(timeout \d+ )?bash -c /, '')}`])
        .stdout.toString()
        .split('\0');
      expect(spawnSync('bash', ['-n', '-c', argv[0] as string]).status).toBe(0);
    }
  });

  const run = (command: string) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn('/bin/sh', ['-c', command]);
      let stdout = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.on('close', (code) => resolve({ code, stdout }));
    });
  let answering: Server;
  let greeting: Server;
  const portOf = (s: Server) => (s.address() as { port: number }).port;
  beforeAll(async () => {
    answering = createServer((sock) => sock.end());
    greeting = createServer((sock) => {
      sock.write(
        Buffer.concat([Buffer.from([0x30, 0, 0, 0, 0x0a]), Buffer.from('8.0.36\0'), Buffer.alloc(40, 7)]),
      );
      sock.on('error', () => {});
    });
    await Promise.all(
      [answering, greeting].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))),
    );
  });
  afterAll(() => {
    answering.close();
    greeting.close();
  });

  it('times each round trip to a MySQL server up to its greeting', async () => {
    const out = await run(dbConnectTimesCommand('127.0.0.1', portOf(greeting), 3, 3));
    const t = parseConnectTimes(out.stdout);
    expect(t.failed).toEqual([]);
    expect(t.ms).toHaveLength(3);
    for (const ms of t.ms) expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('a PostgreSQL server gets an SSLRequest and is timed up to its one-byte answer', async () => {
    const received: Buffer[] = [];
    const pg = createServer((sock) => {
      sock.once('data', (d: Buffer) => {
        received.push(d);
        sock.end('N');
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => pg.listen(0, '127.0.0.1', r));
    try {
      const out = await run(dbConnectTimesCommand('127.0.0.1', portOf(pg), 2, 3, 'PGSQL'));
      expect(parseConnectTimes(out.stdout)).toMatchObject({
        failed: [],
        ms: [expect.any(Number), expect.any(Number)],
      });
      expect(received.map((b) => b.toString('hex'))).toEqual(['0000000804d2162f', '0000000804d2162f']);
    } finally {
      pg.close();
    }
  });

  it('a port that accepts but never answers (or closes at once) fails each try', async () => {
    const out = await run(dbConnectTimesCommand('127.0.0.1', portOf(answering), 2, 1));
    expect(parseConnectTimes(out.stdout)).toEqual({ ms: [], failed: [1, 1] });
  });

  it('reports each failed connect to a port that refuses', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = portOf(closed);
    closed.close();
    const out = await run(dbConnectTimesCommand('127.0.0.1', port, 2, 3));
    expect(parseConnectTimes(out.stdout)).toEqual({ ms: [], failed: [1, 1] });
  });

  it('reads the version a MySQL server greets with', async () => {
    const out = await run(dbGreetingCommand('127.0.0.1', portOf(greeting), 1));
    expect(parseMysqlGreeting(out.stdout)).toEqual({ version: '8.0.36' });
  });

  it('reads the greeting packet and nothing after it, without waiting for the server to close', async () => {
    // The server keeps the connection open (as MySQL does, waiting for the client's login) and sends
    // bytes after the packet: the command takes the packet's 4 + 48 bytes and returns; with a 20 s
    // wait, reading on to the end would outlast this test's timeout.
    const chatty = createServer((sock) => {
      sock.write(
        Buffer.concat([
          Buffer.from([0x30, 0, 0, 0, 0x0a]),
          Buffer.from('8.0.36\0'),
          Buffer.alloc(40, 7),
          Buffer.from('after the packet'),
        ]),
      );
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => chatty.listen(0, '127.0.0.1', r));
    try {
      const out = await run(dbGreetingCommand('127.0.0.1', portOf(chatty), 20));
      expect(out.code).toBe(0);
      expect(out.stdout.match(/[0-9a-f]{2}/g)).toHaveLength(52);
      expect(parseMysqlGreeting(out.stdout)).toEqual({ version: '8.0.36' });
    } finally {
      chatty.close();
    }
  });

  it('a server that says nothing: no greeting, exit non-zero', async () => {
    const silent = createServer((sock) => sock.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const out = await run(dbGreetingCommand('127.0.0.1', portOf(silent), 1));
      expect(out.code).not.toBe(0);
      expect(out.stdout.trim()).toBe('');
    } finally {
      silent.close();
    }
  });
});
