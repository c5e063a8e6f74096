// One disruptive run per cluster at a time, enforced by the runs themselves: each takes its
// cluster's lock (workflows/cluster-lock.ts, the real lock activities on the suite's dev server)
// before touching anything. The races and the ways a holder ends: cluster-lock.test.ts.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import { approve } from '../support/decide';
import {
  fakeCluster,
  haSetupInput,
  runFailure,
  scenario,
  uninstallInput,
  until,
  upgradeInput,
  within,
} from '../support/fake-cluster';

describe('run guard', () => {
  it('a runbook refuses to start while another disruptive run holds its cluster; nothing touched', async () => {
    const fake = fakeCluster({ setUp: true });
    await scenario(fake, async (s) => {
      const holder = await s.start('uninstall', 'holder', uninstallInput());
      await until(
        'the uninstall gate',
        () => holder.query(statusQuery) as Promise<GatedRunStatus>,
        (st) => st.pendingGates.length > 0,
        20_000,
      );
      const callsBefore = fake.calls.length;
      const { failure } = await runFailure(await s.start('haSetup', 'guarded', haSetupInput()));
      expect(failure.type).toBe('ConcurrentRun');
      expect(failure.message).toBe(
        `another run is changing cluster lab: uninstall (workflow ${holder.workflowId}); this haSetup run stopped ` +
          'before doing anything. Wait for it to finish or cancel it, then start again',
      );
      expect(fake.calls.length).toBe(callsBefore);
    });
  });

  it('against the dev server: an uninstall is refused while an upgrade waits at its gate; the upgrade and its children go on', async () => {
    const name = `guard-${randomUUID().slice(0, 8)}`;
    const fake = fakeCluster({ setUp: true, version: '2.29.1', clusters: [name] });
    await scenario(fake, async (s) => {
      const upgrade = await s.start('upgrade', 'first', upgradeInput({}, name));
      await until(
        'the upgrade gate',
        () => upgrade.query(statusQuery) as Promise<GatedRunStatus>,
        (st) => st.pendingGates.length > 0,
        20_000,
      );
      const callsBefore = fake.calls.length;

      const uninstall = await s.start('uninstall', 'second', uninstallInput({}, name));
      const { failure } = await runFailure(uninstall);
      expect(failure.type).toBe('ConcurrentRun');
      expect(failure.message).toContain(`upgrade (workflow ${upgrade.workflowId})`);
      expect(fake.calls.length).toBe(callsBefore);

      // The upgrade itself, and its dbUpgrade and mediaChown children, are not refused.
      await approve(s.client, upgrade.workflowId, 'upgrade', 'alice');
      await within(60_000, 'the upgrade', upgrade.result());
      expect(fake.callsOf('waitDbUpgrade')).toHaveLength(1);
    });
  });
});
