// Settings restore on the lab (PostgreSQL: no dbupgrade job, no media chown on 2.29.3 -> 2.41.2),
// with the simulator's fault `settings_drift` (a newer Webapp's first start changes
// callback_backoff_delay_ms): an upgrade whose health gate fails (a Coreapp host cut off) rolls back
// with rollback.restoreSettings and leaves the backup's settings, read back through the API; then
// the settingsRestore runbook on its own, the backup chosen by its sha256.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLabDb } from '../../lab/database';
import { cutHost, healHost } from '../../lab/hosts';
import { ADMIN_PASSWORD_FILE } from '../../lab/inventory';
import { labState, up } from '../../lab/lab';
import { WebappClient } from '../../lab/operator';
import { getKv, readStats, setKv } from '../../lab/sim/db';
import { startRunbook } from '../../src/client/runbooks';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { approve, labSigner } from './decide';
import { failureOf, gateOpen, labWorker, setUpHa, statusOf, TestInventory, until } from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-restore-${process.pid}`;
const CLUSTER = 'lab-pg';
/** The product's default (reference §3.9), what the backup holds; the drift sets 7000. */
const BACKED_UP_DELAY = 3000;
const DRIFTED_DELAY = 7000;

describe.skipIf(unavailable)('settings restore on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  let api: WebappClient | undefined;
  const inventory = new TestInventory('restore');
  const artifacts = mkdtempSync(path.join(os.tmpdir(), 'waba-restore-artifacts-'));
  const restores = async () => (await withLabDb('PGSQL', readStats)).restore ?? 0;

  /** GET /v1/settings/application through the Webapp, logged in afresh (the Webapp may have been re-created). */
  async function appSettings(): Promise<Record<string, unknown>> {
    return until(
      'GET /v1/settings/application',
      async () => {
        await api?.close();
        const web = labState().hosts.find((h) => h.role === 'webapp' && !h.spare) as { address: string };
        api = new WebappClient(`https://${web.address}:9090`);
        await api.login(readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim());
        const res = await api.call('GET', '/v1/settings/application');
        if (res.status !== 200) throw new Error(`GET settings answered ${res.status}`);
        return res.json.settings.application as Record<string, unknown>;
      },
      Boolean,
      60_000,
    );
  }

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory, { WABA_ARTIFACTS_DIR: artifacts });
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
    await api?.close();
    rmSync(artifacts, { recursive: true, force: true });
  });

  let backupSha = '';

  it('an upgrade rolled back with restoreSettings: the backup’s settings read back through the API, one restore', async () => {
    await inventory.setVersion(CLUSTER, '2.29.3');
    await setUpHa(client, TASK_QUEUE, CLUSTER, 'PGSQL');
    await withLabDb('PGSQL', (db) => setKv(db, 'fault.settings_drift', '1'));
    expect((await appSettings()).callback_backoff_delay_ms).toBe(BACKED_UP_DELAY);
    const before = await restores();
    const core2 = labState().hosts.find((h) => h.name === 'core2') as { name: string };

    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'upgrade',
      {
        cluster: CLUSTER,
        toVersion: '2.41.2',
        requestedBy: 'carol',
        rollback: { mode: 'auto', restoreSettings: true },
        timeouts: { health: '20s' },
      },
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, workflowId, 'upgrade');
    await approve(client, workflowId, 'upgrade', 'alice');
    // As test/lab/upgrade.e2e.test.ts: core2 cut while web1's up -d runs, so a health gate fails.
    await until(
      "web1's up -d in flight",
      () => client.workflow.getHandle(workflowId).describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'composeUp'),
      120_000,
    );
    await cutHost(core2.name);
    let drifted: unknown;
    try {
      await until(
        'the rollback',
        () => statusOf(client, workflowId),
        (s) => s.stage === 'rollback',
        120_000,
      );
      // The new Webapp started: the settings are the new version's now, not the backup's (read
      // in the database at once: the Webapp is being re-created and the restore comes next).
      const raw = await withLabDb('PGSQL', (db) => getKv(db, 'settings'));
      drifted = JSON.parse(raw ?? '{}').callback_backoff_delay_ms;
    } finally {
      // Back before the Coreapps are restarted after the restore.
      await healHost(core2.name);
    }
    expect(drifted).toBe(DRIFTED_DELAY);

    const failure = await failureOf(client, workflowId);
    expect(failure.type).toBe('UpgradeRolledBack');
    expect(failure.message).toMatch(
      /; rolled back web1(, [a-z0-9]+)* to v2\.29\.3; settings restored from the backup$/,
    );
    expect((await appSettings()).callback_backoff_delay_ms).toBe(BACKED_UP_DELAY);
    expect((await restores()) - before).toBe(1);
    const status = await statusOf(client, workflowId);
    expect(status.stagesDone).toEqual(
      expect.arrayContaining(['rollback', 'restore settings', 'restart coreapps']),
    );

    // The backup this run took, as the worker stored it: its sidecar names the run.
    const dir = path.join(artifacts, CLUSTER);
    const [file] = readdirSync(dir).filter((n) => n.endsWith('.json'));
    expect(file).toBeDefined();
    const record = JSON.parse(readFileSync(path.join(dir, `${file}.meta`), 'utf8'));
    backupSha = createHash('sha256')
      .update(readFileSync(path.join(dir, file as string)))
      .digest('hex');
    expect(record).toMatchObject({ cluster: CLUSTER, fromVersion: '2.29.3', sha256: backupSha });
  });

  it('settingsRestore chosen by sha256: settings back to the backup’s, Coreapps restarted, healthy', async () => {
    expect(backupSha).toMatch(/^[0-9a-f]{64}$/);
    await api?.call('PATCH', '/v1/settings/application', { callback_backoff_delay_ms: 5000 });
    expect((await appSettings()).callback_backoff_delay_ms).toBe(5000);
    const before = await restores();
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'settingsRestore',
      { cluster: CLUSTER, requestedBy: 'carol', backup: { sha256: backupSha }, timeouts: { health: '60s' } },
      undefined,
      labSigner('carol'),
    );
    await gateOpen(client, workflowId, 'restore');
    expect(await restores()).toBe(before);
    await approve(client, workflowId, 'restore', 'alice');
    const result = (await client.workflow.getHandle(workflowId).result()) as {
      backup: { sha256: string; version: string };
      restartedCoreapps: string[];
      health: { verdict: string };
    };
    expect(result.backup).toMatchObject({ sha256: backupSha, version: '2.29.3' });
    expect(result.restartedCoreapps).toEqual(['core1', 'core2']);
    expect(result.health.verdict).toBe('ha-connected');
    expect((await appSettings()).callback_backoff_delay_ms).toBe(BACKED_UP_DELAY);
    expect((await restores()) - before).toBe(1);
  });
});
