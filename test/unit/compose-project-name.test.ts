// psCommand asks the Docker daemon for the project's containers by label, so the project name it
// works out in the shell must be the one compose gives them. Checked here against docker-compose
// v1 itself (its Python module, as Debian ships it) on generated directory names, a `.env`, the
// environment and a symbolic link. `docker` is a shim that prints the project filter it was given.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { psCommand } from '../../src/model/commands';

/** The interpreter docker-compose v1 runs on (its shebang), which has its module. */
const PYTHON = '/usr/bin/python3';
const composeV1 = spawnSync(PYTHON, ['-c', 'import compose.cli.command'], { encoding: 'utf8' }).status === 0;
if (!composeV1 && process.env.CI === 'true')
  throw new Error('CI=true but docker-compose (v1) is not installed');
if (!composeV1)
  console.warn('SKIPPED: compose project names need docker-compose v1 (apt install docker-compose)');

const SHIM = `#!/bin/sh
if [ "$1" = ps ]; then
  for a; do case $a in label=com.docker.compose.project=*) echo "project=\${a#label=com.docker.compose.project=}" ;; esac; done
else shift; echo "$@"; fi
`;
/** Characters a directory name may carry, the awkward ones over-represented. */
const ALPHABET = [...'abcXYZ019_-. ', 'é', 'Ü', '$', "'", '"', '`', '(', ';', '*', '\\', '~', '+', '=', '\t'];

function* names(count: number): Generator<string> {
  let seed = 15;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < count; i++) {
    const length = 1 + (next() % 12);
    yield Array.from({ length }, () => ALPHABET[next() % ALPHABET.length]).join('');
  }
}

describe.skipIf(!composeV1)('the compose project name psCommand filters on (docker-compose v1)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'waba-project-'));
  const bin = path.join(root, '.bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'docker'), SHIM, { mode: 0o755 });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** What compose v1 names the project in each dir (its own function). */
  const composeNames = (dirs: string[], env: Record<string, string> = {}): string[] => {
    const py =
      'import json,sys\nfrom compose.cli.command import get_project_name\nprint(json.dumps([get_project_name(d) for d in json.load(sys.stdin)]))';
    const out = spawnSync(PYTHON, ['-c', py], {
      input: JSON.stringify(dirs),
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', ...env },
    });
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout);
  };
  const ours = (dir: string, env: Record<string, string> = {}): string => {
    const call = {
      workDir: dir,
      file: 'c.yml',
      externalHostname: 'h',
      version: '2.29.3',
      variant: 'v1' as const,
    };
    const out = spawnSync('/bin/sh', ['-c', psCommand(call)], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
    });
    expect(out.status, out.stderr).toBe(0);
    return out.stdout.trim().replace(/^project=/, '');
  };

  it('is the name compose gives a directory, on 300 generated names', () => {
    const dirs = [...new Set(names(300))].map((n, i) => path.join(root, `${i}`, n));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const expected = composeNames(dirs);
    const got = dirs.map((d) => ours(d));
    const diff = dirs.flatMap((d, i) =>
      got[i] === expected[i] ? [] : [[path.basename(d), got[i], expected[i]]],
    );
    expect(diff).toEqual([]);
    // Names with no letter or digit left: compose gives an empty name, and so do we.
    expect(expected).toContain('');
  });

  it('follows COMPOSE_PROJECT_NAME from the environment, then from .env, and the physical path', () => {
    const dir = path.join(root, 'biz');
    mkdirSync(dir);
    const link = path.join(root, 'Linked.Dir');
    symlinkSync(dir, link);
    expect(ours(link)).toBe('biz');
    expect(composeNames([dir])).toEqual(['biz']);
    expect(ours(dir, { COMPOSE_PROJECT_NAME: 'Prod.Cluster-1' })).toBe('prodcluster-1');
    expect(composeNames([dir], { COMPOSE_PROJECT_NAME: 'Prod.Cluster-1' })).toEqual(['prodcluster-1']);
    writeFileSync(path.join(dir, '.env'), 'X=1\nCOMPOSE_PROJECT_NAME=From_Env.File\n');
    expect(composeNames([dir])).toEqual(['from_envfile']);
    expect(ours(dir)).toBe('from_envfile');
  });
});
