import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  caFile: string;
  key: Buffer;
  cert: Buffer;
  /** SHA-256 fingerprint of the server certificate, as `AA:BB:...`. */
  fingerprint: string;
}

/** A throwaway CA and a server certificate for localhost/127.0.0.1 it signed, made with openssl. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-certs-'));
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=waba-test-ca',
  ]);
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  const cert = readFileSync(f('server.pem'));
  return {
    dir,
    caFile: f('ca.pem'),
    key: readFileSync(f('server.key')),
    cert,
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}

/** openssl arguments for a self-signed server certificate (EC P-256) with these subject alt names. */
export function selfSignedCertArgs(o: {
  keyFile: string;
  certFile: string;
  days: number;
  commonName: string;
  altNames: string[];
}): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    o.keyFile,
    '-out',
    o.certFile,
    '-days',
    String(o.days),
    '-subj',
    `/CN=${o.commonName}`,
    '-addext',
    `subjectAltName=${o.altNames.join(',')}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ];
}

/**
 * A self-signed server certificate for localhost/127.0.0.1, as the product's Webapp ships: trusted by
 * giving the certificate itself as the CA file (`caFile` is the certificate).
 */
export function makeSelfSignedCert(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-selfsigned-'));
  const f = (name: string) => path.join(dir, name);
  const args = selfSignedCertArgs({
    keyFile: f('server.key'),
    certFile: f('server.pem'),
    days: 2,
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
  });
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const cert = readFileSync(f('server.pem'));
  return {
    dir,
    caFile: f('server.pem'),
    key: readFileSync(f('server.key')),
    cert,
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}
