// The watchdog's decisions, with a fake server and scripted probes (the real server: test/e2e/devserver-watchdog.test.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { afterProbe, type Probe, type ProbeHistory, watchDevServer } from '../../src/devserver-watchdog';

const ok: Probe = { ok: true };
const failed = (error: string): Probe => ({ ok: false, silent: false, error });
const silent = (error = '4 DEADLINE_EXCEEDED: Deadline exceeded'): Probe => ({
  ok: false,
  silent: true,
  error,
});
const LIMITS = { failuresBeforeRestart: 3, silentForMs: 10_000 };

/** Fold probes taken a second apart; the restart reasons by probe index. */
function fold(probes: Probe[]): Record<number, string> {
  let history: ProbeHistory = { errorsInARow: 0 };
  const restarts: Record<number, string> = {};
  probes.forEach((probe, i) => {
    const next = afterProbe(history, probe, i * 1000, LIMITS);
    history = next.history;
    if (next.restart) restarts[i] = next.restart;
  });
  return restarts;
}

describe('afterProbe', () => {
  it('restarts at the third error answered in a row, naming it, and counts again from there', () => {
    const probes = [failed('a'), failed('b'), ok, failed('c'), failed('d'), failed('e'), failed('f')];
    // The success at index 2 resets the count: the restart comes at the third error after it.
    expect(fold(probes)).toEqual({ 5: '3 probes in a row answered with an error, the last: e' });
  });

  it('waits out silence (a starved machine) until silentForMs, errors in it still counting', () => {
    expect(fold(Array.from({ length: 10 }, () => silent()))).toEqual({});
    const restarts = fold(Array.from({ length: 12 }, () => silent()));
    expect(restarts).toEqual({
      10: 'no answer for 10 s, the last probe: 4 DEADLINE_EXCEEDED: Deadline exceeded',
    });
    // Two errors among the silence: not yet three in a row, so the silence decides.
    expect(fold([silent(), failed('x'), silent(), failed('y'), silent()])).toEqual({});
    expect(fold([silent(), failed('x'), silent(), failed('y'), failed('z')])).toEqual({
      4: '3 probes in a row answered with an error, the last: z',
    });
  });

  it('an answer ends the silence: its clock starts again', () => {
    const probes = [
      ...Array.from({ length: 9 }, () => silent()),
      ok,
      ...Array.from({ length: 9 }, () => silent()),
    ];
    expect(fold(probes)).toEqual({});
  });
});

/** A fake server whose probes follow a script, then answer ok. */
function scripted(probes: Probe[], running: boolean[] = []) {
  const calls = { probes: 0, restarts: 0 };
  const server = {
    address: 'unused',
    running: () => running.shift() ?? true,
    async restart() {
      calls.restarts += 1;
    },
  };
  const probe = async () => {
    calls.probes += 1;
    return probes.shift() ?? ok;
  };
  return { server, probe, calls };
}

async function until(done: () => boolean, what: string) {
  for (let i = 0; i < 200 && !done(); i += 1) await sleep(10);
  if (!done()) throw new Error(`not within 2 s: ${what}`);
}

describe('watchDevServer', () => {
  it('restarts a server that fails its probes, once, naming the last error', async () => {
    const { server, probe, calls } = scripted([
      failed('x'),
      failed('y'),
      failed('GetNamespace operation failed. Error interrupted (9)'),
    ]);
    const reasons: string[] = [];
    const watchdog = watchDevServer(
      server,
      { namespace: 'default', intervalMs: 5, failuresBeforeRestart: 3, onRestart: (r) => reasons.push(r) },
      probe,
    );
    await until(() => calls.probes >= 8, 'eight probes');
    await watchdog.stop();
    expect(calls.restarts).toBe(1);
    expect(watchdog.restarts).toBe(1);
    expect(reasons).toEqual([
      '3 probes in a row answered with an error, the last: GetNamespace operation failed. Error interrupted (9)',
    ]);
  });

  it('leaves a server alone whose failures are not in a row', async () => {
    const { server, probe, calls } = scripted([failed('x'), failed('y'), ok, failed('z'), failed('w'), ok]);
    const watchdog = watchDevServer(
      server,
      { namespace: 'default', intervalMs: 5, failuresBeforeRestart: 3 },
      probe,
    );
    await until(() => calls.probes >= 10, 'ten probes');
    await watchdog.stop();
    expect(calls.restarts).toBe(0);
  });

  it('restarts a server whose process exited without probing it first', async () => {
    const { server, probe, calls } = scripted([], [true, false]);
    const reasons: string[] = [];
    const watchdog = watchDevServer(
      server,
      { namespace: 'default', intervalMs: 5, failuresBeforeRestart: 3, onRestart: (r) => reasons.push(r) },
      probe,
    );
    await until(() => calls.restarts === 1 && calls.probes >= 3, 'a restart and probes after it');
    await watchdog.stop();
    expect(reasons).toEqual(['its process exited']);
    expect(calls.restarts).toBe(1);
  });

  it('keeps watching after a restart that failed, and says so', async () => {
    const { server, probe, calls } = scripted([failed('a'), failed('b'), failed('c'), failed('d')]);
    const failures: string[] = [];
    const failingServer = {
      ...server,
      async restart() {
        calls.restarts += 1;
        throw new Error('port in use');
      },
    };
    const watchdog = watchDevServer(
      failingServer,
      {
        namespace: 'default',
        intervalMs: 5,
        failuresBeforeRestart: 2,
        onRestartFailed: (e) => failures.push(String(e)),
      },
      probe,
    );
    await until(() => calls.restarts === 2, 'a second restart');
    await watchdog.stop();
    expect(failures).toEqual(['Error: port in use', 'Error: port in use']);
  });

  it('stops promptly and probes no more', async () => {
    const { server, probe, calls } = scripted([]);
    const watchdog = watchDevServer(server, { namespace: 'default', intervalMs: 60_000 }, probe);
    await watchdog.stop();
    expect(calls.probes).toBe(0);
  });
});
