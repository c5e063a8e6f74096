// OpenSSH public keys (`ssh-ed25519 AAAA... alice@laptop`), parsed into what a signature check
// needs. Pure and workflow-safe. Supported: ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa
// (2048 bits or more).
import { sha256 } from '@noble/hashes/sha2';
import { fromBase64, SshReader, toBase64 } from './bytes';

export type EcdsaCurve = 'nistp256' | 'nistp384' | 'nistp521';

export type SshPublicKey =
  | { type: 'ssh-ed25519'; blob: Uint8Array; key: Uint8Array }
  | { type: `ecdsa-sha2-${EcdsaCurve}`; blob: Uint8Array; curve: EcdsaCurve; point: Uint8Array }
  | { type: 'ssh-rsa'; blob: Uint8Array; e: bigint; n: bigint };

/** The key in an SSH public key blob; throws naming what is wrong. */
export function parsePublicKeyBlob(blob: Uint8Array): SshPublicKey {
  const r = new SshReader(blob);
  const type = r.text();
  let key: SshPublicKey;
  if (type === 'ssh-ed25519') {
    const k = r.string();
    if (k.length !== 32) throw new Error('an ed25519 key is 32 bytes');
    key = { type, blob, key: k };
  } else if (
    type === 'ecdsa-sha2-nistp256' ||
    type === 'ecdsa-sha2-nistp384' ||
    type === 'ecdsa-sha2-nistp521'
  ) {
    const curve = r.text();
    if (`ecdsa-sha2-${curve}` !== type) throw new Error(`the key's curve ${curve} does not match ${type}`);
    key = { type, blob, curve: curve as EcdsaCurve, point: r.string() };
  } else if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (n.toString(2).length < 2048) throw new Error('RSA keys of fewer than 2048 bits are refused');
    key = { type, blob, e, n };
  } else {
    throw new Error(`unsupported key type ${type}`);
  }
  if (!r.done()) throw new Error('trailing bytes after the key');
  return key;
}

/** `<type> <base64> [comment]`, the blob's own type matching the first word. */
export function parsePublicKey(line: string): SshPublicKey {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error('expected "<type> <base64> [comment]"');
  const key = parsePublicKeyBlob(fromBase64(b64));
  if (key.type !== type) throw new Error(`the key says ${key.type}, the line ${type}`);
  return key;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
export const fingerprintOf = (blob: Uint8Array): string =>
  `SHA256:${toBase64(sha256(blob)).replace(/=+$/, '')}`;

/** The line's fingerprint, or undefined when it does not parse. */
export function fingerprintOfLine(line: string): string | undefined {
  try {
    return fingerprintOf(parsePublicKey(line).blob);
  } catch {
    return undefined;
  }
}
