// The dbupgrade job with EXIT_ON_SUCCESS=FALSE: when the wait ends, and with which exit code.
import { describe, expect, it } from 'vitest';
import { dbUpgradeVerdict, type JobState, parseJobState } from '../../activities/compose';

const running: JobState = { status: 'running', running: true, restarting: false, exitCode: 0 };
const exited = (exitCode: number): JobState => ({
  status: 'exited',
  running: false,
  restarting: false,
  exitCode,
});
const LOG_STARTING = 'database upgrade to v2.29.3 starting (schema v2.29.1)\n';
const LOG_DONE = `${LOG_STARTING}database upgrade to v2.29.3 complete\nEXIT_ON_SUCCESS=FALSE: staying up\n`;

describe('dbUpgradeVerdict', () => {
  it('keeps waiting while the job runs and has said nothing final', () => {
    expect(dbUpgradeVerdict(LOG_STARTING, running)).toEqual({ kind: 'waiting' });
    expect(dbUpgradeVerdict('', { ...running, status: 'created', running: false })).toEqual({
      kind: 'waiting',
    });
  });

  it('a running job whose log says complete has succeeded; one that says ERROR has failed', () => {
    expect(dbUpgradeVerdict(LOG_DONE, running)).toMatchObject({ kind: 'ended', exitCode: 0 });
    expect(dbUpgradeVerdict(`${LOG_STARTING}ERROR cannot reach the database\n`, running)).toMatchObject({
      kind: 'ended',
      exitCode: 1,
    });
  });

  it('a job that died without printing ERROR ends with its exit code instead of waiting for the timeout', () => {
    expect(dbUpgradeVerdict(`${LOG_STARTING}Killed\n`, exited(137))).toEqual({
      kind: 'ended',
      exitCode: 137,
      why: 'it exited 137 (exited)',
    });
    expect(dbUpgradeVerdict(LOG_STARTING, { ...exited(139), status: 'dead' })).toMatchObject({
      kind: 'ended',
      exitCode: 139,
    });
    expect(dbUpgradeVerdict(LOG_STARTING, exited(0))).toMatchObject({ kind: 'ended', exitCode: 0 });
  });

  it('a job being restarted after a failure has failed', () => {
    const restarting = { status: 'restarting', running: true, restarting: true, exitCode: 2 };
    expect(dbUpgradeVerdict(LOG_STARTING, restarting)).toMatchObject({ kind: 'ended', exitCode: 2 });
  });

  it('the log saying complete wins over a later exit (the upgrade itself is done)', () => {
    expect(dbUpgradeVerdict(LOG_DONE, exited(143))).toMatchObject({ kind: 'ended', exitCode: 0 });
  });

  it('a job that is gone is reported as such', () => {
    expect(dbUpgradeVerdict('', undefined)).toEqual({ kind: 'gone' });
  });
});

describe('parseJobState', () => {
  it('reads the state of docker inspect output, undefined for none', () => {
    const inspect = JSON.stringify([
      { Id: 'abc', State: { Status: 'exited', Running: false, ExitCode: 3, Restarting: false } },
    ]);
    expect(parseJobState(inspect)).toEqual(exited(3));
    expect(parseJobState('[]')).toBeUndefined();
  });
});
