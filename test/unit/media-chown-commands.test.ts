// The media chown's remote commands, run for real (as root) with the tools a Webapp container may
// have: busybox (the lab's image) and the host's coreutils/findutils with dash. `docker exec` is a
// shim that runs the command here. One walk counts the files; the job reports its own progress
// (one byte per changed file); a poll never walks the tree while it runs; a stop ends every process
// of the job; the counts kept at the start let a retry re-attach without walking again.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownPollMs, parseChownCounts, parseChownProgress } from '../../src/model/chown-progress';
import * as container from '../../src/model/container-commands';

const root = process.getuid?.() === 0;
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((b) => existsSync(b));
const MARKERS = ['pid', 'counts', 'changed', 'rc', 'exit'].map((m) => `/tmp/waba-chown.${m}`);
const SHIM = `#!/bin/sh
# docker inspect -f FORMAT CONTAINER: container web runs, stopped does not, any other is gone.
if [ "$1" = inspect ]; then
  case "$4" in web) echo true ;; stopped) echo false ;; *) echo "Error: No such object: $4" >&2; exit 1 ;; esac
  exit 0
fi
# docker exec [-d] CONTAINER CMD...: run CMD here (detached with -d), noted in EXEC_LOG
[ "$1" = exec ] || exit 2
[ -n "$EXEC_LOG" ] && echo "$*" >> "$EXEC_LOG"
shift
if [ "$1" = -d ]; then shift; shift; ( "$@" </dev/null >/dev/null 2>&1 & ); exit 0; fi
shift
exec "$@"
`;

describe('media chown progress', () => {
  it('polls every min(60, max(2, ceil(total / 20000))) seconds', () => {
    expect(
      [0, 1_000, 40_000, 40_001, 200_000, 1_000_000, 1_180_000, 1_200_001, 9_000_000].map(chownPollMs),
    ).toEqual([2_000, 2_000, 2_000, 3_000, 10_000, 50_000, 59_000, 60_000, 60_000]);
  });

  it('parses the progress lines: running, gone, exited with the final count; counts kept or not', () => {
    expect(parseChownProgress('9007 6004\n4096\nrunning\n')).toEqual({
      counts: { total: 9007, remaining: 6004 },
      changed: 4096,
      state: 'running',
      exitCode: null,
      left: undefined,
      containerGone: false,
    });
    expect(parseChownProgress('-\n0\ngone\n')).toMatchObject({
      counts: undefined,
      state: 'gone',
      containerGone: false,
    });
    expect(parseChownProgress('-\n0\nno-container\n')).toMatchObject({ state: 'gone', containerGone: true });
    expect(parseChownProgress('9007 6004\n6000\n1\n4\n')).toMatchObject({
      changed: 6000,
      state: 'exited',
      exitCode: 1,
      left: 4,
    });
    expect(parseChownCounts('      6004     9007')).toEqual({ total: 6004, remaining: 9007 });
    expect(parseChownCounts('')).toBeUndefined();
  });
});

describe.skipIf(!root)('media chown commands, run for real', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'waba-chown-'));
  const media = path.join(dir, 'wamedia');
  const bin = path.join(dir, 'bin');
  const slow = path.join(dir, 'slow');
  const bb = path.join(dir, 'busybox');
  const clearMarkers = () => {
    for (const m of MARKERS) rmSync(m, { force: true });
  };
  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'docker'), SHIM, { mode: 0o755 });
    // A chown that takes its time: the job is still running when the test looks and stops it.
    mkdirSync(slow, { recursive: true });
    writeFileSync(path.join(slow, 'chown'), '#!/bin/sh\nsleep 30\nexec /bin/chown "$@"\n', { mode: 0o755 });
    if (busybox) {
      mkdirSync(bb, { recursive: true });
      const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const a of applets) symlinkSync(busybox, path.join(bb, a));
    }
  });
  afterAll(() => {
    clearMarkers();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The media tree: `n` files per folder, two of every three not root's, plus a link not root's. */
  function seed(n: number): { total: number; notRoot: number } {
    rmSync(media, { recursive: true, force: true });
    let notRoot = 0;
    for (const sub of container.MEDIA_DIRS) {
      const d = path.join(media, sub, 'seeded');
      mkdirSync(d, { recursive: true });
      chmodSync(path.join(media, sub), 0o755);
      for (let i = 0; i < n; i++) {
        const f = path.join(d, `m${i}.bin`);
        writeFileSync(f, 'x');
        if (i % 3 !== 0) {
          lchownSync(f, 1000, 1000);
          notRoot++;
        }
      }
    }
    symlinkSync(path.join(media, 'incoming/seeded/m0.bin'), path.join(media, 'shared/link'));
    lchownSync(path.join(media, 'shared/link'), 1000, 1000);
    // Each folder and its `seeded` folder, the files, the link.
    return { total: 6 + 3 * n + 1, notRoot: notRoot + 1 };
  }

  const toolsets = [
    ...(busybox ? [{ name: 'busybox', sh: [busybox, 'sh'], path: `${bin}:${bb}` }] : []),
    { name: 'coreutils and dash', sh: ['/bin/sh'], path: `${bin}:/usr/bin:/bin` },
  ];

  describe.each(toolsets)('with $name', (tools) => {
    const run = (command: string, extraPath = '') => {
      const [shell, ...args] = tools.sh as [string, ...string[]];
      return spawnSync(shell, [...args, '-c', command], {
        encoding: 'utf8',
        env: { PATH: `${extraPath}${tools.path}` },
      });
    };
    const progress = () => parseChownProgress(run(container.mediaChownProgressCommand('web', media)).stdout);

    it("one walk counts every file and those not root's; the job changes them, counting what it changed", async () => {
      clearMarkers();
      const expected = seed(50);
      const counted = run(container.mediaCountsCommand('web', media));
      expect(counted.status).toBe(0);
      expect(parseChownCounts(counted.stdout.trim())).toEqual({
        total: expected.total,
        remaining: expected.notRoot,
      });
      expect(run(container.clearMediaChownMarkersCommand('web')).status).toBe(0);
      expect(run(container.startMediaChownCommand('web', media)).status).toBe(0);
      let p = progress();
      for (let i = 0; i < 50 && p.state === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        p = progress();
      }
      expect(p).toEqual({
        counts: { total: expected.total, remaining: expected.notRoot },
        changed: expected.notRoot,
        state: 'exited',
        exitCode: 0,
        left: 0,
        containerGone: false,
      });
      expect(spawnSync('find', [media, '!', '-user', 'root'], { encoding: 'utf8' }).stdout).toBe('');
      expect(run(container.mediaChownRunningCommand('web')).status).not.toBe(0);
    });

    it('a container re-created or stopped under the job: gone, no count, nothing run in it', () => {
      clearMarkers();
      seed(2);
      const execLog = path.join(dir, 'exec.log');
      for (const gone of ['4f1e0c9a2b7d', 'stopped']) {
        rmSync(execLog, { force: true });
        const [shell, ...args] = tools.sh as [string, ...string[]];
        const out = spawnSync(shell, [...args, '-c', container.mediaChownProgressCommand(gone, media)], {
          encoding: 'utf8',
          env: { PATH: tools.path, EXEC_LOG: execLog },
        });
        expect(out.status).toBe(0);
        expect(parseChownProgress(out.stdout)).toEqual({
          counts: undefined,
          changed: 0,
          state: 'gone',
          exitCode: null,
          left: undefined,
          containerGone: true,
        });
        expect(existsSync(execLog)).toBe(false);
      }
    });

    it.skipIf(tools.name === 'busybox')(
      'a job that ends right after its counter is read is reported running, never exited with a partial count',
      () => {
        clearMarkers();
        seed(2);
        // The job: a live process whose command line names waba-chown, a counter still empty.
        const job = spawn('sh', ['-c', 'sleep 20 # waba-chown'], { stdio: 'ignore' });
        writeFileSync('/tmp/waba-chown.pid', String(job.pid));
        writeFileSync('/tmp/waba-chown.counts', '3 3\n');
        writeFileSync('/tmp/waba-chown.changed', '');
        // A wc that, once it has read the counter, lets the job finish: counter complete, exit code
        // published, process gone. Only the first wc does this (later ones count files).
        const racy = path.join(dir, 'racy');
        mkdirSync(racy, { recursive: true });
        writeFileSync(
          path.join(racy, 'wc'),
          `#!/bin/sh\nif [ -e ${racy}/done ]; then exec /usr/bin/wc "$@"; fi\n: > ${racy}/done\nout=$(/usr/bin/wc "$@")\nprintf 'abc' > /tmp/waba-chown.changed; echo 0 > /tmp/waba-chown.exit; kill ${job.pid}; sleep 0.2\necho "$out"\n`,
          { mode: 0o755 },
        );
        try {
          const p = parseChownProgress(
            run(container.mediaChownProgressCommand('web', media), `${racy}:`).stdout,
          );
          expect({ state: p.state, changed: p.changed }).toEqual({ state: 'running', changed: 0 });
          expect(progress()).toMatchObject({ changed: 3, state: 'exited', exitCode: 0 });
        } finally {
          job.kill();
        }
      },
    );

    it.skipIf(tools.name === 'busybox')(
      'while it runs: running, re-attachable from the counts kept; a stop ends every process of it (gone)',
      () => {
        clearMarkers();
        const expected = seed(5);
        run(container.mediaCountsCommand('web', media));
        run(container.clearMediaChownMarkersCommand('web'));
        // busybox find runs its own chown applet; the slow chown only delays the host's find.
        expect(run(container.startMediaChownCommand('web', media), `${slow}:`).status).toBe(0);
        expect(run(container.mediaChownRunningCommand('web')).status).toBe(0);
        expect(parseChownCounts(run(container.mediaChownCountsCommand('web')).stdout.trim())).toEqual({
          total: expected.total,
          remaining: expected.notRoot,
        });
        expect(progress()).toMatchObject({ changed: 0, state: 'running', exitCode: null });
        const pid = Number(readFileSync('/tmp/waba-chown.pid', 'utf8'));
        expect(run(container.stopMediaChownCommand('web')).status).toBe(0);
        const alive = () =>
          spawnSync('ps', ['-eo', 'pgid='], { encoding: 'utf8' })
            .stdout.split('\n')
            .some((g) => Number(g) === pid);
        for (let i = 0; i < 20 && alive(); i++) spawnSync('sleep', ['0.1']);
        expect(alive()).toBe(false);
        expect(progress()).toMatchObject({ state: 'gone', exitCode: null });
        expect(existsSync('/tmp/waba-chown.exit')).toBe(false);
      },
    );
  });
});
