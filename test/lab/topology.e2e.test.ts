// The topology lint on a running 1/3/3 lab (issue 18; the 1/2/2 case is in prerequisites.e2e):
// the lab is brought up with 1 Webapp, 3 Masters and 3 Coreapps, its own inventory is linted by
// `inventory check`, a multiconnectExpand's plan shows what 2 shards leave of the tolerance, and
// 4 shards (more than the Coreapps) are refused before anything is touched. The lab is put back as this file found it.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, labIsUp, labState, up } from '../../lab/lab';
import { cleanSlate } from '../../lab/operator';
import type { LabHost } from '../../lab/paths';
import { startRunbook } from '../../src/client/runbooks';
import { planQuery } from '../../workflows/api';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { labSigner } from './decide';
import {
  appContainersCreated,
  cli,
  failureOf,
  labStats,
  labWorker,
  statusOf,
  TestInventory,
  until,
} from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-topology-${process.pid}`;
const SIZE = { webs: 1, masters: 3, cores: 3, spares: 0 };

/** The counts `up` takes, read back from a lab's hosts. */
const sizeOf = (hosts: LabHost[]) => ({
  webs: hosts.filter((h) => h.role === 'webapp').length,
  masters: hosts.filter((h) => h.role === 'master').length,
  cores: hosts.filter((h) => h.role === 'coreapp' && !h.spare).length,
  spares: hosts.filter((h) => h.spare).length,
});

describe.skipIf(unavailable)('the topology lint on a 1/3/3 lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  let found: LabHost[] | undefined;
  const inventory = new TestInventory('topology');

  beforeAll(async () => {
    found = labIsUp() ? labState().hosts : undefined;
    await down(() => {});
    await up({ ...SIZE, log: () => {} });
    ({ client, close } = await testClient());
    await inventory.write();
    worker = await labWorker(TASK_QUEUE, inventory);
  }, 300_000);
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
    await down(() => {});
    if (found) await up({ ...sizeOf(found), log: () => {} });
  }, 300_000);

  it('inventory check: 3 Masters on 3 hosts raise nothing; the lone Webapp is warned with the guide', async () => {
    expect(labState().hosts.map((h) => h.name)).toEqual([
      'web1',
      'master1',
      'master2',
      'master3',
      'core1',
      'core2',
      'core3',
    ]);
    const { code, out } = await cli(TASK_QUEUE, 'inventory', 'check', inventory.file);
    expect(code).toBe(0);
    expect(out).toContain(
      'host failures tolerated: Masters 2 (3 on 3 hosts), Coreapps 2 (3 on 3 hosts for 1 shard), Webapps 0 (1 on 1 host)',
    );
    expect(out).not.toMatch(/cluster lab: (Masters|Coreapps)/);
    expect(out).toMatch(
      /cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures; the guide advises /,
    );
  });

  it('multiconnectExpand of 2 shards on the 3 Coreapps: its plan and status show one Coreapp failure tolerated', async () => {
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'multiconnectExpand',
      { cluster: 'lab', shards: 2, requestedBy: 'carol' },
      undefined,
      labSigner('carol'),
    );
    const handle = client.workflow.getHandle(workflowId);
    try {
      const plan = await until(
        'the plan with its topology steps',
        () => handle.query(planQuery),
        (p) => p.some((s) => s.stage === 'topology'),
      );
      const notes = plan.filter((s) => s.stage.startsWith('topology')).map((s) => s.note);
      expect(notes[0]).toBe(
        'host failures tolerated: Masters 2 (3 on 3 hosts), Coreapps 1 (3 on 3 hosts for 2 shards), Webapps 0 (1 on 1 host)',
      );
      expect(notes.slice(1)).toEqual([expect.stringMatching(/^cluster lab: Webapps: 1 Webapp on 1 host /)]);
      expect((await statusOf(client, workflowId)).warnings).toEqual(notes.slice(1));
    } finally {
      // The lab holds no registered cluster: the run would stop at its health precheck; it is not needed.
      await handle.terminate('topology test: the plan was all it was started for');
    }
  });

  it('multiconnectExpand of 4 shards on the 3 Coreapps: refused before anything is touched', async () => {
    await cleanSlate('MYSQL');
    const before = await labStats('MYSQL');
    const { workflowId } = await startRunbook(
      client,
      TASK_QUEUE,
      'multiconnectExpand',
      { cluster: 'lab', shards: 4, requestedBy: 'carol' },
      undefined,
      labSigner('carol'),
    );
    const failure = await failureOf(client, workflowId);
    expect(failure.message).toContain('4 shards need at least 4 Coreapp hosts; the cluster would have 3');
    for (const h of labState().hosts) expect(await appContainersCreated(h.name), h.name).toEqual([]);
    expect(await labStats('MYSQL')).toEqual(before);
  });
});
