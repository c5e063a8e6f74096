// scripts/lab says what is missing (root, the lab, a host, a database server) instead of a raw
// EPERM or RTNETLINK error, and `lab up` defaults to the product's timing. Needs no lab and no root:
// the "lab not up" cases point WABA_LAB_DIR at a scratch directory, so no real lab is touched.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { preflight, resolveTiming } from '../../lab/lab';
import { PRODUCT_TIMING, TEST_TIMING, TIMING_ENV, topology } from '../../lab/paths';

const execFileAsync = promisify(execFile);
const SCRIPT = path.join(__dirname, '../../scripts/lab');
const isRoot = process.getuid?.() === 0;
/** Whether `up` could run here (root, the Debian packages, ip netns): only then does it get to the topology. */
const canUp = await preflight().then(
  () => true,
  () => false,
);

async function lab(
  args: string[],
  opts: { labDir?: string; asNobody?: boolean } = {},
): Promise<{ code: number; out: string }> {
  const argv =
    opts.asNobody && isRoot
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', SCRIPT]
      : [SCRIPT];
  const env = { ...process.env, HOME: tmpdir(), ...(opts.labDir ? { WABA_LAB_DIR: opts.labDir } : {}) };
  try {
    const { stdout, stderr } = await execFileAsync(argv[0] as string, [...argv.slice(1), ...args], {
      env,
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

/** A lab directory as `up` would leave it, but with no daemon, namespace or database behind it. */
function fakeLab(hosts = topology()): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'waba-fake-lab-'));
  const state = { engine: 'MYSQL', ...TEST_TIMING, hosts };
  writeFileSync(path.join(dir, 'lab.json'), JSON.stringify(state));
  mkdirSync(path.join(dir, 'secrets'));
  writeFileSync(path.join(dir, 'secrets', 'db-password'), 'x\n');
  return dir;
}
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const ROOT_COMMANDS = [
  ['down'],
  ['images'],
  ['stats'],
  ['sms-code'],
  ['reset-db'],
  ['fault', 'dbupgrade_fail', 'on'],
  ['stop-host', 'core1'],
  ['start-host', 'core1'],
  ['cut-host', 'core1'],
  ['heal-host', 'core1'],
  ['seed-media', 'web1', '1'],
  ['exec', 'core1', '--', 'true'],
];

describe('scripts/lab says what is missing', () => {
  it.each(ROOT_COMMANDS)('%s without root: "needs root"', async (...args) => {
    const res = await lab(args, { asNobody: true });
    expect(res.code).toBe(1);
    expect(res.out).toContain(`scripts/lab ${args[0]} needs root`);
    expect(res.out).not.toMatch(/EPERM|EACCES|RTNETLINK|Operation not permitted/);
  });

  it('up without root: "needs root" before anything else', async () => {
    const res = await lab(['up'], { asNobody: true });
    expect(res.code).toBe(1);
    expect(res.out).toContain('scripts/lab up needs root');
  });

  describe.skipIf(!isRoot)('as root', () => {
    it.each(
      ROOT_COMMANDS.filter(([c]) => c !== 'down').concat([['status']]),
    )('%s when the lab is not up: "the lab is not up"', async (...args) => {
      const empty = mkdtempSync(path.join(tmpdir(), 'waba-no-lab-'));
      scratch.push(empty);
      const res = await lab(args, { labDir: empty });
      expect(res.code).toBe(1);
      expect(res.out).toContain('the lab is not up: run scripts/lab up first');
    });

    it.each([
      ['stop-host'],
      ['start-host'],
      ['cut-host'],
      ['heal-host'],
      ['exec'],
      ['seed-media'],
    ])('%s with an unknown host names the lab hosts', async (command) => {
      const dir = fakeLab();
      scratch.push(dir);
      const res = await lab([command, 'nosuch', '--', 'true'], { labDir: dir });
      expect(res.code).toBe(1);
      expect(res.out).toContain(
        'no lab host named "nosuch" (hosts: web1, master1, master2, core1, core2, core3 (spare))',
      );
      const none = await lab([command], { labDir: dir });
      expect(none.out).toContain('name a lab host (web1, master1');
    });

    it('a database command when that server is not running says which', async () => {
      const dir = fakeLab();
      scratch.push(dir);
      expect((await lab(['stats'], { labDir: dir })).out).toContain(
        "the lab's MariaDB (MYSQL) is not running: scripts/lab up starts it",
      );
      expect((await lab(['sms-code', '--engine', 'PGSQL'], { labDir: dir })).out).toContain(
        "the lab's PostgreSQL (PGSQL) is not running",
      );
    });

    it.skipIf(!canUp)(
      'up with another topology than the running lab refuses and says to run down first',
      async () => {
        const dir = fakeLab(topology(1, 3, 3, 0));
        scratch.push(dir);
        const res = await lab(['up'], { labDir: dir });
        expect(res.code).toBe(1);
        expect(res.out).toMatch(
          /the lab is up with another topology \(web1, master1, master2, master3, .*\): run scripts\/lab down first/,
        );
      },
    );
  });

  it('an unknown command or fault is named, with the usage', async () => {
    const res = await lab(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.out).toContain('unknown command "frobnicate"');
    expect(res.out).toContain('usage: scripts/lab');
    expect((await lab(['fault', 'nosuch', 'on'])).out).toContain(
      'usage: scripts/lab fault dbupgrade_fail|shards_403_once|register_blocked|settings_drift on|off',
    );
  });
});

describe('lab timing', () => {
  const saved = { ...process.env };
  afterAll(() => {
    for (const name of Object.values(TIMING_ENV)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const withoutEnv = () => {
    for (const name of Object.values(TIMING_ENV)) delete process.env[name];
  };

  it("defaults to the product's 30 s unhealthy_interval and 5 s heartbeat_interval", () => {
    withoutEnv();
    expect(resolveTiming({})).toEqual(PRODUCT_TIMING);
    expect(PRODUCT_TIMING).toEqual({ heartbeatInterval: 5, unhealthyInterval: 30 });
  });

  it('takes options first, then the environment the tests set, then the running lab', () => {
    withoutEnv();
    expect(resolveTiming({ unhealthyInterval: 5 })).toEqual({ heartbeatInterval: 1, unhealthyInterval: 5 });
    process.env[TIMING_ENV.unhealthyInterval] = '8';
    process.env[TIMING_ENV.heartbeatInterval] = '2';
    expect(resolveTiming({}, PRODUCT_TIMING)).toEqual({ heartbeatInterval: 2, unhealthyInterval: 8 });
    expect(resolveTiming({ unhealthyInterval: 12, heartbeatInterval: 3 })).toEqual({
      heartbeatInterval: 3,
      unhealthyInterval: 12,
    });
    withoutEnv();
    expect(resolveTiming({}, TEST_TIMING)).toEqual(TEST_TIMING);
  });

  it('refuses a heartbeat that is not shorter than the unhealthy interval', () => {
    withoutEnv();
    expect(() => resolveTiming({ unhealthyInterval: 5, heartbeatInterval: 5 })).toThrow(
      /longer than the heartbeat/,
    );
    expect(() => resolveTiming({ unhealthyInterval: 1 })).toThrow(/at least 2 s/);
    process.env[TIMING_ENV.unhealthyInterval] = 'soon';
    expect(() => resolveTiming({})).toThrow(/WABA_LAB_UNHEALTHY_INTERVAL must be a whole number/);
  });
});
