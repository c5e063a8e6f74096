// createSchedule reads the new schedule back for its next run times; a busy server may time that
// read out (it asks the schedule's own workflow): tried again, and a last failure says the schedule
// exists, so nobody creates it twice.
import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { describeCreated } from '../../src/client/schedules/create';

const timeout = () =>
  new ServiceError('Failed to describe schedule', {
    cause: Object.assign(new Error('4 DEADLINE_EXCEEDED: context deadline exceeded'), { code: 4 }),
  });

/** A handle whose describe fails with `failures` in turn, then answers. */
function handle(failures: Error[]) {
  let calls = 0;
  return {
    scheduleId: 'lab/upgrade/schedule',
    calls: () => calls,
    describe: async () => {
      const f = failures[calls++];
      if (f) throw f;
      return { info: { nextActionTimes: [new Date('2026-12-06T02:00:00Z')] } } as never;
    },
  };
}

describe('describeCreated', () => {
  it('a timed-out read is tried again', async () => {
    const h = handle([timeout(), timeout()]);
    await expect(describeCreated(h)).resolves.toMatchObject({
      info: { nextActionTimes: [expect.any(Date)] },
    });
    expect(h.calls()).toBe(3);
  });

  it('three timeouts: the error says the schedule was created and how to see it', async () => {
    const h = handle([timeout(), timeout(), timeout(), timeout()]);
    await expect(describeCreated(h)).rejects.toThrow(
      /^schedule lab\/upgrade\/schedule was created, but reading it back timed out 3 times .*waba-runbooks schedule list$/,
    );
    expect(h.calls()).toBe(3);
  });

  it('any other error is not retried and passes through as it was', async () => {
    const denied = new ServiceError('Failed to describe schedule', {
      cause: new Error('7 PERMISSION_DENIED'),
    });
    const h = handle([denied]);
    await expect(describeCreated(h)).rejects.toBe(denied);
    expect(h.calls()).toBe(1);
  });
});
