// OpenSSH signatures (`ssh-keygen -Y sign`, the SSHSIG format of OpenSSH's PROTOCOL.sshsig):
// parse an armored signature and verify it against a message and the public keys a policy allows.
// Pure computation (@noble/curves, @noble/hashes, BigInt for RSA), so it runs in workflow code:
// an Update's validator refuses a bad signature before the decision enters the run's history.
import { ed25519 } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2';
import {
  bigIntToBytes,
  bytesToBigInt,
  concat,
  equalBytes,
  fromBase64,
  SshReader,
  sshString,
  toBase64,
  utf8,
} from './bytes';
import { fingerprintOf, parsePublicKeyBlob, type SshPublicKey } from './public-key';

/** The namespace every decision of this project is signed in (`ssh-keygen -Y sign -n waba-runbooks`). */
export const SSHSIG_NAMESPACE = 'waba-runbooks';

const MAGIC = utf8('SSHSIG');
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** An armored signature is a few hundred bytes (RSA 4096: about 1 KiB); anything larger is not one. */
const MAX_ARMORED = 4096;

export type HashAlg = 'sha256' | 'sha512';

export interface SshSignature {
  publicKey: SshPublicKey;
  namespace: string;
  hashAlg: HashAlg;
  /** The signature algorithm, e.g. `ssh-ed25519`, `rsa-sha2-512`, `ecdsa-sha2-nistp256`. */
  sigAlg: string;
  sig: Uint8Array;
}

const hashOf = (alg: HashAlg, data: Uint8Array) => (alg === 'sha256' ? sha256(data) : sha512(data));

/** The blob inside `-----BEGIN SSH SIGNATURE-----` ... `-----END SSH SIGNATURE-----`. */
export function parseSshSignature(armored: string): SshSignature {
  if (armored.length > MAX_ARMORED) throw new Error('too long to be an SSH signature');
  const text = armored.trim();
  if (!text.startsWith(BEGIN) || !text.endsWith(END)) throw new Error(`expected ${BEGIN} ... ${END}`);
  const r = new SshReader(fromBase64(text.slice(BEGIN.length, -END.length)));
  if (!equalBytes(r.raw(6), MAGIC)) throw new Error('not an SSHSIG blob');
  const version = r.uint32();
  if (version !== 1) throw new Error(`SSHSIG version ${version} is not supported`);
  const publicKey = parsePublicKeyBlob(r.string());
  const namespace = r.text();
  r.string(); // reserved
  const hashAlg = r.text();
  if (hashAlg !== 'sha256' && hashAlg !== 'sha512')
    throw new Error(`hash algorithm ${hashAlg} is not allowed`);
  const s = new SshReader(r.string());
  const sigAlg = s.text();
  const sig = s.string();
  if (!s.done() || !r.done()) throw new Error('trailing bytes in the signature');
  return { publicKey, namespace, hashAlg, sigAlg, sig };
}

/** What the key signs: the SSHSIG preamble, namespace, hash algorithm and the message's hash. */
export function signedData(namespace: string, hashAlg: HashAlg, message: string): Uint8Array {
  return concat(
    MAGIC,
    sshString(namespace),
    sshString(''),
    sshString(hashAlg),
    sshString(hashOf(hashAlg, utf8(message))),
  );
}

/** The armored form of a signature made over {@link signedData} (used by the CLI's signer). */
export function armorSignature(
  publicKeyBlob: Uint8Array,
  namespace: string,
  hashAlg: HashAlg,
  sigAlg: string,
  sig: Uint8Array,
): string {
  const blob = concat(
    MAGIC,
    Uint8Array.from([0, 0, 0, 1]),
    sshString(publicKeyBlob),
    sshString(namespace),
    sshString(''),
    sshString(hashAlg),
    sshString(concat(sshString(sigAlg), sshString(sig))),
  );
  const b64 = toBase64(blob);
  const lines = b64.match(/.{1,70}/g) ?? [];
  return [BEGIN, ...lines, END].join('\n');
}

const CURVES = {
  nistp256: { curve: p256, hash: sha256, size: 32 },
  nistp384: { curve: p384, hash: sha384, size: 48 },
  nistp521: { curve: p521, hash: sha512, size: 66 },
} as const;

/** DER DigestInfo prefixes of PKCS#1 v1.5 (RFC 8017 §9.2). */
const DIGEST_INFO = {
  'rsa-sha2-256': { prefix: '3031300d060960864801650304020105000420', hash: sha256 },
  'rsa-sha2-512': { prefix: '3051300d060960864801650304020305000440', hash: sha512 },
} as const;

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)?.map((h) => Number.parseInt(h, 16)) ?? []);

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** The raw signature check of `data` by `key`, for the algorithm the signature names. */
function verifyRaw(key: SshPublicKey, sigAlg: string, sig: Uint8Array, data: Uint8Array): boolean {
  if (key.type === 'ssh-ed25519') {
    return (
      sigAlg === 'ssh-ed25519' && sig.length === 64 && ed25519.verify(sig, data, key.key, { zip215: false })
    );
  }
  if (key.type === 'ssh-rsa') {
    const info = DIGEST_INFO[sigAlg as keyof typeof DIGEST_INFO];
    if (!info) return false; // ssh-rsa (SHA-1) signatures are refused
    const k = Math.ceil(key.n.toString(2).length / 8);
    if (sig.length !== k) return false;
    const s = bigIntToBytes(modPow(bytesToBigInt(sig), key.e, key.n), k);
    const t = concat(hexBytes(info.prefix), info.hash(data));
    if (k < t.length + 11) return false;
    const expected = concat(
      Uint8Array.from([0, 1]),
      new Uint8Array(k - t.length - 3).fill(0xff),
      Uint8Array.from([0]),
      t,
    );
    return equalBytes(s, expected);
  }
  if (sigAlg !== key.type) return false;
  const { curve, hash, size } = CURVES[key.curve];
  const rs = new SshReader(sig);
  const r = rs.mpint();
  const s = rs.mpint();
  if (!rs.done()) return false;
  const compact = concat(bigIntToBytes(r, size), bigIntToBytes(s, size));
  return curve.verify(compact, hash(data), key.point, { prehash: false, lowS: false });
}

export type Verified = { ok: true; fingerprint: string } | { ok: false; why: string };

/**
 * Does `armored` sign `message` in `namespace` with one of `allowed` (public key blobs)? A
 * signature by any other key, in another namespace, or over another message is refused with why.
 */
export function verifySshSignature(
  armored: string,
  message: string,
  allowed: readonly Uint8Array[],
  namespace = SSHSIG_NAMESPACE,
  /** Whose keys `allowed` are, for the refusal. */
  whose = 'that person',
): Verified {
  let sig: SshSignature;
  try {
    sig = parseSshSignature(armored);
  } catch (err) {
    return { ok: false, why: `not a valid SSH signature (${(err as Error).message})` };
  }
  const fingerprint = fingerprintOf(sig.publicKey.blob);
  if (!allowed.some((blob) => equalBytes(blob, sig.publicKey.blob)))
    return { ok: false, why: `signed by key ${fingerprint}, which is not listed for ${whose}` };
  if (sig.namespace !== namespace)
    return { ok: false, why: `signed in namespace "${sig.namespace.slice(0, 40)}", not "${namespace}"` };
  let good = false;
  try {
    good = verifyRaw(sig.publicKey, sig.sigAlg, sig.sig, signedData(namespace, sig.hashAlg, message));
  } catch {
    good = false;
  }
  return good
    ? { ok: true, fingerprint }
    : { ok: false, why: `the signature by ${fingerprint} does not match this decision` };
}
