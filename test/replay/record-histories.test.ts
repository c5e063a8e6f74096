// Records the histories the replay test guards. Runs only with RECORD_HISTORIES=1:
//   RECORD_HISTORIES=1 npx vitest run test/replay/record-histories.test.ts
// Re-record only on purpose (a workflow change that is meant to break old histories needs patched()).
// Re-recorded 2026-11-30 for the worker's inventory (issue 11): every run now starts with the
// resolveCluster activity and its input names a cluster, so no earlier history can replay; runs
// started before the upgrade must finish on the old worker (CONTRIBUTING.md "Recorded histories").
// Re-recorded again for signed decisions (TRUST.md rules 5-8): the gated runs are started with a
// signed request, their gates show a plan hash and every decision is signed; the upgrade re-reads
// its hosts after the approval.
// Re-recorded again for the cluster lock (workflows/cluster-lock.ts): every disruptive run takes its
// cluster's lock (acquireClusterLock, update-with-start) instead of asking visibility
// (openDisruptiveRuns), and releases it from its finally (releaseClusterLock); the lock workflow's
// own history (a grant, a queued run, the release, the next grant) and a run that waited are recorded.
// Re-recorded again when the waits moved into activities (POLL_IN_ACTIVITY_PATCH in
// workflows/lib/health-gate.ts): each health gate is one waitWabaHealth, haSetup's wait for running
// containers one waitContainersRunning. The histories recorded before, which poll wabaHealth and `ps`
// from the workflow with timers, are kept as `*.polled-in-workflow.json`: they guard the patch's old branch.
// Re-recorded for the prerequisites stage (PREREQUISITES_PATCH in workflows/lib/prerequisites.ts):
// haSetup, multiconnectExpand and upgrade probe every host (prerequisitesHost) after preflight and
// show the stage in their plans. Only those three were re-recorded; the histories from before are
// kept as `*.before-prerequisites.json` and guard the patch's old branch.
// Added (not re-recorded) for ROLLBACK_PAST_FAILED_HOST_PATCH (workflows/upgrade/rollback.ts): an
// upgrade whose rollback cannot put master1 back. `upgrade-rollback-incomplete.json` goes on to
// web1; `*.stopped-at-failed-host.json`, recorded with the code before the patch, failed at master1.
// Added for CHOWN_ENDS_WITH_UPGRADE_PATCH (workflows/upgrade/children.ts) and
// CHOWN_STOPS_ON_CANCEL_PATCH (workflows/media-chown.ts): an upgrade from 2.29.1 rolled back while
// its mediaChown child runs. `upgrade-rollback-stops-chown.json` and `media-chown-stopped-by-rollback.json`
// cancel the child and stop its chown first; `*.chown-abandoned.json`, recorded before the patches,
// rolled back with the child still running (its history ends open).
// Re-recorded the upgrade case (its five files) for those patches and LOCK_WAIT_NOTIFY_PATCH
// (workflows/lib/cluster-lock.ts: a run that queues for the lock notifies the chat once). The two
// histories whose shape changed are kept from before: `upgrade-with-children.chown-abandoned.json`
// (its mediaChown child started with ABANDON) and `uninstall-waited-for-lock.before-lock-notice.json`.
// Re-recorded the upgrade cases (`-t upgrade`: their seven files) for PLAN_BINDS_HOSTS_PATCH
// (workflows/upgrade/survey.ts: the gate's plan says what each host runs and what a failed batch
// leads to) and LOCK_GRANT_CONFIRM_PATCH (workflows/lib/cluster-lock.ts: a waiting run asks the lock
// again before it believes a grant). Kept from before: `upgrade-with-children.before-plan-binds-hosts.json`
// and `uninstall-waited-for-lock.before-grant-confirm.json`, which guard the patches' old branches.
// Added for CONFIRM_SCHEDULE_PATCH (workflows/lib/scheduled-start.ts): an upgrade a schedule started,
// pre-approved, whose run asks the schedule (confirmScheduledRun) before its start and pre-approval count.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { clusterLockId } from '../../activities/cluster-lock';
import { inventoryActivities } from '../../activities/inventory';
import { createSchedule, deleteSchedule, triggerSchedule } from '../../src/client/schedules';
import { resolveTemporalCli } from '../../src/devserver';
import type { PreviewResult } from '../../src/model/results';
import { statusQuery } from '../../workflows/api';
import seed from '../fixtures/seed-health.json';
import { approve, sendCode, signedInput } from '../support/decide';
import {
  degradesWhileMasterRuns,
  fakeCluster,
  haSetupInput,
  multiconnectInput,
  nonRetryable,
  uninstallInput,
  until,
  upgradeInput,
} from '../support/fake-cluster';
import { failoverHealth, haDrillInput } from '../support/fake-drill';
import { testClusterEntry, testInventoryStore } from '../support/inventory';
import { testKey } from '../support/keys';
import { preApproval } from '../support/signed-decisions';
import { withWorker } from '../support/temporal';

/** Save a run's history in the CLI's JSON format, which historyFromJSON reads. */
function save(workflowId: string, file: string): void {
  const cli = resolveTemporalCli()?.path ?? 'temporal';
  const json = execFileSync(
    cli,
    ['workflow', 'show', '--address', inject('temporalAddress'), '-w', workflowId, '--output', 'json'],
    { encoding: 'utf8' },
  );
  writeFileSync(path.join(__dirname, '../histories', file), json);
}

/** Start an upgrade, approve its gate as alice, and expect it to fail (its rollback is what is recorded). */
async function approvedUpgradeFails(client: Client, taskQueue: string, id: string, input: unknown) {
  const up = await client.workflow.start('upgrade', {
    taskQueue,
    workflowId: id,
    args: [await signedInput('upgrade', id, input)],
  });
  await until(
    'the upgrade gate',
    () => up.query(statusQuery),
    (s) => Boolean(s.pendingGates?.length),
    30_000,
  );
  await approve(client, id, 'upgrade', 'alice');
  await expect(up.result()).rejects.toThrow();
}

const recording = process.env.RECORD_HISTORIES === '1';
/**
 * `<name>.json`, or with RECORD_SUFFIX (e.g. `.stopped-at-failed-host`) the file of an older shape,
 * recorded with the code from before a patch.
 */
const named = (name: string) => `${name}${process.env.RECORD_SUFFIX ?? ''}.json`;
const ok = { cluster: 'prod' };
/** An input that still carries the cluster's API: refused by the schema. */
const invalid = { cluster: 'prod', api: { baseUrl: 'http://10.0.0.11:9090' } };

describe.runIf(recording)('record histories', () => {
  it('healthCheck: success and invalid input', async () => {
    const activities = {
      ...inventoryActivities({ inventory: testInventoryStore({ prod: testClusterEntry() }) }),
      wabaHealth: async () => ({ health: seed['A9-ha-registered'].health }),
      notify: async () => ({ delivered: false as const, reason: 'not configured' as const }),
    };
    await withWorker(activities, async ({ client, taskQueue }) => {
      const good = await client.workflow.start('healthCheck', {
        taskQueue,
        workflowId: 'prod/healthCheck/recorded',
        args: [ok],
      });
      await good.result();
      const bad = await client.workflow.start('healthCheck', {
        taskQueue,
        workflowId: 'prod/healthCheck/recorded-invalid',
        args: [invalid],
      });
      await expect(bad.result()).rejects.toThrow();
      for (const [handle, file] of [
        [good, 'health-check-ha-connected.json'],
        [bad, 'health-check-invalid-input.json'],
      ] as const) {
        // The CLI writes the standard JSON history format that historyFromJSON reads.
        const cli = resolveTemporalCli()?.path ?? 'temporal';
        const args = ['workflow', 'show', '--address', inject('temporalAddress'), '-w', handle.workflowId];
        const json = execFileSync(cli, [...args, '--output', 'json'], { encoding: 'utf8' });
        writeFileSync(path.join(__dirname, '../histories', file), json);
      }
    });
  });

  it('haSetup (approval, code) and multiconnectExpand, with faked activities', async () => {
    const fake = fakeCluster();
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const status = (id: string) => client.workflow.getHandle(id).query(statusQuery);
      const ha = await client.workflow.start('haSetup', {
        taskQueue,
        workflowId: 'lab/haSetup/recorded',
        args: [await signedInput('haSetup', 'lab/haSetup/recorded', haSetupInput())],
      });
      await until(
        'the register gate',
        () => status(ha.workflowId),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      await approve(client, ha.workflowId, 'register', 'alice');
      await until(
        'the code wait',
        () => status(ha.workflowId),
        (s) => s.awaitingCode === true,
        30_000,
      );
      await sendCode(client, ha.workflowId, '123456', 'alice');
      await ha.result();
      save(ha.workflowId, 'ha-setup-registered.json');

      const mc = await client.workflow.start('multiconnectExpand', {
        taskQueue,
        workflowId: 'lab/multiconnectExpand/recorded',
        args: [
          await signedInput(
            'multiconnectExpand',
            'lab/multiconnectExpand/recorded',
            multiconnectInput({ addCoreapps: ['core3'] }),
          ),
        ],
      });
      await until(
        'the shards gate',
        () => status(mc.workflowId),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      await approve(client, mc.workflowId, 'shards', 'alice');
      await mc.result();
      save(mc.workflowId, 'multiconnect-expand-two-shards.json');
    });
  });

  it('upgrade 2.29.1 -> 2.29.3 (dbUpgrade and mediaChown children), with faked activities', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.1' });
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const status = (id: string) => client.workflow.getHandle(id).query(statusQuery);
      const up = await client.workflow.start('upgrade', {
        taskQueue,
        workflowId: 'lab/upgrade/recorded',
        args: [await signedInput('upgrade', 'lab/upgrade/recorded', upgradeInput())],
      });
      await until(
        'the upgrade gate',
        () => status(up.workflowId),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      // An uninstall that waits for the upgrade's lock, then gets it and stops at its own gate.
      const un = await client.workflow.start('uninstall', {
        taskQueue,
        workflowId: 'lab/uninstall/recorded-waiting',
        args: [
          await signedInput(
            'uninstall',
            'lab/uninstall/recorded-waiting',
            uninstallInput({ whenBusy: 'wait', lockWait: '1m' }),
          ),
        ],
      });
      await until(
        'the uninstall to wait for the lock',
        () => status(un.workflowId),
        (s) => (s as { stage?: string }).stage?.startsWith('waiting for upgrade') ?? false,
        30_000,
      );
      await approve(client, up.workflowId, 'upgrade', 'alice');
      await up.result();
      await until(
        'the uninstall gate',
        () => status(un.workflowId),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      save(up.workflowId, named('upgrade-with-children'));
      save(`${up.workflowId}/dbUpgrade`, named('db-upgrade-child'));
      save(`${up.workflowId}/mediaChown`, named('media-chown-child'));
      save(un.workflowId, named('uninstall-waited-for-lock'));
      save(clusterLockId('lab', taskQueue), named('cluster-lock-grants'));
      await un.terminate('recorded');
    });
  });

  it('haDrill: approved, core2 takes over, core1 back as a standby, with faked activities', async () => {
    const fake = fakeCluster({ setUp: true, health: failoverHealth({ takeoverPolls: 2 }) });
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const drill = await client.workflow.start('haDrill', {
        taskQueue,
        workflowId: 'lab/haDrill/recorded',
        args: [await signedInput('haDrill', 'lab/haDrill/recorded', haDrillInput())],
      });
      await until(
        'the drill gate',
        () => drill.query(statusQuery),
        (s) => Boolean(s.pendingGates?.length),
        30_000,
      );
      await approve(client, drill.workflowId, 'drill', 'alice');
      await drill.result();
      save(drill.workflowId, 'ha-drill-takeover.json');
    });
  });

  it('upgrade whose rollback cannot put master1 back (unreachable), with faked activities', async () => {
    // Health degrades while master1 runs the new version, and master1's rollback fails.
    const fake = degradesWhileMasterRuns().fail(
      'composeUp',
      nonRetryable('SshConnectError', 'ssh to master1: connect ETIMEDOUT'),
      {
        host: 'master1',
        when: (c) => c.args.version === '2.29.3',
      },
    );
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const id = 'lab/upgrade/recorded-rollback-incomplete';
      const input = upgradeInput({
        toVersion: '2.30.0',
        rollback: 'auto',
        timeouts: { health: '2s', dbUpgrade: '1m' },
      });
      await approvedUpgradeFails(client, taskQueue, id, input);
      save(id, named('upgrade-rollback-incomplete'));
    });
  });

  it('upgrade from 2.29.1 rolled back while its mediaChown child runs, with faked activities', async () => {
    const fake = degradesWhileMasterRuns(
      { from: '2.29.1', to: '2.29.3' },
      { engine: 'PGSQL', media: { total: 100_000, remaining: 100_000, perPoll: 1 } },
    );
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const id = 'lab/upgrade/recorded-rollback-chown';
      const input = upgradeInput({ rollback: 'auto', timeouts: { health: '2s', dbUpgrade: '1m' } });
      await approvedUpgradeFails(client, taskQueue, id, input);
      save(id, named('upgrade-rollback-stops-chown'));
      save(`${id}/mediaChown`, named('media-chown-stopped-by-rollback'));
      await client.workflow
        .getHandle(`${id}/mediaChown`)
        .terminate('recorded')
        .catch(() => undefined);
    });
  });
  it('upgrade started by a schedule, pre-approved (the schedule confirms it started the run), with faked activities', async () => {
    const fake = fakeCluster({ setUp: true, version: '2.29.3', engine: 'PGSQL' });
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const input = upgradeInput({ toVersion: '2.30.0' });
      // The plan a dry run shows, approved in advance by alice for the schedule's run.
      const dryId = 'lab/upgrade/recorded-dry-run';
      const dry = await client.workflow.start('upgrade', {
        taskQueue,
        workflowId: dryId,
        args: [await signedInput('upgrade', dryId, { ...input, preview: true })],
      });
      const { planHash } = (await dry.result()) as PreviewResult;
      const pre = await preApproval({
        cluster: 'lab',
        runbook: 'upgrade',
        gate: 'upgrade',
        plan: planHash,
        by: 'alice',
        reason: 'CHG-1',
      });
      const scheduleId = 'lab/upgrade/recorded-schedule';
      await createSchedule(client, {
        runbook: 'upgrade',
        input: { ...input, preApproved: [pre] },
        calendar: 'sun 03:00',
        timeZone: 'UTC',
        note: 'carol: recorded',
        taskQueue,
        scheduleId,
        signer: testKey('carol').signer,
      });
      try {
        const triggered = await triggerSchedule(client, scheduleId, 40_000);
        if (!triggered.started) throw new Error(`the trigger started nothing: ${triggered.reason}`);
        await client.workflow.getHandle(triggered.workflowId).result();
        save(triggered.workflowId, named('upgrade-scheduled-preapproved'));
      } finally {
        await deleteSchedule(client, scheduleId);
      }
    });
  }, 120_000);
});
