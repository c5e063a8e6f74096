// SSH commands stop on the host when their activity is cancelled or times out (a real OpenSSH server on
// 127.0.0.1, test/support/sshd.ts, logging in as the current user: root in CI, where sshd refuses
// "signal" requests, so the stop goes through the command's wrapper): the remote shell and its
// foreground child are gone within seconds, what they would have written afterwards never appears,
// and the failure names the command and host. The same through `sudo -n` where sudo is installed.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { guarded } from '../../activities/remote';
import { SshTimeoutError } from '../../activities/ssh';
import { SSHD, useLoopbackPool } from '../support/sshd';

/** Pids of processes whose command line matches `pattern` (pgrep -f), this test's own excluded. */
function processesMatching(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(50);
  }
}

describe.skipIf(!existsSync(SSHD))('ssh commands are stopped on the host (a real sshd)', () => {
  const loopback = useLoopbackPool();

  /**
   * `sleep <unique>; echo done > <marker>`: the unique duration lets pgrep find exactly these processes:
   * `sleep` itself (`^sleep ...`), and every process of the command (the shells' command lines hold it).
   */
  const sleeper = () => {
    const unique = `60.${randomInt(100_000, 999_999)}`;
    const marker = path.join(loopback.sshd.dir, `marker-${unique}`);
    return {
      sleep: `^sleep ${unique.replace('.', '\\.')}$`,
      all: `sleep ${unique.replace('.', '\\.')}`,
      marker,
      command: `sleep ${unique}; echo done > ${marker}`,
    };
  };
  const SUDO = existsSync('/usr/bin/sudo') && process.getuid?.() === 0;

  it('runs a command and returns its exit code and output, unchanged by the wrapper', async () => {
    const r = await loopback.pool.exec(loopback.sshd.target, 'echo out; echo err >&2; exit 3');
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n', truncated: false });
    // A comment at the end, a failing pipeline, several lines: as the login shell would run them.
    const multi = await loopback.pool.exec(
      loopback.sshd.target,
      'cd /tmp && pwd\nfalse | true; echo $? # the end',
    );
    expect(multi).toEqual({ code: 0, stdout: '/tmp\n0\n', stderr: '', truncated: false });
    if (SUDO)
      expect(
        await loopback.pool.exec({ ...loopback.sshd.target, sudo: true }, 'id -un; exit 4'),
      ).toMatchObject({
        code: 4,
        stdout: 'root\n',
        stderr: '',
      });
  });

  it.each([
    { sudo: false, how: 'as the login user' },
    ...(SUDO ? [{ sudo: true, how: 'through sudo -n' }] : []),
  ])('a cancelled activity stops its remote command ($how): CancelledFailure naming command and host, logged', async ({
    sudo,
  }) => {
    const { sleep: sleepOnly, all, marker, command } = sleeper();
    const target = { ...loopback.sshd.target, sudo };
    const logs: LogEntry[] = [];
    const env = new MockActivityEnvironment(
      { activityType: 'probe', heartbeatTimeoutMs: 30_000 },
      { logger: new DefaultLogger('WARN', (entry) => logs.push(entry)) },
    );
    // The activities' own wrapper (heartbeats, error classification) around a plain exec.
    const activity = guarded('probe', async (_: { host: string }) => loopback.pool.exec(target, command));
    const running = env.run(activity, { host: 'h1' }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error as Error }),
    );
    await waitFor('the remote sleep to start', () => processesMatching(sleepOnly).length > 0, 10_000);

    const cancelledAt = Date.now();
    env.cancel();
    const outcome = await running;
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(error.message).toBe(
      `probe on h1: activity cancelled (CANCELLED): stopped "${command}" on h1 ` +
        `(${loopback.sshd.user}@127.0.0.1:${loopback.sshd.port}); it ended on SIGTERM`,
    );
    // The sleep is gone at once, the rest of the command's processes within the wrapper's 2 s grace;
    // the line after the sleep never runs.
    await waitFor('the remote sleep to be gone', () => processesMatching(sleepOnly).length === 0, 1_000);
    await waitFor(
      'every process of the command to be gone',
      () => processesMatching(all).length === 0,
      4_000,
    );
    expect(existsSync(marker)).toBe(false);
    expect(logs.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^activity cancelled \(CANCELLED\): stopped "sleep 60\.\d+; echo done > /),
    );
    // The pooled connection is still good for the next command.
    expect((await loopback.pool.exec(target, 'echo again')).stdout).toBe('again\n');
  });

  it('a timed-out command is stopped too, not left running', async () => {
    const { sleep: sleepOnly, all, marker, command } = sleeper();
    const started = Date.now();
    const error = await loopback.pool.exec(loopback.sshd.target, command, 1_000).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(SshTimeoutError);
    expect(error?.message).toBe(
      `command "${command}" on h1 (${loopback.sshd.user}@127.0.0.1:${loopback.sshd.port}) did not finish within 1 s and was stopped`,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    await waitFor('the remote sleep to be gone', () => processesMatching(sleepOnly).length === 0, 1_000);
    await waitFor(
      'every process of the command to be gone',
      () => processesMatching(all).length === 0,
      4_000,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('an activity cancelled before its command is sent runs nothing', async () => {
    const { marker, command } = sleeper();
    const env = new MockActivityEnvironment({ activityType: 'probe' });
    env.cancel();
    const commandsBefore = loopback.pool.counters.commands;
    const error = await env
      .run(async () => loopback.pool.exec(loopback.sshd.target, command))
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(error?.message).toMatch(
      /^activity cancelled \(CANCELLED\) before "sleep 60\.\d+; .*" was run on h1; nothing was run$/,
    );
    expect(loopback.pool.counters.commands).toBe(commandsBefore + 1);
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
  });
});
