// Decisions on the lab as its people make them: signed with their lab keys (.lab/approvers/<name>,
// the ones the lab's inventory lists), through the same client helpers as the CLI.
import type { Client } from '@temporalio/client';
import { approverKey } from '../../lab/inventory';
import { decide, sendSignedCode } from '../../src/client/decide';
import { keyFileSigner, type Signer } from '../../src/signing/signer';

/** The lab key of alice, bob or carol. */
export const labSigner = (name: string): Signer => keyFileSigner(approverKey(name));

export const approve = (client: Client, id: string, gate: string, by: string, comment?: string) =>
  decide(client, id, 'approve', labSigner(by), {
    gate,
    as: by,
    ...(comment !== undefined ? { note: comment } : {}),
  });

export const reject = (client: Client, id: string, gate: string, by: string, reason: string) =>
  decide(client, id, 'reject', labSigner(by), { gate, as: by, note: reason });

export const sendCode = (client: Client, id: string, code: string, by: string) =>
  sendSignedCode(client, id, code, labSigner(by), { as: by });

/** `--key <their lab key>`: the CLI signs with it. */
export const keyOf = (name: string): string[] => ['--key', approverKey(name)];
