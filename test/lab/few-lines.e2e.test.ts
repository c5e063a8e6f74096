// What an operator types now that the worker holds the inventory (issue 11): haSetup, upgrade and
// uninstall started with inputs of a few lines, once through the CLI and once through the Temporal
// Web UI's start form in a real browser (Debian's chromium, typing as a person does), on the lab.
// This file runs its own dev server with the Web UI (the suite's is headless) and its own worker.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import { PROJECT_ROOT } from '../../src/config';
import { type DevServer, startDevServer } from '../../src/devserver';
import { freePort } from '../../src/free-port';
import { statusQuery } from '../../workflows/api';
import { browserUnavailable, launchChromium, startFromWebUi } from '../support/browser';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { keyOf } from './decide';
import { inputFile, smsCode, TestInventory, until } from './e2e-support';

const execFileAsync = promisify(execFile);
const unavailable = (await labUnavailable()) ?? browserUnavailable();
const TASK_QUEUE = `waba-lab-few-lines-${process.pid}`;
const FROM = '2.23.4';
const TO = '2.29.1';

/** The three inputs, as short as an operator writes them. */
const INPUTS = {
  haSetup: { cluster: 'lab', requestedBy: 'carol' },
  upgrade: { cluster: 'lab', toVersion: TO, requestedBy: 'carol', timeouts: { health: '1m' } },
  uninstall: { cluster: 'lab', requestedBy: 'carol' },
} as const;

describe.skipIf(unavailable)('inputs of a few lines, through the CLI and the Web UI, on the lab', () => {
  const inventory = new TestInventory('few-lines');
  let server: DevServer;
  let worker: WorkerProcess | undefined;
  let connection: Connection;
  let client: Client;
  let browser: Browser;

  const cli = async (...args: string[]) => {
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, WABA_TASK_QUEUE: TASK_QUEUE };
    try {
      const { stdout, stderr } = await execFileAsync(path.join(PROJECT_ROOT, 'bin/waba-runbooks'), args, {
        env,
        timeout: 60_000,
      });
      return { code: 0, out: stdout + stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, out: err.stdout + err.stderr };
    }
  };
  const status = (id: string) => client.workflow.getHandle(id).query(statusQuery);
  const gate = (id: string, name: string) =>
    until(
      `gate ${name} of ${id}`,
      () => status(id),
      (s) => Boolean(s.pendingGates?.some((g) => g.gate === name)),
      180_000,
    );
  /**
   * Approve with the lab key of `as`; a run started unsigned (the Web UI's form) does not know who
   * asked, so with self-approval off its gates need one more approver (TRUST.md rule 7): `second`.
   */
  const approveByCli = async (id: string, name: string, as: string, second?: string) => {
    await gate(id, name);
    for (const who of [as, ...(second ? [second] : [])]) {
      const r = await cli('approve', id, '--gate', name, '--as', who, ...keyOf(who));
      expect(r.code, r.out).toBe(0);
    }
  };
  /** A workflow id the Web UI's form accepts and a second path does not reuse. */
  const uiId = (runbook: string) => `lab/${runbook}/web-ui-${Date.now()}`;

  /** haSetup, approval and code, then upgrade and approval, then uninstall and approval. */
  async function threeRunbooks(
    start: (runbook: keyof typeof INPUTS, id: string) => Promise<void>,
    ids: (r: string) => string,
    signedStart: boolean,
  ) {
    const second = signedStart ? undefined : 'bob';
    await cleanSlate('MYSQL');
    await inventory.setVersion('lab', FROM);

    const ha = ids('haSetup');
    await start('haSetup', ha);
    await approveByCli(ha, 'register', 'alice', second);
    await until(
      'the code wait',
      () => status(ha),
      (s) => s.awaitingCode === true,
      60_000,
    );
    expect((await cli('code', ha, await smsCode('MYSQL'), '--as', 'alice', ...keyOf('alice'))).code).toBe(0);
    const setUp = (await client.workflow.getHandle(ha).result()) as {
      health: { verdict: string };
      version: string;
    };
    expect(setUp).toMatchObject({ version: FROM, health: { verdict: 'ha-connected' } });

    const upgrade = ids('upgrade');
    await start('upgrade', upgrade);
    await approveByCli(upgrade, 'upgrade', signedStart ? 'bob' : 'alice', second);
    const upgraded = (await client.workflow.getHandle(upgrade).result()) as {
      fromVersion: string;
      toVersion: string;
      health: { verdict: string };
      inventory: { specHash: string };
    };
    expect(upgraded).toMatchObject({ fromVersion: FROM, toVersion: TO, health: { verdict: 'ha-connected' } });
    expect(upgraded.inventory.specHash).toMatch(/^[0-9a-f]{64}$/);
    // As an operator does after an upgrade: the inventory says what the cluster runs now.
    await inventory.setVersion('lab', TO);

    const uninstall = ids('uninstall');
    await start('uninstall', uninstall);
    await approveByCli(uninstall, 'uninstall', 'alice', second);
    expect(await client.workflow.getHandle(uninstall).result()).toMatchObject({ nothingToDo: false });
  }

  beforeAll(async () => {
    await up({ log: () => {} });
    server = await startDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: null,
      logFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'waba-ui-')), 'devserver.log'),
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    await inventory.write();
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: server.address,
      WABA_TASK_QUEUE: TASK_QUEUE,
      WABA_INVENTORY: inventory.file,
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.kill('SIGTERM');
    await connection?.close();
    await server?.stop();
  });

  it('the CLI: haSetup, upgrade and uninstall from input files of a few lines', async () => {
    const files = Object.fromEntries(
      Object.entries(INPUTS).map(([runbook, input]) => [runbook, inputFile(`few-${runbook}`, input)]),
    );
    for (const file of Object.values(files))
      expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(10);
    await threeRunbooks(
      async (runbook) => {
        const r = await cli('start', runbook, '--input', files[runbook] as string, ...keyOf('carol'));
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain(`"workflowId": "lab/${runbook}"`);
      },
      (runbook) => `lab/${runbook}`,
      true,
    );
  });

  it("the Web UI's start form: the same three, typed as a person does", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    try {
      const ids = new Map<string, string>();
      await threeRunbooks(
        async (runbook, id) => {
          await startFromWebUi(page, server.uiUrl as string, {
            workflowId: id,
            taskQueue: TASK_QUEUE,
            workflowType: runbook,
            input: INPUTS[runbook],
          });
          // The run got exactly the typed input.
          const history = await client.workflow.getHandle(id).fetchHistory();
          const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
          expect(JSON.parse(Buffer.from(payload?.data ?? []).toString('utf8'))).toEqual(INPUTS[runbook]);
        },
        (runbook) => {
          const id = ids.get(runbook) ?? uiId(runbook);
          ids.set(runbook, id);
          return id;
        },
        false,
      );
      // The runs list the Web UI shows carries them, by cluster, with their step.
      await page.goto(
        `${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent("WabaCluster = 'lab'")}`,
      );
      await until(
        'the runs in the Web UI list',
        async () => page.content(),
        (html) => html.includes('web-ui-'),
        30_000,
      );
    } finally {
      await page.close();
      await sleep(100);
    }
  });
});
