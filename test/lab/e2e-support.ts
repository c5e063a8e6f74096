// Shared by the runbook end-to-end tests on the lab: the operator CLI, bounded waits, input files.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expect, inject } from 'vitest';
import { approve, sendCode, startRunbook } from '../../src/client/runbooks';
import { PROJECT_ROOT } from '../../src/config';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { VNAME_CERT_FILE } from './cluster-json';
import { cleanSlate } from './operator';

export const execFileAsync = promisify(execFile);

/** The runbooks worker as a separate process (tests SIGKILL it) on `taskQueue`, against the suite's server. */
export const labWorker = (taskQueue: string): Promise<WorkerProcess> =>
  startWorkerProcess({ TEMPORAL_ADDRESS: inject('temporalAddress'), WABA_TASK_QUEUE: taskQueue });

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

export interface RunStatus {
  stage: string;
  pendingGates?: { gate: string }[];
  awaitingCode?: boolean;
}

export const statusOf = (client: Client, id: string) =>
  client.workflow.getHandle(id).query<RunStatus>('status');

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

/** haSetup on a clean slate, approved and registered through the client helpers: one Coreapp connected. */
export async function setUpHa(
  client: Client,
  taskQueue: string,
  cluster: unknown,
  engine: 'MYSQL' | 'PGSQL' = 'MYSQL',
): Promise<HaSetupOutcome> {
  await cleanSlate(engine);
  const { workflowId } = await startRunbook(client, taskQueue, 'haSetup', {
    cluster,
    registration: { cc: '1', phoneNumber: '5550100', method: 'sms', certRef: `file:${VNAME_CERT_FILE}` },
    approvals: { approvers: ['alice', 'bob'], timeout: '10m' },
    requestedBy: 'carol',
  });
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
