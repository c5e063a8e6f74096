// Which key signs an operator's decision: `--key FILE` when given (its passphrase from
// WABA_KEY_PASSPHRASE), else the ssh-agent's key that belongs to the approver (`--as`, or whoever
// the run's policy lists for one of the agent's keys).
import { InputError } from '../client/errors';
import { signingConfig } from '../config/cli';
import type { Env } from '../config/env';
import { normalIdentity } from '../model/decisions';
import { agentSigners, keyFileSigner, type Signer } from './signer';

export interface SignerChoice {
  /** A private key file (OpenSSH or PEM). */
  key?: string;
  /** The approver to sign as. */
  as?: string;
}

/**
 * The signer to use for a run whose approvers hold the keys `approvers` (fingerprints by name);
 * with `approvers` undefined (no run yet, e.g. a start), the first usable key.
 */
export async function chooseSigner(
  choice: SignerChoice,
  approvers?: Record<string, string[]>,
  env?: Env,
): Promise<Signer> {
  const { keyPassphrase, agentSocket: socket } = signingConfig(env);
  if (choice.key) return keyFileSigner(choice.key, keyPassphrase);
  if (!socket)
    throw new InputError(
      'no key to sign with: start an ssh-agent with your key (ssh-add), or give --key FILE',
    );
  const signers = await agentSigners(socket);
  if (signers.length === 0)
    throw new InputError(`the ssh-agent at ${socket} holds no key this CLI can sign with (ssh-add yours)`);
  if (!approvers) return signers[0] as Signer;
  const mine = (name: string) => approvers[name] ?? [];
  const names = Object.keys(approvers).filter(
    (n) => !choice.as || normalIdentity(n) === normalIdentity(choice.as),
  );
  for (const signer of signers) if (names.some((n) => mine(n).includes(signer.fingerprint))) return signer;
  throw new InputError(
    `none of the ssh-agent's keys (${signers.map((s) => s.fingerprint).join(', ')}) is listed for ${choice.as ?? 'an approver'} in the run's policy`,
  );
}
