// The watchdog on a real dev server (the official CLI): a server whose process died, one that stopped
// answering (SIGSTOP: alive, its port open, nothing served), and one wedged the way CI saw it (its
// SQLite driver left interrupted by requests cancelled mid-query: every call then answers
// "interrupted (9)") are restarted on the same port and SQLite file, and the runs they held are still
// there for the same client connection.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, startDevServer } from '../../src/devserver';
import { type Watchdog, type WatchdogOptions, watchDevServer } from '../../src/devserver-watchdog';
import { freePort } from '../../src/free-port';

async function until(done: () => boolean, what: string, ms = 45_000) {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(100);
  if (!done()) throw new Error(`not within ${ms / 1000} s: ${what}`);
}

/**
 * Requests with deadlines of about their own latency, 50 at a time, until a plain DescribeNamespace
 * answers "interrupted (9)" (the driver's race: seen within 30 s of this on the lab machine) or
 * `wedged()` says the watchdog saw it first; at most `ms`.
 */
async function cancelQueriesUntilWedged(address: string, wedged: () => boolean, ms: number) {
  const connection = await Connection.connect({ address, interceptors: [] }); // no retries: see each answer
  const deadlinesMs = [0.5, 1, 1.5, 2, 3, 4];
  const stopAt = Date.now() + ms;
  let sent = 0;
  try {
    while (Date.now() < stopAt && !wedged()) {
      const batch = Array.from({ length: 50 }, (_, i) =>
        connection
          .withDeadline(Date.now() + (deadlinesMs[i % deadlinesMs.length] as number), async () => {
            if (i % 2) await connection.workflowService.describeNamespace({ namespace: 'default' });
            else
              await connection.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 5 });
          })
          .catch(() => undefined),
      );
      await Promise.all(batch);
      sent += batch.length;
      const plain = await connection.workflowService.describeNamespace({ namespace: 'default' }).then(
        () => '',
        (err: Error) => err.message,
      );
      if (plain.includes('interrupted (9)')) return sent;
    }
    if (wedged()) return sent;
    throw new Error(`the server did not wedge within ${ms / 1000} s (${sent} cancelled requests)`);
  } finally {
    await connection.close();
  }
}

describe('the dev server watchdog, on a real dev server', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-watchdog-'));
  const reasons: string[] = [];
  let server: DevServer;
  let watchdog: Watchdog;
  let connection: Connection;
  let client: Client;

  /** A new watchdog for each case (the last one stopped first); what it restarts for goes to `reasons`. */
  const watch = async (options: Partial<WatchdogOptions>) => {
    await watchdog?.stop();
    reasons.length = 0;
    watchdog = watchDevServer(server, {
      namespace: 'default',
      intervalMs: 250,
      probeTimeoutMs: 1_000,
      failuresBeforeRestart: 3,
      ...options,
      onRestart: (reason) => reasons.push(reason),
    });
  };

  beforeAll(async () => {
    server = await startDevServer({
      port: await freePort(),
      uiPort: false,
      dbFile: path.join(tmp, 'temporal.sqlite'),
      logFile: path.join(tmp, 'devserver.log'),
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
  });

  afterAll(async () => {
    await watchdog?.stop();
    await connection?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A run no worker polls for: it stays open, held only by the server's store. */
  const startRun = (workflowId: string) =>
    client.workflow.start('nobodyRunsThis', { taskQueue: `unpolled-${process.pid}`, workflowId });

  it('a killed server is started again at once, with the runs it held', async () => {
    await watch({});
    await startRun('held-across-a-kill');
    const before = server.pid;
    expect(before).toBeGreaterThan(1);
    process.kill(before as number, 'SIGKILL');
    await until(() => server.pid !== before && server.running(), 'a new server process');
    expect(reasons).toEqual(['its process exited']);
    const run = await client.workflow.getHandle('held-across-a-kill').describe();
    expect(run.status.name).toBe('RUNNING');
  });

  it('a server that stops answering is restarted once it has been silent for silentForMs, with the runs it held', async () => {
    await watch({ silentForMs: 2_000 });
    await startRun('held-across-a-hang');
    const before = server.pid as number;
    process.kill(before, 'SIGSTOP');
    try {
      await until(() => server.pid !== before && server.running(), 'a new server process');
    } finally {
      // Only if the watchdog did not (its restart stops the old one, SIGCONT included).
      try {
        process.kill(before, 'SIGKILL');
      } catch {}
    }
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^no answer for [2-9] s, the last probe: .+/);
    const run = await client.workflow.getHandle('held-across-a-hang').describe();
    expect(run.status.name).toBe('RUNNING');
    const earlier = await client.workflow.getHandle('held-across-a-kill').describe();
    expect(earlier.status.name).toBe('RUNNING');
    expect(watchdog.restarts).toBe(1);
  });

  it('a server wedged by its SQLite driver (every call: interrupted (9)) is restarted and answers again', async () => {
    // Silence is not what is tested here (the load starves the probes too): only errors it answers.
    await watch({ silentForMs: 600_000 });
    await startRun('held-across-a-wedge');
    const before = server.pid;
    const sawWedge = () => reasons.length > 0;
    await cancelQueriesUntilWedged(server.address, sawWedge, 120_000);
    await until(sawWedge, 'the watchdog to restart the wedged server');
    await until(() => server.pid !== before && server.running(), 'a new server process');
    expect(reasons).toEqual([
      expect.stringMatching(/^3 probes in a row answered with an error, the last: .*interrupted \(9\)/),
    ]);
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    const run = await client.workflow.getHandle('held-across-a-wedge').describe();
    expect(run.status.name).toBe('RUNNING');
  }, 180_000);
});
