// Every remote command builder quotes every value: a value with spaces, quotes, `$(...)` and `;`
// reaches its command as one literal word, at every level of nesting (`sh -c`, `trap`), and the
// commands parse. The host file commands also run for real against such names.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as compose from '../../src/model/commands';
import * as container from '../../src/model/container-commands';
import * as host from '../../src/model/host-commands';
import * as prereq from '../../src/model/prerequisite-commands';

/** The part of HOSTILE a shell would run if it ever saw it unquoted. */
const CORE = '$(touch PWNED);';
const HOSTILE = `a b'c"d ${CORE}e`;

interface Word {
  text: string;
  /** Per character: it came from single quotes or a backslash, so the shell takes it literally. */
  literal: boolean[];
}

/** The words of a POSIX shell command line, as far as this project's commands use the syntax. */
function words(script: string): Word[] {
  const out: Word[] = [];
  let cur: Word | undefined;
  const open = () => {
    cur ??= { text: '', literal: [] };
    return cur;
  };
  const push = (ch: string, literal: boolean) => {
    const w = open();
    w.text += ch;
    w.literal.push(literal);
  };
  for (let i = 0; i < script.length; ) {
    const ch = script[i] as string;
    if (ch === "'") {
      const close = script.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated ' in ${script}`);
      open();
      for (const c of script.slice(i + 1, close)) push(c, true);
      i = close + 1;
    } else if (ch === '"') {
      open();
      for (i++; script[i] !== '"'; i++) {
        if (i >= script.length) throw new Error(`unterminated " in ${script}`);
        if (script[i] === '\\' && '$`"\\'.includes(script[i + 1] ?? '')) i++;
        push(script[i] as string, false);
      }
      i++;
    } else if (ch === '\\') {
      push(script[i + 1] ?? '', true);
      i += 2;
    } else if (/[\s;&|()<>]/.test(ch)) {
      if (cur) out.push(cur);
      cur = undefined;
      i++;
    } else {
      push(ch, false);
      i++;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** The command and every script nested in it (`sh -c <script>`, `trap <script>`), depth first. */
function scripts(command: string): string[] {
  const ws = words(command);
  const nested = ws.flatMap((w, i) => {
    if ((w.text === 'sh' || w.text === 'bash') && ws[i + 1]?.text === '-c' && ws[i + 2])
      return [ws[i + 2] as Word];
    if (w.text === 'trap' && ws[i + 1]) return [ws[i + 1] as Word];
    return [];
  });
  return [command, ...nested.flatMap((w) => scripts(w.text))];
}

/**
 * Words at some level where the marker inside CORE is not taken literally: there a shell would run
 * `touch` (unquoted, the words split around it; double-quoted, `$(...)` still runs).
 */
function unquotedCore(command: string): string[] {
  const marker = 'PWNED';
  return scripts(command).flatMap((s) =>
    words(s).flatMap((w) => {
      const bad: string[] = [];
      for (let at = w.text.indexOf(marker); at >= 0; at = w.text.indexOf(marker, at + 1))
        if (w.literal.slice(at, at + marker.length).some((l) => !l)) bad.push(w.text);
      return bad;
    }),
  );
}

/** HOSTILE arrives whole inside one word at some level. */
const reachesWhole = (command: string) =>
  scripts(command).some((s) => words(s).some((w) => w.text.includes(HOSTILE)));

const parses = (script: string) => spawnSync('/bin/sh', ['-n', '-c', script]).status === 0;

const call = {
  workDir: '/root/biz',
  file: 'prod.yml',
  externalHostname: '10.0.0.1',
  version: '2.29.3',
  variant: 'v1' as const,
};

/** Every builder, with HOSTILE in each of its value parameters in turn. */
const CASES: Record<string, ((v: string) => string)[]> = {
  composeCommand: [
    (v) => compose.composeCommand({ ...call, workDir: `/srv/${v}` }, ['ps']),
    (v) => compose.composeCommand({ ...call, file: v }, ['ps']),
    (v) => compose.composeCommand({ ...call, externalHostname: v }, ['ps']),
    (v) => compose.composeCommand({ ...call, version: v }, ['ps']),
    (v) => compose.composeCommand({ ...call, variant: 'v2' }, ['logs', '--since', v, 'waweb']),
  ],
  inspectIdsCommand: [(v) => compose.inspectIdsCommand(host.fileSha256Command(`/srv/${v}`))],
  psCommand: [(v) => compose.psCommand({ ...call, workDir: `/srv/${v}` }), (v) => compose.psCommand(call, v)],
  composePsCommand: [
    (v) => compose.composePsCommand({ ...call, workDir: `/srv/${v}` }),
    (v) => compose.composePsCommand({ ...call, version: v }, 'wacore'),
    (v) => compose.composePsCommand(call, v),
  ],
  composeLogsCommand: [
    (v) => compose.composeLogsCommand({ ...call, externalHostname: v }, ['logs'], 1000),
    (v) => compose.composeLogsCommand(call, ['logs', v], 1000),
  ],
  dirModesCommand: [(v) => host.dirModesCommand(`/srv/${v}`)],
  makeDirCommand: [(v) => host.makeDirCommand(`/srv/${v}`)],
  fileSha256Command: [(v) => host.fileSha256Command(`/srv/${v}`)],
  fileModeCommand: [(v) => host.fileModeCommand(`/srv/${v}`, 0o600)],
  fileExistsCommand: [(v) => host.fileExistsCommand(`/srv/${v}`)],
  stoppableCommand: [(v) => host.stoppableCommand(host.fileExistsCommand(`/srv/${v}`))],
  removeFileCommand: [(v) => host.removeFileCommand(`/srv/${v}`)],
  sudoCommand: [(v) => host.sudoCommand(host.makeDirCommand(`/srv/${v}`))],
  checksumAndRenameCommand: [
    (v) => host.checksumAndRenameCommand(`/srv/${v}`, 'ab', '/srv/x'),
    (v) => host.checksumAndRenameCommand('/srv/t', v, '/srv/x'),
    (v) => host.checksumAndRenameCommand('/srv/t', 'ab', `/srv/${v}`),
  ],
  checksumAndInstallCommand: [
    (v) => host.checksumAndInstallCommand(`/tmp/${v}`, 'ab', '/srv/x', '/srv/x.up', 0o600),
    (v) => host.checksumAndInstallCommand('/tmp/t', v, '/srv/x', '/srv/x.up', 0o600),
    (v) => host.checksumAndInstallCommand('/tmp/t', 'ab', `/srv/${v}`, '/srv/x.up', 0o600),
    (v) => host.checksumAndInstallCommand('/tmp/t', 'ab', '/srv/x', `/srv/${v}.up`, 0o600),
  ],
  removeContainersCommand: [(v) => container.removeContainersCommand(['abc', v])],
  waitContainerCommand: [(v) => container.waitContainerCommand(v)],
  containerLogsCommand: [(v) => container.containerLogsCommand(v, 20)],
  inspectContainerCommand: [(v) => container.inspectContainerCommand(v)],
  mediaChownRunningCommand: [(v) => container.mediaChownRunningCommand(v)],
  mediaCountsCommand: [
    (v) => container.mediaCountsCommand(v, '/usr/local/wamedia'),
    (v) => container.mediaCountsCommand('web', `/srv/${v}`),
  ],
  mediaChownCountsCommand: [(v) => container.mediaChownCountsCommand(v)],
  clearMediaChownMarkersCommand: [(v) => container.clearMediaChownMarkersCommand(v)],
  startMediaChownCommand: [
    (v) => container.startMediaChownCommand(v, '/usr/local/wamedia'),
    (v) => container.startMediaChownCommand('web', `/srv/${v}`),
  ],
  mediaChownProgressCommand: [
    (v) => container.mediaChownProgressCommand(v, '/usr/local/wamedia'),
    (v) => container.mediaChownProgressCommand('web', `/srv/${v}`),
  ],
  stopMediaChownCommand: [(v) => container.stopMediaChownCommand(v)],
  mediaTreeCommand: [(v) => prereq.mediaTreeCommand(`/srv/${v}`, 5)],
};

/**
 * Builders whose values must match a strict shape (a database host is put into a /dev/tcp path):
 * a hostile value is refused, never quoted into a command.
 */
const REFUSING: Record<string, ((v: string) => string)[]> = {
  dbConnectTimesCommand: [(v) => prereq.dbConnectTimesCommand(v, 3306)],
  dbGreetingCommand: [(v) => prereq.dbGreetingCommand(v, 3306)],
};

/** Exported functions that describe a compose call rather than build a command. */
const NOT_BUILDERS = ['composeFileOf', 'hostComposeCall'];

describe('remote command builders', () => {
  it('every exported builder has cases here', () => {
    const exported = [compose, host, container, prereq].flatMap((m) =>
      Object.entries(m)
        .filter(([, v]) => typeof v === 'function')
        .map(([k]) => k),
    );
    expect(exported.filter((k) => !NOT_BUILDERS.includes(k)).sort()).toEqual(
      [...Object.keys(CASES), ...Object.keys(REFUSING)].sort(),
    );
  });

  const all = Object.entries(CASES).flatMap(([name, cases]) =>
    cases.map((build, i) => ({ name: `${name} #${i + 1}`, build })),
  );

  it.each(all)('$name keeps a hostile value one literal word', ({ build }) => {
    const command = build(HOSTILE);
    expect(unquotedCore(command)).toEqual([]);
    expect(reachesWhole(command)).toBe(true);
    for (const s of scripts(command)) expect(parses(s), s).toBe(true);
  });

  it.each(
    Object.entries(REFUSING).flatMap(([name, cases]) => cases.map((build) => ({ name, build }))),
  )('$name refuses a hostile value', ({ build }) => {
    expect(() => build(HOSTILE)).toThrow();
  });

  it('the checker itself catches a pasted or double-quoted value', () => {
    const pasted = `/srv/x ${CORE}y`;
    expect(unquotedCore(`mkdir -p ${pasted}`)).not.toEqual([]);
    expect(unquotedCore(`mkdir -p "${pasted}"`)).not.toEqual([]);
    expect(unquotedCore(host.sudoCommand(`mkdir -p ${pasted}`))).not.toEqual([]);
    expect(unquotedCore(`docker exec web sh -c ${JSON.stringify(`find ${pasted}`)}`)).not.toEqual([]);
    expect(() => unquotedCore(`mkdir -p '/srv/${HOSTILE}'`)).toThrow('unterminated');
    expect(reachesWhole(`mkdir -p ${pasted}`)).toBe(false);
  });

  it('fixed commands parse', () => {
    for (const c of [
      compose.DETECT_COMPOSE,
      host.DOCKER_VERSION,
      host.MAKE_TEMP_FILE,
      container.DBUPGRADE_JOBS,
      container.REMOVE_DBUPGRADE_JOBS,
      prereq.dbConnectTimesCommand('10.0.0.5', 3306),
      prereq.dbGreetingCommand('db.example.com', 5432),
    ])
      for (const s of scripts(c)) expect(parses(s), s).toBe(true);
  });

  it('refuses numbers that are not counts or file modes', () => {
    expect(() => container.containerLogsCommand('web', 1.5)).toThrow('non-negative integer');
    expect(() => compose.composeLogsCommand(call, ['logs'], -1)).toThrow('non-negative integer');
    expect(() => host.checksumAndInstallCommand('/t', 'ab', '/x', '/x.up', 0o10000)).toThrow('file mode');
  });

  it('ps lists stopped containers too (-a)', () => {
    expect(compose.psCommand(call)).toContain('docker ps -a -q --no-trunc --filter');
  });
});

describe('host file commands, run for real on names a shell would misread', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'waba-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sh = (command: string) => spawnSync('/bin/sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
  const sum = (s: string) => createHash('sha256').update(s).digest('hex');
  const d = path.join(dir, HOSTILE);

  it('mkdir, modes, exists, sha256, rm', () => {
    expect(sh(host.makeDirCommand(`${d}/sub`)).status).toBe(0);
    execFileSync('chmod', ['750', d]);
    expect(sh(host.dirModesCommand(d)).stdout).toBe(`750 ${d}\n755 ${d}/sub/\n`);
    const f = `${d}/f ${HOSTILE}`;
    writeFileSync(f, 'content');
    expect(sh(host.fileExistsCommand(f)).status).toBe(0);
    expect(sh(host.fileSha256Command(f)).stdout).toBe(`${sum('content')}\n`);
    expect(sh(host.fileSha256Command(`${f}.missing`))).toMatchObject({ status: 0, stdout: '' });
    expect(sh(host.removeFileCommand(f)).status).toBe(0);
    expect(existsSync(f)).toBe(false);
    expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
  });

  it('checksum and rename: into place when the sum matches, removed with exit 3 when not', () => {
    const dest = `${d}/dest ${HOSTILE}`;
    const tmp = `${dest}.upload-1`;
    writeFileSync(tmp, 'new');
    expect(sh(host.checksumAndRenameCommand(tmp, sum('new'), dest)).status).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('new');
    writeFileSync(tmp, 'half');
    const bad = sh(host.checksumAndRenameCommand(tmp, sum('new'), dest));
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain('checksum mismatch');
    expect(existsSync(tmp)).toBe(false);
    expect(readFileSync(dest, 'utf8')).toBe('new');
    expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
  });

  it('checksum and install: the mode asked for, the temp files gone either way', () => {
    const dest = `${d}/inst ${HOSTILE}`;
    const staging = `${dest}.upload-2`;
    const tmp = path.join(dir, `tmp ${HOSTILE}`);
    writeFileSync(tmp, 'secret', { mode: 0o600 });
    expect(sh(host.checksumAndInstallCommand(tmp, sum('secret'), dest, staging, 0o640)).status).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('secret');
    expect(statSync(dest).mode & 0o7777).toBe(0o640);
    expect([existsSync(tmp), existsSync(staging)]).toEqual([false, false]);
    writeFileSync(tmp, 'other');
    expect(sh(host.checksumAndInstallCommand(tmp, sum('secret'), dest, staging, 0o640)).status).toBe(3);
    expect([existsSync(tmp), existsSync(staging), readFileSync(dest, 'utf8')]).toEqual([
      false,
      false,
      'secret',
    ]);
    expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
  });
});
