// SSH signatures both ways, against the real OpenSSH tools: what `ssh-keygen -Y sign` makes verifies
// with our pure verifier (the one the workflows run), and what our signer makes (key file, or a
// real ssh-agent) verifies with `ssh-keygen -Y verify`. Every key type the inventory accepts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/model/ssh/bytes';
import { fingerprintOf, parsePublicKey } from '../../src/model/ssh/public-key';
import { SSHSIG_NAMESPACE, verifySshSignature } from '../../src/model/ssh/sshsig';
import { agentSigners, keyFileSigner } from '../../src/signing/signer';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshsig-'));
const KEYS = [
  ['ed25519', ['-t', 'ed25519']],
  ['ecdsa256', ['-t', 'ecdsa', '-b', '256']],
  ['ecdsa384', ['-t', 'ecdsa', '-b', '384']],
  ['ecdsa521', ['-t', 'ecdsa', '-b', '521']],
  ['rsa', ['-t', 'rsa', '-b', '3072']],
] as const;
const keyFile = (name: string) => path.join(dir, name);
const pub = (name: string) => readFileSync(`${keyFile(name)}.pub`, 'utf8').trim();
const blobOf = (line: string) => fromBase64(line.split(' ')[1] as string);
const MESSAGE =
  'waba-runbooks decision v1\nworkflow: prod/upgrade\ngate: upgrade\ndecision: approve\nby: alice\n';

/** `ssh-keygen -Y sign` of `message` with `key`: the armored signature. */
function opensshSign(key: string, message: string, namespace = SSHSIG_NAMESPACE): string {
  const msg = path.join(dir, `msg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(msg, message);
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', key, '-n', namespace, msg], { stdio: 'pipe' });
  return readFileSync(`${msg}.sig`, 'utf8');
}

/** `ssh-keygen -Y verify` of `signature` over `message` for `identity` with `publicKey`: its exit code. */
function opensshVerify(publicKey: string, signature: string, message: string, identity = 'alice'): number {
  const allowed = path.join(dir, `allowed-${Math.random().toString(36).slice(2)}`);
  const sig = `${allowed}.sig`;
  writeFileSync(allowed, `${identity} ${publicKey}\n`);
  writeFileSync(sig, signature);
  try {
    execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', allowed, '-I', identity, '-n', SSHSIG_NAMESPACE, '-s', sig],
      {
        input: message,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    return 0;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

describe('SSH signatures (SSHSIG) against OpenSSH', () => {
  let agentPid: number | undefined;
  const socket = path.join(dir, 'agent.sock');

  beforeAll(async () => {
    for (const [name, args] of KEYS)
      execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', keyFile(name)]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', keyFile('locked')]);
    // A real ssh-agent of our own, on our own socket, stopped by its pid.
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    agentPid = agent.pid;
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('ssh-add', [keyFile('ed25519'), keyFile('ecdsa256'), keyFile('rsa')], {
          env: { ...process.env, SSH_AUTH_SOCK: socket },
          stdio: 'pipe',
        });
        break;
      } catch {
        await sleep(100);
      }
    }
  });
  afterAll(() => {
    if (agentPid) process.kill(agentPid, 'SIGTERM');
  });

  it.each(
    KEYS.map(([name]) => name),
  )('%s: ssh-keygen -Y sign verifies with ours; a changed message or another key does not', (name) => {
    const sig = opensshSign(keyFile(name), MESSAGE);
    const key = blobOf(pub(name));
    expect(verifySshSignature(sig, MESSAGE, [key])).toEqual({ ok: true, fingerprint: fingerprintOf(key) });
    expect(verifySshSignature(sig, MESSAGE.replace('alice', 'mallory'), [key])).toMatchObject({
      ok: false,
      why: expect.stringContaining('does not match this decision'),
    });
    const other = blobOf(pub(name === 'ed25519' ? 'rsa' : 'ed25519'));
    expect(verifySshSignature(sig, MESSAGE, [other])).toMatchObject({
      ok: false,
      why: expect.stringContaining('which is not listed for that person'),
    });
  });

  it.each(
    KEYS.map(([name]) => name),
  )('%s: our key-file signer verifies with ssh-keygen -Y verify, and with ours', async (name) => {
    const signer = keyFileSigner(keyFile(name));
    expect(signer.publicKey).toBe(pub(name).split(' ').slice(0, 2).join(' '));
    const sig = await signer.sign(MESSAGE);
    expect(opensshVerify(pub(name), sig, MESSAGE)).toBe(0);
    expect(opensshVerify(pub(name), sig, `${MESSAGE}x`)).not.toBe(0);
    expect(verifySshSignature(sig, MESSAGE, [blobOf(pub(name))]).ok).toBe(true);
  });

  it('the ssh-agent signs for us; its signatures verify with ssh-keygen -Y verify', async () => {
    const signers = await agentSigners(socket);
    expect(signers.map((s) => s.fingerprint).sort()).toEqual(
      ['ed25519', 'ecdsa256', 'rsa'].map((n) => fingerprintOf(blobOf(pub(n)))).sort(),
    );
    for (const signer of signers) {
      const name = ['ed25519', 'ecdsa256', 'rsa'].find(
        (n) => fingerprintOf(blobOf(pub(n))) === signer.fingerprint,
      ) as string;
      const sig = await signer.sign(MESSAGE);
      expect(opensshVerify(pub(name), sig, MESSAGE), name).toBe(0);
      expect(verifySshSignature(sig, MESSAGE, [blobOf(pub(name))]).ok, name).toBe(true);
    }
  });

  it('an encrypted key needs its passphrase; another namespace, a truncated or a foreign blob are refused', async () => {
    expect(() => keyFileSigner(keyFile('locked'))).toThrow(/encrypted|passphrase/i);
    const signed = await keyFileSigner(keyFile('locked'), 'correct horse').sign(MESSAGE);
    const key = blobOf(pub('locked'));
    expect(verifySshSignature(signed, MESSAGE, [key]).ok).toBe(true);
    const otherNamespace = opensshSign(keyFile('ed25519'), MESSAGE, 'file');
    expect(verifySshSignature(otherNamespace, MESSAGE, [blobOf(pub('ed25519'))])).toMatchObject({
      ok: false,
      why: 'signed in namespace "file", not "waba-runbooks"',
    });
    const cut = signed.replace(/\n[^\n]+\n-----END/, '\n-----END');
    expect(verifySshSignature(cut, MESSAGE, [key]).ok).toBe(false);
    expect(verifySshSignature('hello', MESSAGE, [key])).toMatchObject({
      ok: false,
      why: expect.stringContaining('not a valid SSH signature'),
    });
    expect(verifySshSignature('x'.repeat(10_000), MESSAGE, [key]).ok).toBe(false);
  });

  it('public key lines parse as the inventory holds them; an unsupported or short key is refused', () => {
    for (const [name] of KEYS) expect(parsePublicKey(pub(name)).type).toBe(pub(name).split(' ')[0]);
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', keyFile('weak')]);
    expect(() => parsePublicKey(pub('weak'))).toThrow('RSA keys of fewer than 2048 bits are refused');
    expect(() => parsePublicKey(`ssh-rsa ${pub('ed25519').split(' ')[1]}`)).toThrow(
      'the key says ssh-ed25519, the line ssh-rsa',
    );
  });
});
