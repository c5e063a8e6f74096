// Decisions as the tests send them: the same client helpers an operator's CLI uses, signed with the
// test key of the person named (test/support/keys.ts), so the runs verify them like any other.
import type { Client } from '@temporalio/client';
import { decide, sendSignedCode, signStart } from '../../src/client/decide';
import { isGated } from '../../src/model/runbooks';
import { testKey } from './keys';

export const approve = (client: Client, id: string, gate: string, by: string, comment?: string) =>
  decide(client, id, 'approve', testKey(by).signer, {
    gate,
    as: by,
    ...(comment !== undefined ? { note: comment } : {}),
  });

export const reject = (client: Client, id: string, gate: string, by: string, reason: string) =>
  decide(client, id, 'reject', testKey(by).signer, { gate, as: by, note: reason });

/** The code, signed by `by` (accepted whether or not the policy asks for a signature). */
export const sendCode = (client: Client, id: string, code: string, by: string) =>
  sendSignedCode(client, id, code, testKey(by).signer, { as: by });

/**
 * The input of a gated runbook with its start signed by its `requestedBy`, as `waba-runbooks start`
 * does; anything else (not gated, not an object, no requester) is returned as it is.
 */
export async function signedInput(runbook: string, workflowId: string, input: unknown): Promise<unknown> {
  const requester = (input as { requestedBy?: unknown } | null)?.requestedBy;
  if (!isGated(runbook) || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  if (typeof requester !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(requester)) return input;
  return signStart(input as Record<string, unknown>, runbook, workflowId, testKey(requester).signer);
}
