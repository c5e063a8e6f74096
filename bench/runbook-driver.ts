// Drives a gated runbook to its end as an attentive operator would: approve the gate and send the
// verification code as soon as the run asks (status polled every 100 ms), then wait for the result.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { withLabDb } from '../lab/database';
import { approverKey } from '../lab/inventory';
import { getKv } from '../lab/sim/db';
import { decide, sendSignedCode } from '../src/client/decide';
import { startRunbook } from '../src/client/runbooks';
import { keyFileSigner } from '../src/signing/signer';
import { statusQuery } from '../workflows/api';
import { RUNBOOKS_QUEUE } from './temporal-names';

export interface DrivenRun {
  workflowId: string;
  seconds: number;
  result: unknown;
}

export async function driveRunbook(
  client: Client,
  runbook: 'haSetup' | 'upgrade',
  input: unknown,
  gate: string,
  timeoutMs = 15 * 60_000,
): Promise<DrivenRun> {
  // carol asks (signed with her lab key), alice approves and types the code (signed with hers).
  const [carol, alice] = [keyFileSigner(approverKey('carol')), keyFileSigner(approverKey('alice'))];
  const started = performance.now();
  const { workflowId } = await startRunbook(client, RUNBOOKS_QUEUE, runbook, input, undefined, carol);
  const handle = client.workflow.getHandle(workflowId);
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  result.catch(() => undefined); // read below; a failed run must not count as an unhandled rejection
  let approved = false;
  let codeSent = false;
  for (const deadline = Date.now() + timeoutMs; !finished && Date.now() < deadline; ) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (!approved && status?.pendingGates?.some((g) => g.gate === gate)) {
      await decide(client, workflowId, 'approve', alice, { gate, note: 'bench' });
      approved = true;
    }
    if (!codeSent && status?.awaitingCode) {
      const code = await withLabDb('MYSQL', (db) => getKv(db, 'sms_code'));
      if (code) {
        await sendSignedCode(client, workflowId, code, alice);
        codeSent = true;
      }
    }
    await sleep(100);
  }
  if (!finished) {
    await handle.terminate('bench: run did not finish in time').catch(() => undefined);
    throw new Error(`${runbook} did not finish within ${timeoutMs / 1000} s`);
  }
  const value = await result;
  return { workflowId, seconds: (performance.now() - started) / 1000, result: value };
}
