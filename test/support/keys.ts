// Approver keys for tests: an ed25519 key pair per name, derived from the name (the same in every
// process), with a signer that makes real SSHSIG signatures the workflows verify.
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { concat, sshString } from '../../src/model/ssh/bytes';
import { fingerprintOf } from '../../src/model/ssh/public-key';
import { armorSignature, SSHSIG_NAMESPACE, signedData } from '../../src/model/ssh/sshsig';
import type { Signer } from '../../src/signing/signer';

/** PKCS#8 DER of an ed25519 private key, before its 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestKey {
  /** `ssh-ed25519 <base64> <name>@test`, as the inventory lists it. */
  publicLine: string;
  signer: Signer;
  /** The private key as `ssh-keygen` writes it (unencrypted OpenSSH format), for `--key FILE`. */
  openSshPrivateKey: string;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The unencrypted `openssh-key-v1` file of an ed25519 key (PROTOCOL.key in OpenSSH's sources). */
function openSshPrivateKey(seed: Buffer, raw: Buffer, blob: Uint8Array, comment: string): string {
  const str = (b: Uint8Array | string) => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);
  const check = u32(0x5a5a5a5a);
  let secret = Buffer.concat([
    check,
    check,
    str('ssh-ed25519'),
    str(raw),
    str(Buffer.concat([seed, raw])),
    str(comment),
  ]);
  for (let pad = 1; secret.length % 8 !== 0; pad++) secret = Buffer.concat([secret, Buffer.from([pad])]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    str('none'),
    str('none'),
    str(''),
    u32(1),
    str(blob),
    str(secret),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

const cache = new Map<string, TestKey>();

/** The test key of `name` (e.g. alice): the same key pair in every test process. */
export function testKey(name: string): TestKey {
  const known = cache.get(name);
  if (known) return known;
  const seed = createHash('sha256').update(`waba-runbooks test key of ${name}`).digest();
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const raw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x as string, 'base64url');
  const blob = concat(sshString('ssh-ed25519'), sshString(new Uint8Array(raw)));
  const publicKey = `ssh-ed25519 ${Buffer.from(blob).toString('base64')}`;
  const key: TestKey = {
    publicLine: `${publicKey} ${name}@test`,
    openSshPrivateKey: openSshPrivateKey(seed, raw, blob, `${name}@test`),
    signer: {
      publicKey,
      fingerprint: fingerprintOf(blob),
      source: `test key of ${name}`,
      async sign(message) {
        const sig = sign(null, Buffer.from(signedData(SSHSIG_NAMESPACE, 'sha512', message)), privateKey);
        return armorSignature(blob, SSHSIG_NAMESPACE, 'sha512', 'ssh-ed25519', new Uint8Array(sig));
      },
    },
  };
  cache.set(name, key);
  return key;
}
