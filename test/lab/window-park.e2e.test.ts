// An upgrade on the lab whose maintenance window closes mid-way (onClose: park, the default): the
// batch in progress finishes and passes its health gate, no batch starts while the window is
// closed, every host runs either the old or the new version and the cluster is healthy while the
// run is parked, and the run resumes with the next batch at the next opening. Short windows: open
// nearly all day, closed for one minute (whole minutes, Europe/Rome wall-clock times).

import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_OF_ENGINE } from '../../lab/inventory';
import { docker, labState, up } from '../../lab/lab';
import { startRunbook } from '../../src/client/runbooks';
import { type RunStatus, statusQuery } from '../../workflows/api';
import type { Parked, UpgradeResult } from '../../workflows/upgrade';
import { testClient } from '../support/temporal';
import { nextWholeMinute, windowClosingAt } from '../support/window-times';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { approve, labSigner } from './decide';
import { gateOpen, labWorker, setUpHa, TestInventory, until } from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-window-${process.pid}`;
const CLUSTER = CLUSTER_OF_ENGINE.PGSQL; // no dbupgrade job: the batches start right after the approval
const FROM = '2.29.3';
const TO = '2.41.2';
const ZONE = 'Europe/Rome';
const iso = (t: number) => new Date(t).toISOString();
const APPROVE_BEFORE_CLOSE_MS = 3_000;

interface ParkStatus extends RunStatus {
  parked: Parked | null;
  healthGates: UpgradeResult['gates'];
}

describe.skipIf(unavailable)('an upgrade whose window closes mid-way, on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const inventory = new TestInventory('window-park');
  const appHosts = () => labState().hosts.filter((h) => !h.spare);
  /** Images of every container on the host, stopped ones included. */
  const imagesOn = async (host: string) =>
    (await docker(host, ['ps', '-a', '--format', '{{.Image}}'])).trim().split('\n').filter(Boolean);
  /** The version every container of the host runs, or `mixed` (never expected). */
  const versionOn = async (host: string) => {
    const versions = new Set((await imagesOn(host)).map((i) => /:v(\d+\.\d+\.\d+)$/.exec(i)?.[1] ?? i));
    return versions.size === 1 ? ([...versions][0] as string) : `mixed: ${[...versions].join(', ')}`;
  };
  const versions = async () =>
    Object.fromEntries(await Promise.all(appHosts().map(async (h) => [h.name, await versionOn(h.name)])));
  /** When each app container of the host was created (Docker's clock: this machine's). */
  async function created(host: string): Promise<number[]> {
    const ids = (await docker(host, ['ps', '-aq'])).trim().split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const out = await docker(host, ['inspect', '--format', '{{.Created}}', ...ids]);
    return out
      .trim()
      .split('\n')
      .map((c) => Date.parse(c.replace(/(\.\d{3})\d*Z$/, '$1Z')));
  }
  const healthCheck = async () => {
    const check = await startRunbook(client, TASK_QUEUE, 'healthCheck', { cluster: CLUSTER });
    return (await client.workflow.getHandle(check.workflowId).result()) as { verdict: string };
  };

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it(
    'parks after a healthy batch, every host on the old or the new version and the cluster healthy while parked; resumes with the next batch at the next opening',
    { timeout: 900_000 },
    async () => {
      await inventory.setVersion(CLUSTER, FROM);
      await setUpHa(client, TASK_QUEUE, CLUSTER, 'PGSQL');
      // Open now; closed for one minute from a whole minute at least 45 s ahead (time for the gate).
      const closesAt = nextWholeMinute(Date.now() + 45_000);
      const reopens = closesAt + 60_000;
      const window = windowClosingAt(closesAt, ZONE, 1);
      const { workflowId } = await startRunbook(
        client,
        TASK_QUEUE,
        'upgrade',
        {
          cluster: CLUSTER,
          toVersion: TO,
          requestedBy: 'carol',
          rollback: 'auto',
          maxUnavailable: 1,
          timeouts: { health: '60s', dbUpgrade: '5m' },
          window,
        },
        undefined,
        labSigner('carol'),
      );
      const handle = client.workflow.getHandle(workflowId);
      const statusOf = () => handle.query(statusQuery) as Promise<ParkStatus>;
      await gateOpen(client, workflowId, 'upgrade');
      // Approved three seconds before the close: after the approval the run reads every host again
      // (0.3-1 s here), so the first batch starts inside the window, and the window closes while
      // it or a later one is in progress (5 batches of 1-2 s each: 5-10 s after the approval).
      // Six seconds, as before SSH stopped waiting for delayed ACKs, let the whole run end first.
      expect(Date.now()).toBeLessThan(closesAt - APPROVE_BEFORE_CLOSE_MS);
      await sleep(closesAt - APPROVE_BEFORE_CLOSE_MS - Date.now());
      await approve(client, workflowId, 'upgrade', 'alice');

      const parked = await until(
        'the run to park',
        statusOf,
        (s) => s.stage.startsWith('parked until'),
        closesAt - Date.now() + 180_000,
      );
      const parkedAt = Date.now();
      expect(parked.stage).toBe(`parked until ${iso(reopens)}`);
      expect(parked.parked).toMatchObject({
        until: iso(reopens),
        after: expect.stringMatching(/^health after /),
      });
      expect(Date.parse(parked.parked?.since ?? '')).toBeGreaterThanOrEqual(closesAt);
      // Every batch that ran passed its health gate; the hosts of those batches run the new
      // version, every other host the old one: no host is half-way.
      const gates = parked.healthGates;
      expect(gates.length).toBeGreaterThan(0);
      expect(gates.every((g) => g.outcome === 'passed')).toBe(true);
      const upgraded = gates.map((g) => /^health after \w+ on (.+)$/.exec(g.gate)?.[1]).filter(Boolean);
      const byHost = await versions();
      expect(Object.values(byHost).every((v) => v === FROM || v === TO)).toBe(true);
      expect(
        Object.entries(byHost)
          .filter(([, v]) => v === TO)
          .map(([h]) => h)
          .sort(),
      ).toEqual([...upgraded].sort());
      // Mid-way: some hosts upgraded, some not.
      expect(Object.values(byHost)).toContain(TO);
      expect(Object.values(byHost)).toContain(FROM);
      // The cluster is healthy while the run is parked (an independent read-only check).
      expect((await healthCheck()).verdict).toBe('ha-connected');

      // Still parked a little later: nothing changed on the hosts.
      await sleep(10_000);
      expect((await statusOf()).stage).toBe(`parked until ${iso(reopens)}`);
      expect(await versions()).toEqual(byHost);
      expect((await healthCheck()).verdict).toBe('ha-connected');

      const result = (await Promise.race([
        handle.result(),
        sleep(reopens - Date.now() + 300_000).then(() => {
          throw new Error('the upgrade did not finish after the window opened again');
        }),
      ])) as UpgradeResult;
      expect(result.hosts.every((h) => h.action === 'upgraded' && h.to === TO)).toBe(true);
      expect(result.health.verdict).toBe('ha-connected');
      const after = result.gates.map((g) => `${g.gate} ${g.outcome}`);
      expect(after.slice(0, gates.length)).toEqual(gates.map((g) => `${g.gate} passed`));
      expect(after[gates.length]).toBe('health before resuming passed');
      expect(after.slice(gates.length + 1).every((g) => g.endsWith(' passed'))).toBe(true);
      // The hosts not upgraded before the close were re-created only after the opening.
      for (const [host, v] of Object.entries(byHost))
        if (v === FROM)
          for (const c of await created(host)) expect(c).toBeGreaterThanOrEqual(reopens - 1_000);
      expect(parkedAt).toBeLessThan(reopens);
      for (const h of appHosts()) expect(await versionOn(h.name)).toBe(TO);
    },
  );
});
