// Signing decisions with the operator's own SSH key, as `ssh-keygen -Y sign -n waba-runbooks` does:
// from the ssh-agent (SSH_AUTH_SOCK) or from a private key file (OpenSSH or PEM, with passphrase).
// The result is an armored SSHSIG that `ssh-keygen -Y verify` accepts and the workflows verify.
import { readFileSync } from 'node:fs';
import { OpenSSHAgent, type ParsedKey, utils } from 'ssh2';
import { concat, sshString } from '../model/ssh/bytes';
import { fingerprintOf, parsePublicKeyBlob } from '../model/ssh/public-key';
import { armorSignature, type HashAlg, SSHSIG_NAMESPACE, signedData } from '../model/ssh/sshsig';

export class SigningError extends Error {
  override name = 'SigningError';
}

export interface Signer {
  /** `<type> <base64>`: the public key, as the inventory lists it. */
  publicKey: string;
  fingerprint: string;
  /** Where the key is: `agent` or the file's path. */
  source: string;
  sign(message: string): Promise<string>;
}

const HASH: HashAlg = 'sha512';

/** The SSH signature algorithm for a key type (RSA: rsa-sha2-512, never SHA-1). */
const sigAlgOf = (type: string) => (type === 'ssh-rsa' ? 'rsa-sha2-512' : type);

/** An ECDSA signature as DER (Node's crypto) into SSH's `mpint r, mpint s`. */
function derToSsh(der: Buffer): Uint8Array {
  let p = 0;
  const expect = (tag: number) => {
    if (der[p++] !== tag) throw new SigningError('unexpected ECDSA signature encoding');
    let len = der[p++] as number;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | (der[p++] as number);
    }
    return len;
  };
  expect(0x30);
  const int = () => {
    const len = expect(0x02);
    const v = der.subarray(p, p + len);
    p += len;
    return v;
  };
  const r = int();
  const s = int();
  return concat(sshString(r), sshString(s));
}

function signerOfKey(key: ParsedKey, source: string): Signer {
  const blob = new Uint8Array(key.getPublicSSH());
  const parsed = parsePublicKeyBlob(blob); // refuses types the workflows cannot verify
  return {
    publicKey: `${parsed.type} ${Buffer.from(blob).toString('base64')}`,
    fingerprint: fingerprintOf(blob),
    source,
    async sign(message) {
      const data = Buffer.from(signedData(SSHSIG_NAMESPACE, HASH, message));
      const raw = key.sign(data, parsed.type === 'ssh-rsa' ? 'sha512' : undefined);
      if (raw instanceof Error) throw new SigningError(`signing with ${source} failed: ${raw.message}`);
      const sig = parsed.type.startsWith('ecdsa-') ? derToSsh(raw) : new Uint8Array(raw);
      return armorSignature(blob, SSHSIG_NAMESPACE, HASH, sigAlgOf(parsed.type), sig);
    },
  };
}

/** The private key in `file` (OpenSSH or PEM; `passphrase` when it is encrypted). */
export function keyFileSigner(file: string, passphrase?: string): Signer {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (err) {
    throw new SigningError(`cannot read the key ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  const parsed = utils.parseKey(text, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error)
    throw new SigningError(
      `${file} is not a private key this CLI can use${key instanceof Error ? ` (${key.message})` : ''}${passphrase ? '' : '; if it is encrypted, set WABA_KEY_PASSPHRASE or use the ssh-agent'}`,
    );
  if (!key.isPrivateKey())
    throw new SigningError(`${file} is a public key: give the private key (or use the ssh-agent)`);
  return signerOfKey(key, file);
}

/** Every key the ssh-agent at `socket` holds, as signers that ask the agent to sign. */
export async function agentSigners(socket: string): Promise<Signer[]> {
  const agent = new OpenSSHAgent(socket);
  const keys = await new Promise<ParsedKey[]>((resolve, reject) =>
    agent.getIdentities((err, found) =>
      err ? reject(err) : resolve((found ?? []).filter((k): k is ParsedKey => 'getPublicSSH' in k)),
    ),
  ).catch((err: Error) => {
    throw new SigningError(`cannot ask the ssh-agent at ${socket} for its keys (${err.message})`);
  });
  const out: Signer[] = [];
  for (const key of keys) {
    const blob = new Uint8Array(key.getPublicSSH());
    let type: string;
    try {
      type = parsePublicKeyBlob(blob).type;
    } catch {
      continue; // a key type the workflows cannot verify (e.g. a security key): not offered
    }
    out.push({
      publicKey: `${type} ${Buffer.from(blob).toString('base64')}`,
      fingerprint: fingerprintOf(blob),
      source: 'agent',
      async sign(message) {
        const data = Buffer.from(signedData(SSHSIG_NAMESPACE, HASH, message));
        const sig = await new Promise<Buffer>((resolve, reject) =>
          agent.sign(key, data, { hash: 'sha512' }, (err, s) =>
            err || !s ? reject(err ?? new Error('no signature')) : resolve(s),
          ),
        ).catch((err: Error) => {
          throw new SigningError(
            `the ssh-agent refused to sign with ${fingerprintOf(blob)} (${err.message})`,
          );
        });
        return armorSignature(blob, SSHSIG_NAMESPACE, HASH, sigAlgOf(type), new Uint8Array(sig));
      },
    });
  }
  return out;
}
