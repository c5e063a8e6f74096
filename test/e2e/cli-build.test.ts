// bin/waba-runbooks runs the build (dist/src/cli.js, plain node) only while it is fresh, and the
// sources through tsx otherwise. Checked on a throwaway copy of the layout whose two CLIs say which
// one ran, with file times set explicitly; then the real build against the real sources.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { buildIsFresh } from '../../bench/build-fresh';
import { PROJECT_ROOT } from '../../src/project-root';

const execFileAsync = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-cli-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const root = path.join(tmp, 'project');
const SOURCES = [
  'src/cli.ts',
  'src/config.ts',
  'workflows/index.ts',
  'activities/index.ts',
  'workers/main.ts',
];
const now = Date.now() / 1000;
const SOURCE_TIME = now - 1000;
const BUILD_TIME = now - 500;

function write(rel: string, text: string, time = SOURCE_TIME): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  utimesSync(file, time, time);
}

/** Every directory (and file) of the layout back to its time: sources, then the build after them. */
function settle(): void {
  const visit = (dir: string, time: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full, time);
    }
    utimesSync(dir, time, time);
  };
  for (const top of ['src', 'workflows', 'activities', 'workers']) visit(path.join(root, top), SOURCE_TIME);
  if (existsSync(path.join(root, 'dist'))) visit(path.join(root, 'dist'), BUILD_TIME);
}

beforeEach(() => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  copyFileSync(path.join(PROJECT_ROOT, 'bin', 'waba-runbooks'), path.join(root, 'bin', 'waba-runbooks'));
  // The real tsx, so the fallback runs exactly as in the project.
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  for (const rel of SOURCES) write(rel, 'export {};\n');
  // TypeScript only tsx runs (a type annotation).
  write(
    'src/cli.ts',
    "const from: string = 'tsx';\nconsole.log('ran ' + from + ': ' + process.argv.slice(2).join(' '));\n",
  );
  write('tsconfig.json', '{}\n');
  write('tsconfig.build.json', '{}\n');
  write('dist/src/cli.js', "console.log('ran dist: ' + process.argv.slice(2).join(' '));\n", BUILD_TIME);
  write('dist/.stamp', '', BUILD_TIME);
  settle();
});

async function ran(env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await execFileAsync(path.join(root, 'bin', 'waba-runbooks'), ['--help', 'x y'], {
    env: { ...process.env, WABA_CLI_FROM_SOURCE: '', ...env },
    timeout: 30_000,
  });
  // The bench's copy of the check (bench/build-fresh.ts) decides as bin does.
  if (!env.WABA_CLI_FROM_SOURCE) expect(buildIsFresh(root)).toBe(stdout.startsWith('ran dist'));
  return stdout.trim();
}

const touch = (rel: string) => utimesSync(path.join(root, rel), now, now);

describe('bin/waba-runbooks: the build only while it is fresh', () => {
  it('fresh build: dist, with the arguments as given', async () => {
    expect(await ran()).toBe('ran dist: --help x y');
  });

  it('no build: tsx', async () => {
    rmSync(path.join(root, 'dist'), { recursive: true });
    expect(await ran()).toBe('ran tsx: --help x y');
  });

  it('an edited source anywhere: tsx', async () => {
    for (const rel of SOURCES) {
      settle();
      touch(rel);
      expect(await ran(), rel).toBe('ran tsx: --help x y');
    }
  });

  it('a source added, deleted or renamed (its directory changed): tsx', async () => {
    write('src/client/new.ts', 'export {};\n');
    settle();
    expect(await ran()).toBe('ran dist: --help x y');
    touch('src/client');
    expect(await ran()).toBe('ran tsx: --help x y');
    settle();
    unlinkSync(path.join(root, 'src/config.ts')); // the directory's time is now
    expect(await ran()).toBe('ran tsx: --help x y');
  });

  it('a changed tsconfig: tsx', async () => {
    touch('tsconfig.build.json');
    expect(await ran()).toBe('ran tsx: --help x y');
  });

  it('an unfinished or failed build (no dist/.stamp): tsx', async () => {
    unlinkSync(path.join(root, 'dist/.stamp'));
    expect(await ran()).toBe('ran tsx: --help x y');
  });

  it('WABA_CLI_FROM_SOURCE=1: tsx even when the build is fresh', async () => {
    expect(await ran({ WABA_CLI_FROM_SOURCE: '1' })).toBe('ran tsx: --help x y');
  });
});

// The project's own build (CI runs `npm run build` before the tests): same help as from source.
describe.runIf(buildIsFresh())('the project build', () => {
  it('prints the same help as the sources', async () => {
    const bin = path.join(PROJECT_ROOT, 'bin', 'waba-runbooks');
    const help = async (env: NodeJS.ProcessEnv) =>
      (await execFileAsync(bin, ['--help'], { env: { ...process.env, ...env }, timeout: 30_000 })).stdout;
    const [fromDist, fromSource] = [
      await help({ WABA_CLI_FROM_SOURCE: '' }),
      await help({ WABA_CLI_FROM_SOURCE: '1' }),
    ];
    expect(fromDist).toContain('waba-runbooks');
    expect(fromDist).toBe(fromSource);
  });
});
