// The CLI as a process, command by command (issue 13): every command's --help; refusals (unknown
// flags and commands, bad arguments) with exit 2 before any connection, proved by a listener that
// records connections; and `-o json` of each command parsed and checked against runs on the dev
// server (a worker with the fake cluster), including `watch` ending 0 on a completed run and 1 on
// a rejected one, a refused decision (exit 3), YAML and standard-input inputs.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { buildProgram } from '../../src/cli/program';
import { PROJECT_ROOT } from '../../src/config';
import { RUNBOOK_NAMES } from '../../src/model/runbooks';
import { statusQuery } from '../../workflows/api';
import { type CliResult, runCli } from '../support/cli-process';
import {
  fakeCluster,
  haSetupInput,
  SEED,
  scenario,
  TIMEOUTS,
  uninstallInput,
  until,
  upgradeInput,
} from '../support/fake-cluster';
import { testClusterEntry, testInventoryDoc } from '../support/inventory';
import { testKey } from '../support/keys';

/** Every command path of the program, e.g. `schedule create` (hidden ones left out). */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands
    .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
    .flatMap((c) => {
      const here = [...prefix, c.name()];
      return [here, ...commandPaths(c, here)];
    });
}

let dir: string;
const file = (name: string, content: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, content, { mode: 0o600 });
  return f;
};
const keyFile = (name: string) => file(`${name}-key`, testKey(name).openSshPrivateKey);
const json = <T = Record<string, unknown>>(r: CliResult): T => {
  if (r.code !== 0 && r.code !== 1 && r.code !== 3) throw new Error(`exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
};

/** `watch -o json`'s output: one event object per line. */
const jsonLines = <T = Record<string, unknown>>(r: CliResult): T[] =>
  r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'waba-cli-commands-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every command has --help', () => {
  it('prints its usage and exits 0, without a server', async () => {
    const paths = commandPaths(buildProgram());
    expect(paths.length).toBeGreaterThan(20);
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    for (let i = 0; i < paths.length; i += 4) {
      const batch = paths.slice(i, i + 4);
      const results = await Promise.all(batch.map((p) => runCli([...p, '--help'], { env })));
      for (const [j, r] of results.entries()) {
        const p = (batch[j] as string[]).join(' ');
        expect(r.code, `${p} --help: ${r.err}`).toBe(0);
        expect(r.out).toContain(`Usage: waba-runbooks ${p}`);
      }
    }
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, out: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });
});

describe('refusals: exit 2 before any connection', () => {
  let listener: net.Server;
  let address = '';
  let connections = 0;
  beforeAll(async () => {
    listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(listener.address() as net.AddressInfo).port}`;
  });
  afterAll(() => listener.close());

  it('unknown flags and commands, missing or bad arguments and inputs are refused, naming what is wrong', async () => {
    const valid = file('valid.json', JSON.stringify(upgradeInput()));
    const invalid = file('invalid.yaml', 'cluster: lab\ntoVersion: latest\nrequestedBy: carol\n');
    const cases: [string[], string | RegExp][] = [
      [['start', 'upgrade', '-i', valid, '--dry-run'], "unknown option '--dry-run'"],
      [['stauts', 'lab/upgrade'], /unknown command 'stauts'\n\(Did you mean status\?\)/],
      [
        ['approve', 'lab/upgrade', '--gate', 'upgrade', '--coment', 'ok'],
        /unknown option '--coment'\n\(Did you mean --comment\?\)/,
      ],
      [['status'], "missing required argument 'workflow-id'"],
      [['list', 'extra'], 'too many arguments'],
      [['-o', 'yaml', 'list'], "argument 'yaml' is invalid. Allowed choices are text, json"],
      [['start', 'upgrade'], "required option '-i, --input <file>' not specified"],
      [['start', 'upgrade', '-i', invalid], 'invalid upgrade input:\n  toVersion:'],
      [['start', 'upgrad', '-i', valid], 'unknown runbook "upgrad"; one of: healthCheck'],
      [['start', 'upgrade', '-i', path.join(dir, 'nope.json')], 'no such file (ENOENT)'],
      [
        ['start', 'upgrade', '-i', valid, '--watch', '--interval', '0s'],
        '--interval must be a duration between 1s and 10m',
      ],
      [['watch', 'lab/upgrade', '--interval', 'soon'], '--interval must be a duration'],
      [['plan', 'upgrade'], 'plan upgrade needs --input FILE for a dry run'],
      [['reject', 'lab/upgrade', '--gate', 'upgrade'], "required option '--reason <text>' not specified"],
      [
        [
          'schedule',
          'create',
          'upgrade',
          '-i',
          valid,
          '--calendar',
          'sunday 3',
          '--tz',
          'Europe/Rome',
          '--note',
          'a: b',
        ],
        'calendar "sunday 3"',
      ],
      [
        [
          'schedule',
          'create',
          'upgrade',
          '-i',
          valid,
          '--calendar',
          'sun 03:00',
          '--tz',
          'CEST',
          '--note',
          'a: b',
        ],
        'time zone "CEST" is not an IANA time zone name',
      ],
      [['schedule', 'creat'], /unknown command 'creat'\n\(Did you mean create\?\)/],
      [
        [
          'sign',
          'preapprove',
          '--cluster',
          'lab',
          '--runbook',
          'upgrade',
          '--gate',
          'upgrade',
          '--plan',
          'ab'.repeat(32),
          '--reason',
          'CHG-1',
          '--as',
          'alice',
          '--valid',
          '40d',
        ],
        '--valid must be a duration of at most 30d',
      ],
      [['schema', 'nope'], 'schema of what? one of: healthCheck'],
      [['completion', 'fish'], 'completion for which shell? bash or zsh'],
      [['inventory', 'check', path.join(dir, 'missing.yaml')], 'missing.yaml'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { env: { TEMPORAL_ADDRESS: address } });
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      if (typeof message === 'string') expect(r.err).toContain(message);
      else expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
    expect(connections).toBe(0);
    // The listener does record a command that does connect.
    const tries = await runCli(['status', 'lab/upgrade'], { env: { TEMPORAL_ADDRESS: address } });
    expect(tries.code).toBe(1);
    expect(connections).toBeGreaterThan(0);
  });
});

describe('-o json of every command, against runs on the dev server', () => {
  const env = (taskQueue: string) => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    WABA_TASK_QUEUE: taskQueue,
  });

  it('start (YAML on stdin), status, plan, pending, sign, approve (refused: exit 3), code, watch and result', async () => {
    const cluster = `cli-${randomUUID().slice(0, 8)}`;
    await scenario(fakeCluster({ clusters: [cluster] }), async ({ client, taskQueue }) => {
      const cli = (...args: string[]) => runCli(['-o', 'json', ...args], { env: env(taskQueue) });
      const id = `${cluster}/haSetup`;
      // The input as YAML on standard input, the request signed with carol's key file.
      const yaml = stringify(haSetupInput({ timeouts: { ...TIMEOUTS } }, cluster));
      // A dry run first: only the read-only stages, the plan the first gate would show and its hash.
      const dry = await runCli(['-o', 'json', 'plan', 'haSetup', '-i', file(`${cluster}.yaml`, yaml)], {
        env: env(taskQueue),
        timeoutMs: 90_000,
      });
      expect(dry.code, dry.err).toBe(0);
      expect(json(dry)).toMatchObject({
        preview: true,
        cluster,
        runbook: 'haSetup',
        planHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      const started = await runCli(['-o', 'json', 'start', 'haSetup', '-i', '-', '--key', keyFile('carol')], {
        env: env(taskQueue),
        stdin: yaml,
      });
      expect(started.code, started.err).toBe(0);
      expect(json(started)).toMatchObject({
        workflowId: id,
        runbook: 'haSetup',
        signedWith: testKey('carol').signer.fingerprint,
        url: expect.stringContaining(encodeURIComponent(id)),
      });
      const handle = client.workflow.getHandle(id);
      await until(
        'the register gate',
        () => handle.query(statusQuery),
        (s) => Boolean(s.pendingGates?.some((g) => g.gate === 'register')),
        30_000,
      );

      const status = json<{ stage: string; requester: unknown; pendingGates: { plan: string }[] }>(
        await cli('status', id),
      );
      expect(status.stage).toBe('waiting for approval: register');
      expect(status.requester).toEqual({ name: 'carol', authenticated: true });
      const plan = status.pendingGates[0]?.plan as string;
      const text = await runCli(['-o', 'text', 'status', id], { env: env(taskQueue) });
      expect(text.out).toContain(`${id}: haSetup on ${cluster}\nstage: waiting for approval: register`);
      expect(text.out).toContain(`open gates: register (0/1, open `);

      const steps = json<{ workflowId: string; steps: { stage: string }[] }>(await cli('plan', id));
      expect(steps.workflowId).toBe(id);
      expect(steps.steps.map((s) => s.stage)).toContain('register');

      const pending = json<{ gates: Record<string, unknown>[]; unanswered: string[] }>(await cli('pending'));
      expect(pending.gates).toContainEqual(
        expect.objectContaining({
          cluster,
          runbook: 'haSetup',
          workflowId: id,
          gate: 'register',
          requestedBy: 'carol',
          plan,
          needed: 1,
        }),
      );
      const listed = json<{ workflowId: string }[]>(await cli('list'));
      expect(listed.map((r) => r.workflowId)).toContain(id);

      // A signed decision printed for the Web UI: nothing is sent.
      const signed = json<{ by: string; plan: string; signature: string }>(
        await cli('sign', 'approve', id, '--gate', 'register', '--key', keyFile('alice'), '--comment', 'ok'),
      );
      expect(signed).toMatchObject({ gate: 'register', by: 'alice', plan, comment: 'ok' });
      expect(signed.signature).toContain('BEGIN SSH SIGNATURE');

      // A gate that is not open, and carol (a requester, not an approver): refused, exit 3.
      const wrongGate = await cli('approve', id, '--gate', 'shards', '--key', keyFile('alice'));
      expect(wrongGate.code).toBe(3);
      expect(wrongGate.err).toContain('gate "shards" is not open');
      const notApprover = await cli('approve', id, '--gate', 'register', '--key', keyFile('carol'));
      expect(notApprover.code).toBe(3);
      expect(notApprover.err).toContain('belongs to no approver');

      const approved = await cli(
        'approve',
        id,
        '--gate',
        'register',
        '--key',
        keyFile('alice'),
        '--comment',
        'CHG-1',
      );
      expect(approved.code, approved.err).toBe(0);
      expect(json(approved)).toMatchObject({
        approvals: 1,
        needed: 1,
        state: 'approved',
        key: testKey('alice').signer.fingerprint,
      });

      await until(
        'the run to wait for the code',
        () => handle.query(statusQuery),
        (s) => Boolean(s.awaitingCode),
        30_000,
      );
      const code = await cli('code', id, '123456', '--key', keyFile('alice'));
      expect(code.code, code.err).toBe(0);
      expect(json(code)).toEqual({ accepted: true });

      // watch: one JSON object per line, the last one the end; exit 0 for a completed run.
      const watched = await runCli(['-o', 'json', 'watch', id, '--interval', '1s'], {
        env: env(taskQueue),
        timeoutMs: 90_000,
      });
      expect(watched.code, watched.err).toBe(0);
      const events = jsonLines<{ event: string; outcome?: string }>(watched);
      expect(events.at(-1)).toMatchObject({ event: 'end', outcome: 'completed' });
      const result = json<{ outcome: string; result: Record<string, unknown> }>(await cli('result', id));
      expect(result).toMatchObject({ outcome: 'completed', result: expect.objectContaining({ cluster }) });
    });
  });

  it('watch shows what a wait saw last (a health gate polled inside its activity), once per new reading', async () => {
    const cluster = `cli-${randomUUID().slice(0, 8)}`;
    // Degraded from the start: the upgrade's pre-upgrade health wait polls (2 min) until terminated.
    const fake = fakeCluster({
      clusters: [cluster],
      setUp: true,
      version: '2.29.1',
      health: () => SEED.degraded(),
    });
    await scenario(fake, async ({ client, taskQueue }) => {
      const id = `${cluster}/upgrade`;
      const input = file(`${cluster}-up.yaml`, stringify(upgradeInput({}, cluster)));
      const watching = runCli(
        [
          '-o',
          'text',
          'start',
          'upgrade',
          '-i',
          input,
          '--key',
          keyFile('carol'),
          '--watch',
          '--interval',
          '1s',
        ],
        { env: env(taskQueue), timeoutMs: 90_000 },
      );
      const handle = client.workflow.getHandle(id);
      await until('the run to start', () => handle.describe().catch(() => undefined), Boolean, 30_000);
      const watchingJson = runCli(['-o', 'json', 'watch', id, '--interval', '1s'], {
        env: env(taskQueue),
        timeoutMs: 90_000,
      });
      await until(
        'the health wait to heartbeat a reading',
        () => handle.describe().catch(() => undefined),
        (d) =>
          (d?.raw.pendingActivities ?? []).some(
            (a) =>
              a.activityType?.name === 'waitWabaHealth' && (a.heartbeatDetails?.payloads?.length ?? 0) > 0,
          ),
        30_000,
      );
      // A few more polls of the wait and of the watch: the same reading is not printed again.
      await new Promise((r) => setTimeout(r, 3_500));
      await handle.terminate('test: seen enough');
      const w = await watching;
      expect(w.code).toBe(1);
      const waits = w.out.split('\n').filter((l) => l.includes('  wait: '));
      expect(waits, w.out).toHaveLength(1);
      expect(waits[0]).toMatch(
        /^\d\d:\d\d:\d\d {2}wait: health "registered and healthy": degraded \(.*error 1011 Service not ready.*\) \(poll \d+\)$/,
      );
      expect(w.out).toMatch(/stage: pre-upgrade health\n.*wait: health/);
      // JSON: one `wait` event with the activity and its decoded details.
      const j = await watchingJson;
      const events = jsonLines(j);
      expect(events.filter((e) => e.event === 'wait')).toEqual([
        {
          event: 'wait',
          at: expect.any(String),
          activity: 'waitWabaHealth',
          details: expect.objectContaining({
            what: 'registered and healthy',
            summary: expect.objectContaining({ verdict: 'degraded', connectedCoreapps: 0 }),
          }),
        },
      ]);
    });
  });

  it('start --watch on a run that is rejected: the events, then exit 1 with the reason; result exits 1', async () => {
    const cluster = `cli-${randomUUID().slice(0, 8)}`;
    const fake = fakeCluster({ clusters: [cluster], setUp: true, version: '2.29.3' });
    await scenario(fake, async ({ client, taskQueue }) => {
      const id = `${cluster}/uninstall`;
      const input = file(`${cluster}.yaml`, stringify(uninstallInput({}, cluster)));
      const watching = runCli(
        [
          '-o',
          'json',
          'start',
          'uninstall',
          '-i',
          input,
          '--key',
          keyFile('carol'),
          '--watch',
          '--interval',
          '1s',
        ],
        { env: env(taskQueue), timeoutMs: 90_000 },
      );
      await until(
        'the uninstall gate',
        () =>
          client.workflow
            .getHandle(id)
            .query(statusQuery)
            .catch(() => ({ pendingGates: [] })),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      const rejected = await runCli(
        ['-o', 'json', 'reject', id, '--gate', 'uninstall', '--reason', 'not today', '--key', keyFile('bob')],
        { env: env(taskQueue) },
      );
      expect(rejected.code, rejected.err).toBe(0);
      expect(json(rejected)).toMatchObject({ state: 'rejected' });
      const w = await watching;
      expect(w.code).toBe(1);
      const events = jsonLines(w);
      expect(events[0]).toMatchObject({ event: 'started', workflowId: id });
      expect(events.some((e) => e.event === 'status')).toBe(true);
      expect(events.at(-1)).toMatchObject({
        event: 'end',
        outcome: 'failed',
        failure: expect.stringContaining('not today'),
      });
      expect(w.err).toContain(`${id} failed`);
      const result = await runCli(['-o', 'json', 'result', id], { env: env(taskQueue) });
      expect(result.code).toBe(1);
      expect(json(result)).toMatchObject({
        outcome: 'failed',
        failure: expect.stringContaining('not today'),
      });
    });
  });

  it('schedule create, list, describe, pause, unpause and delete; then describe is refused (exit 2)', async () => {
    const cluster = `cli-${randomUUID().slice(0, 8)}`;
    const taskQueue = `cli-schedules-${cluster}`;
    const cli = (...args: string[]) => runCli(['-o', 'json', ...args], { env: env(taskQueue) });
    const id = `test/${cluster}/upgrade`;
    const input = file(`${cluster}-upgrade.json`, JSON.stringify(upgradeInput({}, cluster)));
    const created = await cli(
      'schedule',
      'create',
      'upgrade',
      '-i',
      input,
      '--calendar',
      'sun 03:00',
      '--tz',
      'Europe/Rome',
      '--note',
      'alice: CLI test',
      '--id',
      id,
      '--runs',
      '1',
      '--key',
      keyFile('carol'),
    );
    expect(created.code, created.err).toBe(0);
    expect(json(created)).toMatchObject({
      scheduleId: id,
      cluster,
      signedWith: testKey('carol').signer.fingerprint,
    });
    try {
      const listed = await until(
        'the schedule in the list',
        async () =>
          json<{ scheduleId: string; paused: boolean }[]>(
            await cli('schedule', 'list', '--cluster', cluster),
          ),
        (all) => all.some((x) => x.scheduleId === id),
        20_000,
      );
      expect(listed.find((x) => x.scheduleId === id)).toMatchObject({ paused: false });
      expect(json(await cli('schedule', 'describe', id))).toMatchObject({
        scheduleId: id,
        runbook: 'upgrade',
        remainingActions: 1,
      });
      expect(json(await cli('schedule', 'pause', id, '--note', 'bob: freeze'))).toMatchObject({
        paused: true,
        note: 'bob: freeze',
      });
      expect(json(await cli('schedule', 'unpause', id))).toMatchObject({ paused: false });
      // Nobody polls this task queue: the triggered run stays open until terminated below.
      const triggered = json<{ started: boolean; workflowId: string }>(await cli('schedule', 'trigger', id));
      expect(triggered).toMatchObject({
        started: true,
        workflowId: expect.stringMatching(new RegExp(`^${cluster}/upgrade-`)),
      });
      const { Client, Connection } = await import('@temporalio/client');
      const connection = await Connection.connect({ address: inject('temporalAddress') });
      await new Client({ connection }).workflow.getHandle(triggered.workflowId).terminate('test over');
      await connection.close();
    } finally {
      const deleted = await cli('schedule', 'delete', id);
      expect(json(deleted)).toEqual({ scheduleId: id, deleted: true });
    }
    const gone = await cli('schedule', 'describe', id);
    expect(gone.code).toBe(2);
    expect(gone.err).toContain(`no schedule "${id}"`);
  });

  it('offline commands: inventory check, schema, audit of a saved history, completion', async () => {
    const offline = (...args: string[]) =>
      runCli(['-o', 'json', ...args], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    const inv = json<{ clusters: { name: string }[] }>(
      await offline('inventory', 'check', path.join(PROJECT_ROOT, 'examples/inventory.yaml')),
    );
    expect(inv.clusters.map((c) => c.name)).toEqual(['prod']);
    expect(json(await offline('schema', 'upgrade'))).toMatchObject({ title: 'waba-runbooks upgrade input' });
    const audit = await offline(
      'audit',
      'lab/upgrade/recorded',
      '--history',
      path.join(PROJECT_ROOT, 'test/histories/upgrade-with-children.json'),
      '--inventory',
      path.join(PROJECT_ROOT, 'examples/inventory.yaml'),
    );
    // The example inventory has no cluster "lab": the audit names it (exit 2), it does not guess keys.
    expect(audit.code).toBe(2);
    expect(audit.err).toContain('cluster lab has no approval policy in the inventory');
    const labInventory = file('lab-inventory.yaml', stringify(testInventoryDoc({ lab: testClusterEntry() })));
    const audited = await offline(
      'audit',
      'lab/upgrade/recorded',
      '--history',
      path.join(PROJECT_ROOT, 'test/histories/upgrade-with-children.json'),
      '--inventory',
      labInventory,
    );
    expect(audited.code, audited.err).toBe(0);
    const report = json<{ ok: boolean; lines: { what: string; by: string; ok: boolean }[] }>(audited);
    expect(report.ok).toBe(true);
    expect(report.lines.map((l) => `${l.what} ${l.by} ${l.ok}`)).toEqual([
      'start carol true',
      'approve alice true',
    ]);

    const bash = await offline('completion', 'bash');
    expect(bash.out).toContain('complete -o filenames -F _waba_runbooks waba-runbooks');
    const complete = async (...words: string[]) =>
      (await runCli(['__complete', '--', ...words], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } })).out
        .trim()
        .split('\n');
    expect(await complete('st')).toEqual(['start', 'status']);
    expect(await complete('start', '')).toEqual([...RUNBOOK_NAMES]);
    expect(await complete('start', 'upgrade', '--in')).toEqual(['--input', '--interval']);
    expect(await complete('-o', '')).toEqual(['text', 'json']);
    expect(await complete('schedule', 'de')).toEqual(['describe', 'delete']);
    expect(await complete('start', 'upgrade', '-i', '')).toEqual(['__files__']);
  });
});
