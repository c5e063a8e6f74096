// settingsRestore, and an upgrade's rollback with restoreSettings, on the suite's real dev server and
// a real worker with the cluster faked in-process (test/support/fake-cluster.ts): the backup found
// and verified before anything is sent, the gate, the restore, the Coreapps restarted, health; and
// every way it stops. Every wait bounded.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import type { SettingsRestoreResult } from '../../workflows/settings-restore';
import { approve, reject } from '../support/decide';
import {
  degradesWhileMasterRuns,
  type FakeCluster,
  fakeCluster,
  nonRetryable,
  runFailure,
  type Scenario,
  SEED,
  scenario,
  storedBackup,
  until,
  upgradeInput,
  within,
} from '../support/fake-cluster';

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<GatedRunStatus>;
const gateOpen = (h: WorkflowHandle, gate: string, ms = 20_000) =>
  until(
    `gate ${gate} to open`,
    () => statusOf(h),
    (s) => s.pendingGates.some((g) => g.gate === gate),
    ms,
  );

const RUN_ID = '0b4c1f2e-1111-4222-8333-944455556666';
const OLD = storedBackup('v2.23.3-to-v2.23.4-0b4c1f2e', { runId: RUN_ID, version: '2.23.3' });
const OTHER = storedBackup('v2.23.4-to-v2.29.1-77777777', { runId: '77777777-1111-4222-8333-944455556666' });

const restoreInput = (patch: Record<string, unknown> = {}) => ({
  cluster: 'lab',
  requestedBy: 'carol',
  backup: { sha256: OLD.sha256 },
  timeouts: { health: '5s' },
  ...patch,
});

const setUpWith = (...stored: ReturnType<typeof storedBackup>[]) =>
  fakeCluster({ setUp: true, storedBackups: stored });

/** Start, wait for gate `restore`, approve it as alice. */
async function startApproved(s: Scenario, label: string, input: unknown): Promise<WorkflowHandle> {
  const handle = await s.start('settingsRestore', label, input);
  await gateOpen(handle, 'restore');
  await approve(s.client, handle.workflowId, 'restore', 'alice');
  return handle;
}

const restarts = (fake: FakeCluster) => fake.callsOf('composeRestart').map((c) => `${c.host} ${c.service}`);

describe('settingsRestore', () => {
  it('by sha256: the backup found and verified, the gate shows it, restored, wacore restarted on each Coreapp, healthy', async () => {
    const fake = setUpWith(OLD, OTHER);
    await scenario(fake, async (s) => {
      const handle = await s.start('settingsRestore', 'by-sha', restoreInput());
      const atGate = await gateOpen(handle, 'restore');
      expect(atGate.pendingGates[0]?.summary).toBe(
        `restore the settings of cluster lab from ${OLD.path} (sha256 ${OLD.sha256}, taken on v2.23.3), then restart wacore on core1, core2`,
      );
      expect(fake.names()).toEqual(['findSettingsBackup', 'preflightHost', 'preflightHost']);
      expect(fake.state.restores).toEqual([]);
      await approve(s.client, handle.workflowId, 'restore', 'alice');
      const result = (await within(30_000, 'the run', handle.result())) as SettingsRestoreResult;
      expect(fake.state.restores).toEqual([OLD.path]);
      expect(restarts(fake)).toEqual(['core1 wacore', 'core2 wacore']);
      // Restored before any restart, and health read after the last one.
      const order = fake.names();
      expect(order.indexOf('settingsRestore')).toBeLessThan(order.indexOf('composeRestart'));
      expect(order.lastIndexOf('wabaHealth')).toBeGreaterThan(order.lastIndexOf('composeRestart'));
      expect(result).toMatchObject({
        cluster: 'lab',
        backup: { path: OLD.path, sha256: OLD.sha256, version: '2.23.3', runId: RUN_ID },
        restartedCoreapps: ['core1', 'core2'],
        health: { verdict: 'ha-connected' },
      });
      expect(result.decisions).toHaveLength(1);
    });
  });

  it('by run id (its first 8 characters too): the backup that run took', async () => {
    const fake = setUpWith(OLD, OTHER);
    await scenario(fake, async (s) => {
      for (const runId of [RUN_ID, RUN_ID.slice(0, 8)]) {
        const handle = await startApproved(s, 'by-run', restoreInput({ backup: { runId } }));
        await within(30_000, 'the run', handle.result());
      }
      expect(fake.state.restores).toEqual([OLD.path, OLD.path]);
    });
  });

  it('restartCoreapps false: restored, nothing restarted, no health gate, the result says to restart by hand', async () => {
    const fake = setUpWith(OLD);
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'no-restart', restoreInput({ restartCoreapps: false }));
      const result = (await within(30_000, 'the run', handle.result())) as SettingsRestoreResult;
      expect(fake.state.restores).toEqual([OLD.path]);
      expect(fake.callsOf('composeRestart')).toEqual([]);
      expect(fake.callsOf('wabaHealth')).toEqual([]);
      expect(result.restartedCoreapps).toEqual([]);
      expect(result.health).toBeUndefined();
    });
  });

  it('a backup not found: BackupNotFound before any gate, host or API call', async () => {
    const fake = setUpWith(OTHER);
    await scenario(fake, async (s) => {
      const handle = await s.start(
        'settingsRestore',
        'not-found',
        restoreInput({ backup: { runId: RUN_ID } }),
      );
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('BackupNotFound');
      expect(fake.names()).toEqual(['findSettingsBackup']);
      expect((await statusOf(handle)).pendingGates).toEqual([]);
    });
  });

  it('a backup whose file changed since it was taken: refused naming the file, before any API call', async () => {
    const tampered = storedBackup('v2.23.3-to-v2.23.4-0b4c1f2e', { runId: RUN_ID, tampered: true });
    const fake = setUpWith(tampered);
    await scenario(fake, async (s) => {
      const handle = await s.start(
        'settingsRestore',
        'tampered',
        restoreInput({ backup: { runId: RUN_ID } }),
      );
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('BackupChecksumMismatch');
      expect(failure.message).toContain(tampered.path);
      expect(fake.names()).toEqual(['findSettingsBackup']);
      expect(fake.state.restores).toEqual([]);
    });
  });

  it('the gate rejected: ApprovalRejected, nothing restored or restarted', async () => {
    const fake = setUpWith(OLD);
    await scenario(fake, async (s) => {
      const handle = await s.start('settingsRestore', 'rejected', restoreInput());
      await gateOpen(handle, 'restore');
      await reject(s.client, handle.workflowId, 'restore', 'bob', 'wrong backup');
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('ApprovalRejected');
      expect(fake.callsOf('settingsRestore')).toEqual([]);
      expect(fake.callsOf('composeRestart')).toEqual([]);
    });
  });

  it('the restore answering an error: RestoreFailed naming the backup, no Coreapp restarted', async () => {
    const fake = setUpWith(OLD).fail(
      'settingsRestore',
      nonRetryable('WabaApiError1009', 'the backup data or password is not valid'),
    );
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'restore-fails', restoreInput());
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('RestoreFailed');
      expect(failure.message).toContain(`settings not restored from ${OLD.path}`);
      expect(failure.message).toContain('the backup data or password is not valid');
      expect(fake.callsOf('composeRestart')).toEqual([]);
    });
  });

  it('the cluster not healthy after the restart: RestoreFailed saying the settings were restored', async () => {
    const fake = fakeCluster({ setUp: true, storedBackups: [OLD], health: [SEED.degraded()] });
    await scenario(fake, async (s) => {
      const handle = await startApproved(s, 'unhealthy', restoreInput({ timeouts: { health: '2s' } }));
      const { failure } = await runFailure(handle);
      expect(failure.type).toBe('RestoreFailed');
      expect(failure.message).toMatch(
        /^settings restored and Coreapps restarted, but the cluster did not come back healthy/,
      );
      expect(fake.state.restores).toEqual([OLD.path]);
    });
  });
});

/** A set-up 2.29.3 cluster whose health degrades while master1 runs 2.30.0. */
const degradesOnMaster = () => degradesWhileMasterRuns();

const rollbackInput = (rollback: unknown) =>
  upgradeInput({
    toVersion: '2.30.0',
    rollback: rollback as 'auto',
    timeouts: { health: '2s', dbUpgrade: '1m' },
  });

async function upgradeApproved(s: Scenario, label: string, input: unknown): Promise<WorkflowHandle> {
  const handle = await s.start('upgrade', label, input);
  s.track(s.client.workflow.getHandle(`${handle.workflowId}/dbUpgrade`));
  await gateOpen(handle, 'upgrade');
  await approve(s.client, handle.workflowId, 'upgrade', 'alice');
  return handle;
}

const ROLLED_BACK = /; rolled back web1, master1 to v2\.29\.3/;

describe('upgrade rollback with restoreSettings', () => {
  it('auto + restoreSettings: images back, then this run’s backup restored, wacore restarted, health', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await upgradeApproved(
        s,
        'rollback-restore',
        rollbackInput({ mode: 'auto', restoreSettings: true }),
      );
      const { failure } = await runFailure(handle, 40_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).toMatch(ROLLED_BACK);
      expect(failure.message).toContain('; settings restored from the backup');
      const backup = fake.callsOf('settingsBackup')[0];
      expect(backup).toBeDefined();
      expect(fake.state.restores).toEqual([fake.state.stored[0]?.path]);
      expect(fake.callsOf('settingsRestore')[0]?.args).toMatchObject({
        sha256: fake.state.stored[0]?.sha256,
      });
      expect(restarts(fake)).toEqual(['core1 wacore', 'core2 wacore']);
      // After the images are back (the last composeUp), before the final health reading.
      const order = fake.names();
      expect(order.indexOf('settingsRestore')).toBeGreaterThan(order.lastIndexOf('composeUp'));
      expect(order.lastIndexOf('wabaHealth')).toBeGreaterThan(order.lastIndexOf('composeRestart'));
      expect(fake.callsOf('composeRestart').map((c) => c.args.version)).toEqual(['2.29.3', '2.29.3']);
    });
  });

  it('auto, the old string form: images back, settings left alone', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await upgradeApproved(s, 'rollback-plain', rollbackInput('auto'));
      const { failure } = await runFailure(handle, 40_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(failure.message).not.toContain('settings');
      expect(fake.callsOf('settingsRestore')).toEqual([]);
      expect(fake.callsOf('composeRestart')).toEqual([]);
    });
  });

  it('ask + restoreSettings: the rollback gate says the settings will be restored', async () => {
    const fake = degradesOnMaster();
    await scenario(fake, async (s) => {
      const handle = await upgradeApproved(
        s,
        'ask-restore',
        rollbackInput({ mode: 'ask', restoreSettings: true }),
      );
      const atGate = await gateOpen(handle, 'rollback', 30_000);
      expect(atGate.pendingGates[0]?.summary).toContain(
        'Approve to put web1, master1 back on v2.29.3, then restore the settings backup and restart the Coreapps',
      );
      await approve(s.client, handle.workflowId, 'rollback', 'bob');
      const { failure } = await runFailure(handle, 30_000);
      expect(failure.type).toBe('UpgradeRolledBack');
      expect(fake.state.restores).toHaveLength(1);
    });
  });

  it('the restore failing during a rollback: RestoreFailed, saying the hosts were rolled back', async () => {
    const fake = degradesOnMaster().fail(
      'settingsRestore',
      nonRetryable('BackupChecksumMismatch', '/artifacts/lab/x.json has sha256 aa, not the bb recorded'),
    );
    await scenario(fake, async (s) => {
      const handle = await upgradeApproved(
        s,
        'rollback-restore-fails',
        rollbackInput({ mode: 'auto', restoreSettings: true }),
      );
      const { failure } = await runFailure(handle, 40_000);
      expect(failure.type).toBe('RestoreFailed');
      expect(failure.message).toMatch(ROLLED_BACK);
      expect(failure.message).toContain('settings not restored from');
      expect(fake.state.versions.master1).toBe('2.29.3');
      expect(fake.callsOf('composeRestart')).toEqual([]);
    });
  });
});
