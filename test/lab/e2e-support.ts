// Shared by the runbook end-to-end tests on the lab: the operator CLI, bounded waits, input files.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expect, inject } from 'vitest';
import { type LabInventoryDoc, readLabInventory, writeInventory } from '../../lab/inventory';
import { docker } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import { signWebhook } from '../../src/chatops/verify';
import { startRunbook } from '../../src/client/runbooks';
import { PROJECT_ROOT } from '../../src/config';
import { statusQuery } from '../../workflows/api';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { approve, labSigner, sendCode } from './decide';

export const execFileAsync = promisify(execFile);

/**
 * The runbooks worker as a separate process (tests SIGKILL it) on `taskQueue`, against the suite's
 * server, reading `inventory` (a test file's own copy of the lab's, see TestInventory).
 */
export const labWorker = (
  taskQueue: string,
  inventory: TestInventory,
  env: Record<string, string> = {},
): Promise<WorkerProcess> =>
  startWorkerProcess({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    WABA_TASK_QUEUE: taskQueue,
    WABA_INVENTORY: inventory.file,
    ...env,
  });

/**
 * A test file's own copy of the lab's inventory (.lab/inventory.yaml), which its worker reads and
 * the test edits as an operator would (a version after an upgrade, a cluster of its own for a
 * fault). The worker looks at the file at most once a second: `write` waits that long.
 */
export class TestInventory {
  readonly file: string;
  private doc: LabInventoryDoc | undefined;
  constructor(tag: string) {
    this.file = path.join(os.tmpdir(), `waba-${tag}-${process.pid}-inventory.yaml`);
  }

  /** The lab's inventory, changed by `change`, written for the worker; returns the document. */
  async write(change: (doc: LabInventoryDoc) => void = () => {}): Promise<LabInventoryDoc> {
    const doc = this.doc ?? readLabInventory();
    change(doc);
    writeInventory(this.file, doc);
    this.doc = doc;
    await sleep(1_100);
    return doc;
  }

  /** As an operator after an upgrade (or before setting a cluster up at another version). */
  setVersion(cluster: string, version: string): Promise<LabInventoryDoc> {
    return this.write((doc) => {
      const entry = doc.clusters[cluster];
      if (!entry) throw new Error(`no cluster ${cluster} in the test inventory`);
      entry.version = version;
    });
  }

  /** Another cluster on the lab's hosts: a copy of `from` with `change` applied. */
  addCluster(
    name: string,
    change: (entry: LabInventoryDoc['clusters'][string]) => void,
    from = 'lab',
  ): Promise<LabInventoryDoc> {
    return this.write((doc) => {
      const entry = structuredClone(doc.clusters[from]);
      if (!entry) throw new Error(`no cluster ${from} in the test inventory`);
      change(entry);
      doc.clusters[name] = entry;
    });
  }
}

export async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch {
      // a query fails while no worker polls; keep trying until the deadline
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await sleep(150);
  }
}

/** The operator CLI, as a person runs it, against the suite's server and the test's task queue. */
export async function cli(taskQueue: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), WABA_TASK_QUEUE: taskQueue };
  try {
    const { stdout, stderr } = await execFileAsync(path.join(PROJECT_ROOT, 'bin/waba-runbooks'), args, {
      env,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

export function inputFile(name: string, input: unknown): string {
  const file = path.join(os.tmpdir(), `waba-e2e-${process.pid}-${name}.json`);
  writeFileSync(file, JSON.stringify(input, null, 2));
  return file;
}

export async function smsCode(engine = 'MYSQL'): Promise<string> {
  const { stdout } = await execFileAsync(path.join(PROJECT_ROOT, 'scripts/lab'), [
    'sms-code',
    '--engine',
    engine,
  ]);
  return stdout.trim();
}

/** The simulator's counters of side-effecting API calls and dbupgrade runs (`scripts/lab stats`). */
export async function labStats(engine = 'MYSQL'): Promise<Record<string, number>> {
  const { stdout } = await execFileAsync(path.join(PROJECT_ROOT, 'scripts/lab'), [
    'stats',
    '--engine',
    engine,
  ]);
  return JSON.parse(stdout) as Record<string, number>;
}

/** What a chat user types into the ChatOps webhook at `url`, HMAC-signed as the bot signs it; the reply. */
export async function chatWebhook(url: string, secret: string, user: string, text: string): Promise<string> {
  const body = JSON.stringify({ user, text });
  const t = String(Math.floor(Date.now() / 1000));
  const id = randomUUID();
  const res = await fetch(`${url}/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-waba-timestamp': t,
      'x-waba-request-id': id,
      'x-waba-signature': signWebhook(secret, t, id, body),
    },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return ((await res.json()) as { text: string }).text;
}

export const statusOf = (client: Client, id: string) => client.workflow.getHandle(id).query(statusQuery);

export const gateOpen = (client: Client, id: string, gate: string, timeoutMs = 120_000) =>
  until(
    `gate ${gate} of ${id}`,
    () => statusOf(client, id),
    (s) => Boolean(s.pendingGates?.some((g) => g.gate === gate)),
    timeoutMs,
  );

/** The ApplicationFailure a failed run ended with. */
export async function failureOf(client: Client, id: string): Promise<ApplicationFailure> {
  const err = await client.workflow
    .getHandle(id)
    .result()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause: unknown = (err as WorkflowFailedError).cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
  return cause as ApplicationFailure;
}

export interface HaSetupOutcome {
  health: { verdict: string; nodes: { host: string; role: string | null; gatewayStatus: string | null }[] };
}

/**
 * haSetup of `cluster` (at its inventory version) on a clean slate, approved and registered through
 * the client helpers: one Coreapp connected.
 */
export async function setUpHa(
  client: Client,
  taskQueue: string,
  cluster: string,
  engine: 'MYSQL' | 'PGSQL' = 'MYSQL',
): Promise<HaSetupOutcome> {
  await cleanSlate(engine);
  const { workflowId } = await startRunbook(
    client,
    taskQueue,
    'haSetup',
    { cluster, requestedBy: 'carol' },
    undefined,
    labSigner('carol'),
  );
  await gateOpen(client, workflowId, 'register', 180_000);
  await approve(client, workflowId, 'register', 'alice');
  await until(
    'the code wait',
    () => statusOf(client, workflowId),
    (s) => s.awaitingCode === true,
  );
  await sendCode(client, workflowId, await smsCode(engine), 'alice');
  const result = (await client.workflow.getHandle(workflowId).result()) as HaSetupOutcome;
  expect(result.health.verdict).toBe('ha-connected');
  return result;
}

/** When each app container on the host was created, as the host's Docker reports it. */
export async function appContainersCreated(
  host: string,
): Promise<{ host: string; service: string; created: number }[]> {
  const ids = (await docker(host, ['ps', '-aq'])).trim().split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const lines = await docker(host, [
    'inspect',
    '--format',
    '{{index .Config.Labels "com.docker.compose.service"}} {{.Created}}',
    ...ids,
  ]);
  return lines
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([service]) => service === 'waweb' || service === 'master' || service === 'wacore')
    .map(([service, created]) => ({
      host,
      service: service as string,
      // RFC 3339 with nanoseconds: keep milliseconds for Date.parse.
      created: Date.parse((created ?? '').replace(/(\.\d{3})\d*Z$/, '$1Z')),
    }));
}
