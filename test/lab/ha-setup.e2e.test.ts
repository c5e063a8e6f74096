// haSetup and multiconnectExpand end to end on the lab: real worker process, real SSH, real Docker
// and docker-compose with the unmodified upstream file, real MariaDB; the operator approves and types
// the code through the CLI. The worker is SIGKILLed mid-compose and mid-approval (haSetup) and while
// multiconnectExpand waits for its approval; each run finishes, and `scripts/lab stats` (the lab's
// own counters, as an operator reads them) shows register, verify and shards each called once.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_PASSWORD_FILE } from '../../lab/database';
import { ADMIN_PASSWORD_FILE, VNAME_CERT_FILE } from '../../lab/inventory';
import { labState, up } from '../../lab/lab';
import { cleanSlate, ssh } from '../../lab/operator';
import { hostDir } from '../../lab/paths';
import { PROJECT_ROOT } from '../../src/config';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import { historyText, testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { keyOf } from './decide';
import {
  cli,
  execFileAsync,
  failureOf as failureOfRun,
  inputFile,
  labStats,
  labWorker,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-e2e-${process.pid}`;

const sshLogins = () =>
  labState().hosts.reduce(
    (n, h) =>
      n +
      (readFileSync(path.join(hostDir(h.name), 'sshd.log'), 'utf8').match(/Accepted publickey/g)?.length ??
        0),
    0,
  );

describe.skipIf(unavailable)('haSetup and multiconnectExpand on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const inventory = new TestInventory('ha-setup');
  // What an operator writes: the cluster's name and who asks (the inventory holds the rest).
  const haInput = (overrides: Record<string, unknown> = {}) => ({
    cluster: 'lab',
    requestedBy: 'carol',
    ...overrides,
  });
  const stats = () => labStats('MYSQL');
  const delta = (after: Record<string, number>, before: Record<string, number>, k: string) =>
    (after[k] ?? 0) - (before[k] ?? 0);
  const describeRun = (id: string) => client.workflow.getHandle(id).describe();
  const status = (id: string) => client.workflow.getHandle(id).query(statusQuery) as Promise<GatedRunStatus>;
  const failureOf = (id: string) => failureOfRun(client, id);
  const scheduledActivities = async (id: string) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name
        ? [e.activityTaskScheduledEventAttributes.activityType.name]
        : [],
    );
  };

  beforeAll(async () => {
    await up({ log: () => {} });
    await cleanSlate('MYSQL');
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('haSetup: a worker SIGKILLed mid-compose and mid-approval, approval and code through the CLI, one Coreapp connected', async () => {
    const statsBefore = await stats();
    // An input of a few lines: the cluster's name and who asks.
    const file = inputFile('ha', haInput());
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThanOrEqual(5);
    const started = await cli(TASK_QUEUE, 'start', 'haSetup', '--input', file, ...keyOf('carol'));
    expect(started.out).toContain('"workflowId": "lab/haSetup"');
    expect(started.code).toBe(0);
    const id = 'lab/haSetup';

    // (a) SIGKILL while a compose `up -d` is in flight, then a new worker.
    await until(
      'a compose up in flight',
      () => describeRun(id),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'composeUp'),
      90_000,
    );
    await worker?.kill('SIGKILL');
    worker = await labWorker(TASK_QUEUE, inventory);

    // (b) SIGKILL while the run waits at the approval gate, then a new worker.
    await until(
      'the register gate',
      () => status(id),
      (s) => s.pendingGates?.some((g) => g.gate === 'register'),
      180_000,
    );
    await worker?.kill('SIGKILL');
    worker = await labWorker(TASK_QUEUE, inventory);

    // The requester may not approve their own run, nor may a stranger; an approver may.
    const self = await cli(
      TASK_QUEUE,
      'approve',
      id,
      '--gate',
      'register',
      '--as',
      'carol',
      ...keyOf('carol'),
    );
    expect(self.code).not.toBe(0);
    expect(self.out).toContain('carol');
    const approved = await cli(
      TASK_QUEUE,
      'approve',
      id,
      '--gate',
      'register',
      '--as',
      'alice',
      '--comment',
      'lab rehearsal',
      ...keyOf('alice'),
    );
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('"state": "approved"');

    await until(
      'the code wait',
      () => status(id),
      (s) => s.awaitingCode === true,
      60_000,
    );
    const { stdout: code } = await execFileAsync(path.join(PROJECT_ROOT, 'scripts/lab'), ['sms-code']);
    const sent = await cli(TASK_QUEUE, 'code', id, code.trim(), '--as', 'alice', ...keyOf('alice'));
    expect(sent.code).toBe(0);

    const result = (await client.workflow.getHandle(id).result()) as {
      health: { verdict: string };
      registration: { status: number; codeBy: string };
    };
    expect(result.health.verdict).toBe('ha-connected');
    expect(result.registration).toMatchObject({ status: 202, codeBy: 'alice' });
    const statsAfter = await stats();
    expect(delta(statsAfter, statsBefore, 'register')).toBe(1);
    expect(delta(statsAfter, statsBefore, 'verify')).toBe(1);
    expect(delta(statsAfter, statsBefore, 'shards')).toBe(0);

    // Secrets stay on the worker: neither the DB nor the admin password is in the history.
    const history = historyText(await client.workflow.getHandle(id).fetchHistory());
    expect(history).not.toContain(readFileSync(DB_PASSWORD_FILE, 'utf8').trim());
    expect(history).not.toContain(readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim());
    expect(history).not.toContain(readFileSync(VNAME_CERT_FILE, 'utf8').trim());
    // The resolved spec (references only) and its hash are recorded and shown.
    const done = await status(id);
    expect(done).toMatchObject({
      inventory: { source: inventory.file, specHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });

    // The containers really run the upstream file's services, one per host.
    const web = labState().hosts.find((h) => h.role === 'webapp') as { address: string };
    expect(await ssh(web.address, 'docker ps --format "{{.Names}} {{.Image}}"')).toContain(
      'biz_waweb_1 docker.whatsapp.biz/web:v2.23.4',
    );
  });

  it('multiconnectExpand: a worker SIGKILLed at the shards gate; 2 shards, core3 joins as standby; shards set exactly once', async () => {
    const statsBefore = await stats();
    // core3 is a spare host of the lab's inventory entry: the input names it.
    const input = { cluster: 'lab', shards: 2, addCoreapps: ['core3'], requestedBy: 'carol' };
    const started = await cli(
      TASK_QUEUE,
      'start',
      'multiconnectExpand',
      '--input',
      inputFile('mc', input),
      ...keyOf('carol'),
    );
    expect(started.code).toBe(0);
    const id = 'lab/multiconnectExpand';
    await until(
      'the shards gate',
      () => status(id),
      (s) => s.pendingGates?.some((g) => g.gate === 'shards'),
      60_000,
    );
    // SIGKILL while the run waits for the approval, then a new worker: the run goes on from the gate.
    await worker?.kill('SIGKILL');
    worker = await labWorker(TASK_QUEUE, inventory);
    const approved = await cli(TASK_QUEUE, 'approve', id, '--gate', 'shards', '--as', 'bob', ...keyOf('bob'));
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('"state": "approved"');
    const result = (await client.workflow.getHandle(id).result()) as {
      health: { verdict: string; nodes: { host: string; gatewayStatus: string }[] };
    };
    expect(result.health.verdict).toBe('multiconnect-connected:2');
    // core3 is a standby: listed, and not connected (the two shards are served by core1 and core2).
    const core3 = labState().hosts.find((h) => h.name === 'core3');
    const core3Nodes = result.health.nodes.filter((n) => n.host === core3?.address);
    expect(core3Nodes.map((n) => n.gatewayStatus)).toEqual(['disconnected']);
    const statsAfter = await stats();
    expect(delta(statsAfter, statsBefore, 'shards')).toBe(1);
    expect(delta(statsAfter, statsBefore, 'register')).toBe(0);
    expect(delta(statsAfter, statsBefore, 'verify')).toBe(0);
    // Approved once, by bob, although the worker died while the gate was open.
    const history = await scheduledActivities(id);
    expect(history.filter((a) => a === 'wabaSetShards')).toHaveLength(1);
    expect(history.filter((a) => a === 'composeUp')).toHaveLength(1);
  });

  it('haSetup again on the set-up cluster: every stage checked, nothing done twice, what it found reported', async () => {
    const statsBefore = await stats();
    const id = `lab/haSetup/rerun-${Date.now()}`;
    await client.workflow.start('haSetup', { taskQueue: TASK_QUEUE, workflowId: id, args: [haInput()] });
    const result = (await client.workflow.getHandle(id).result()) as {
      alreadyRegistered: boolean;
      uploads: { uploaded: boolean }[];
      found: string[];
      registration: { status: string };
    };
    expect(result.alreadyRegistered).toBe(true);
    expect(result.registration).toEqual({ status: 'skipped' });
    expect(result.uploads.every((u) => !u.uploaded)).toBe(true);
    expect(result.found).toEqual(
      expect.arrayContaining([
        'waweb already running on web1 (v2.23.4)',
        'master already running on master1 (v2.23.4)',
        'wacore already running on core2 (v2.23.4)',
      ]),
    );
    const activities = await scheduledActivities(id);
    expect(activities).not.toContain('composeUp');
    expect(activities).not.toContain('wabaRegister');
    const statsAfter = await stats();
    for (const k of ['register', 'verify', 'shards']) expect(delta(statsAfter, statsBefore, k), k).toBe(0);
  });

  it('a host-key mismatch fails the run before any command runs', async () => {
    // An inventory entry whose pin for core1 is another machine's key.
    await inventory.addCluster('lab-keytest', (c) => {
      c.workDir = '/root/biz-keytest';
      c.ssh.knownHosts.core1 = c.ssh.knownHosts.web1 as string;
    });
    const id = `lab-keytest/haSetup/${Date.now()}`;
    await client.workflow.start('haSetup', {
      taskQueue: TASK_QUEUE,
      workflowId: id,
      args: [haInput({ cluster: 'lab-keytest' })],
    });
    const failure = await failureOf(id);
    expect(failure.type).toBe('HostKeyMismatch');
    expect(failure.message).toContain('host key of core1');
    // From the run's history: the SSH stage was the host-key check alone; no preflight, no command.
    expect(await scheduledActivities(id)).toEqual([
      'resolveCluster',
      'acquireClusterLock',
      'checkDbSecret',
      'checkHostKeys',
      'notify',
      'releaseClusterLock',
    ]);
    for (const h of labState().hosts)
      expect((await ssh(h.address, 'ls -d /root/biz-keytest 2>/dev/null || echo absent')).trim()).toBe(
        'absent',
      );
  });

  it('bad input, a cluster the inventory lacks and a forbidden DB password character: refused before any SSH connection', async () => {
    const loginsBefore = sshLogins();
    // The CLI validates locally and names the field: an inline spec and a moved field.
    const bad = haInput({ cluster: { name: 'lab', hosts: [] }, registration: { certRef: 'env:HOME' } });
    const local = await cli(TASK_QUEUE, 'start', 'haSetup', '--input', inputFile('bad', bad));
    expect(local.code).toBe(2);
    expect(local.out).toContain('cluster: expected the name of a cluster in the worker inventory');
    expect(local.out).toContain(
      'registration: unknown field: the number, certificate and PIN live in the inventory',
    );

    // Started directly (as the Web UI would), the workflow refuses it too, with no activity.
    const idBad = `lab/haSetup/bad-${Date.now()}`;
    await client.workflow.start('haSetup', { taskQueue: TASK_QUEUE, workflowId: idBad, args: [bad] });
    expect((await failureOf(idBad)).type).toBe('InvalidInput');
    expect(await scheduledActivities(idBad)).toEqual([]);

    // A cluster the worker's inventory lacks: named, and nothing but the lookup ran.
    const idUnknown = `prodd/haSetup/${Date.now()}`;
    await client.workflow.start('haSetup', {
      taskQueue: TASK_QUEUE,
      workflowId: idUnknown,
      args: [haInput({ cluster: 'prodd' })],
    });
    const unknown = await failureOf(idUnknown);
    expect(unknown.type).toBe('UnknownCluster');
    expect(unknown.message).toContain('cluster "prodd" is not in the worker\'s inventory');
    expect(await scheduledActivities(idUnknown)).toEqual(['resolveCluster', 'notify']);

    // The DB password is a reference of the inventory: checked on the worker, first and alone.
    const pwFile = path.join(os.tmpdir(), `waba-e2e-${process.pid}-badpw`);
    writeFileSync(pwFile, 'lab(pass)word\n');
    await inventory.addCluster('lab-badpw', (c) => {
      c.db.passwordRef = `file:${pwFile}`;
    });
    const idPw = `lab-badpw/haSetup/${Date.now()}`;
    await client.workflow.start('haSetup', {
      taskQueue: TASK_QUEUE,
      workflowId: idPw,
      args: [haInput({ cluster: 'lab-badpw' })],
    });
    const pw = await failureOf(idPw);
    expect(pw.type).toBe('DbPasswordRejected');
    // Not which character: the message lands in history, and the password is secret.
    expect(pw.message).toContain('contains a character the client does not accept');
    expect(pw.message).not.toContain('lab(pass)word');
    // Nothing touched a host: the lookup, the cluster lock, the secret check, the failure
    // notification (chat), the lock's release.
    expect(await scheduledActivities(idPw)).toEqual([
      'resolveCluster',
      'acquireClusterLock',
      'checkDbSecret',
      'notify',
      'releaseClusterLock',
    ]);

    expect(sshLogins()).toBe(loginsBefore);
  });
});
