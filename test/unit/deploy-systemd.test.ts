// deploy/waba-runbooks-worker.service passes `systemd-analyze verify` and keeps its hardening, and
// deploy/worker.env.example names exactly the settings the worker reads (src/config, and the
// TEMPORAL_* ones @temporalio/envconfig reads for it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { DEPLOY_DIR, toolAvailable } from '../support/deploy-files';

const UNIT_NAME = 'waba-runbooks-worker.service';
const unitText = readFileSync(path.join(DEPLOY_DIR, UNIT_NAME), 'utf8');
const envExample = readFileSync(path.join(DEPLOY_DIR, 'worker.env.example'), 'utf8');
const hasAnalyze = toolAvailable('systemd-analyze', ['--version'], 'apt-get install systemd');
const tmp = mkdtempSync(path.join(tmpdir(), 'waba-systemd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The unit's `Key=value` lines of [Service], in order (a key may repeat). */
function serviceSettings(text: string): [string, string][] {
  const service = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  return service
    .split('\n')
    .filter((l) => /^\w+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

/** `unit` under its own name in a fresh directory; `systemd-analyze verify`'s exit code and output. */
function verify(unit: string): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmp, 'unit-'));
  const file = path.join(dir, UNIT_NAME);
  writeFileSync(file, unit);
  const run = spawnSync('systemd-analyze', ['verify', '--man=no', file], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * The unit as verify can check it here: its ExecStart needs an executable that exists, so the
 * production path of node becomes this process's node, and the script a real file.
 */
const testableUnit = (text: string) =>
  text.replace(
    /^ExecStart=.*$/m,
    `ExecStart=${process.execPath} ${path.join(PROJECT_ROOT, 'workers', 'main.ts')}`,
  );

describe.skipIf(!hasAnalyze)('systemd-analyze', () => {
  it('verifies the unit without an error or a warning about it', () => {
    const { status, output } = verify(testableUnit(unitText));
    expect(output.split('\n').filter((l) => l.includes(UNIT_NAME))).toEqual([]);
    expect(status).toBe(0);
  });

  it('names what is wrong in a broken unit (the check can fail)', () => {
    const typo = verify(testableUnit(unitText).replace('ProtectSystem=strict', 'ProtectSystem=stric'));
    expect(typo.output).toMatch(/protect system value/i);
    const missing = verify(unitText.replace('/usr/bin/node', '/nonexistent/node'));
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain('/nonexistent/node');
  });

  it('rates the unit’s exposure low (systemd-analyze security: 2.5 or less)', () => {
    const dir = mkdtempSync(path.join(tmp, 'security-'));
    const file = path.join(dir, UNIT_NAME);
    writeFileSync(file, testableUnit(unitText));
    const run = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const level = /Overall exposure level for \S+: ([\d.]+)/.exec(`${run.stdout}${run.stderr}`)?.[1];
    expect(level, `${run.stdout}${run.stderr}`).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(2.5);
  });
});

describe('the unit file', () => {
  const settings = serviceSettings(unitText);
  const value = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);

  it('runs the compiled worker with plain node as its own user, with the env file', () => {
    expect(value('User')).toEqual(['waba-runbooks']);
    expect(value('EnvironmentFile')).toEqual(['/etc/waba-runbooks/worker.env']);
    expect(value('ExecStart')).toEqual(['/usr/bin/node /opt/waba-runbooks/dist/workers/main.js']);
    expect(value('Restart')).toEqual(['on-failure']);
    expect(value('KillSignal')).toEqual(['SIGTERM']);
  });

  it('waits longer than the worker’s shutdownGraceTime before SIGKILL', () => {
    const grace = /shutdownGraceTime: '(\d+)s'/.exec(
      readFileSync(path.join(PROJECT_ROOT, 'workers', 'worker.ts'), 'utf8'),
    )?.[1];
    const stop = /^(\d+)s$/.exec(value('TimeoutStopSec')[0] ?? '')?.[1];
    expect(grace).toBeDefined();
    expect(Number(stop)).toBeGreaterThan(Number(grace) + 10);
  });

  it('keeps its hardening, and a writable data directory only', () => {
    const hardening: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      RestrictNamespaces: 'yes',
      CapabilityBoundingSet: '',
      SystemCallArchitectures: 'native',
      ReadWritePaths: '/var/lib/waba-runbooks',
      StateDirectory: 'waba-runbooks',
    };
    for (const [key, expected] of Object.entries(hardening)) expect(value(key), key).toEqual([expected]);
    // Outbound network (SSH, HTTPS, Temporal) and V8's JIT must stay possible.
    for (const key of ['IPAddressDeny', 'PrivateNetwork', 'MemoryDenyWriteExecute'])
      expect(value(key), key).toEqual([]);
  });
});

/** Settings read by src/config (or envconfig for it) that are not the worker's, and why. */
const NOT_THE_WORKERS: Record<string, string> = {
  TEMPORAL_CLI_PATH: '`npm start` runs the Temporal CLI as the dev server',
  WABA_TOOLS_DIR: '`npm start`: where the Temporal CLI is built',
  TEMPORAL_DEV_IP: "`npm start`'s dev server",
  TEMPORAL_DEV_PORT: "`npm start`'s dev server",
  TEMPORAL_DEV_UI_PORT: "`npm start`'s dev server",
  TEMPORAL_UI_URL: 'the CLI',
  WABA_KEY_PASSPHRASE: 'the CLI',
  WABA_CHATOPS_HOST: 'ChatOps',
  WABA_CHATOPS_PORT: 'ChatOps',
  WABA_CHATOPS_IDENTITIES: 'ChatOps',
  WABA_CHATOPS_IDENTITY_MAP: 'ChatOps',
  WABA_CHATOPS_RELAY_KEY: 'ChatOps',
  WABA_CHATOPS_RELAY_KEY_PASSPHRASE: 'ChatOps',
  WABA_CHATOPS_RELAY_NAME: 'ChatOps',
  WABA_CHATOPS_WEBHOOK_SECRET: 'ChatOps',
  WABA_CODEC_PORT: 'the codec server',
  WABA_CODEC_CORS_ORIGIN: 'the codec server',
  WABA_CODEC_AUTH_TOKEN: 'the codec server',
  WABA_LAB_DIR: 'the lab (development only)',
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'refused when true',
  TEMPORAL_CODEC_ENDPOINT: "envconfig's remote codec, which the worker does not use (WABA_CODEC_KEYS)",
  TEMPORAL_CODEC_AUTH: "envconfig's remote codec, which the worker does not use",
};

/**
 * Every setting src/config reads (quoted names, `env.NAME`) and every TEMPORAL_* name envconfig
 * reads for it. Names ending in `_` are prefixes (TEMPORAL_GRPC_META_<NAME>).
 */
function configSettings(): { names: Set<string>; prefixes: string[] } {
  const configDir = path.join(PROJECT_ROOT, 'src', 'config');
  const ours = readdirSync(configDir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [
      ...readFileSync(path.join(configDir, f), 'utf8').matchAll(
        /(?:['`]|\b(?:env|vars)\.)((?:TEMPORAL|WABA)_[A-Z0-9_]*)/g,
      ),
    ])
    .map((m) => m[1] as string)
    // `TEMPORAL_` and `TEMPORAL_TLS_${...}`: how names are built, not names.
    .filter((n) => !n.endsWith('_'));
  const envconfigDir = path.dirname(require.resolve('@temporalio/envconfig'));
  const theirs = readdirSync(envconfigDir)
    .filter((f) => f.endsWith('.js'))
    .flatMap((f) => [...readFileSync(path.join(envconfigDir, f), 'utf8').matchAll(/\bTEMPORAL_[A-Z0-9_]+/g)])
    .map((m) => m[0]);
  const all = [...ours, ...theirs];
  return {
    names: new Set(all.filter((n) => !n.endsWith('_'))),
    prefixes: all.filter((n) => n.endsWith('_')),
  };
}

/** The settings the example names, set or commented out (`NAME=` or `#NAME=` at a line's start). */
const exampleSettings = (text: string) =>
  [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({
    name: m[1] as string,
    value: m[2] as string,
    commented: (m[0] as string).startsWith('#'),
  }));

describe('deploy/worker.env.example', () => {
  const config = configSettings();
  const example = exampleSettings(envExample);
  const isReal = (name: string) => config.names.has(name) || config.prefixes.some((p) => name.startsWith(p));

  it('reads its settings from the places the test looks (the lists are not empty)', () => {
    expect(config.names).toContain('WABA_METRICS_ADDRESS');
    expect(config.names).toContain('TEMPORAL_API_KEY');
    expect(config.prefixes).toContain('TEMPORAL_GRPC_META_');
    for (const name of Object.keys(NOT_THE_WORKERS)) expect(config.names, name).toContain(name);
  });

  it('names only settings the worker really reads', () => {
    const unknown = example.map((s) => s.name).filter((n) => !isReal(n) || n in NOT_THE_WORKERS);
    expect(unknown).toEqual([]);
    const names = example.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('names every setting the worker reads', () => {
    const named = example.map((s) => s.name);
    const missing = [...config.names].filter(
      (n) => !(n in NOT_THE_WORKERS) && !/^TEMPORAL_TLS_(CERT|KEY|CA)$/.test(n) && !named.includes(n),
    );
    expect(missing).toEqual([]);
    for (const prefix of config.prefixes)
      expect(
        named.some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('gives secrets as files: every inline form is commented out and empty', () => {
    const inline = [
      'WABA_CODEC_KEYS',
      'WABA_NOTIFY_WEBHOOK_URL',
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS_CLIENT_KEY_DATA',
    ];
    for (const name of inline)
      expect(
        example.find((s) => s.name === name),
        name,
      ).toMatchObject({ commented: true, value: '' });
    for (const s of example.filter((x) => /_(FILE|PATH)$/.test(x.name)))
      expect(s.value, s.name).toMatch(/^\/etc\/waba-runbooks\//);
  });
});
