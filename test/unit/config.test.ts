import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionOptions, temporalConfig } from '../../src/config';

describe('temporalConfig (worker and client connection from the environment)', () => {
  it('defaults: embedded dev server, namespace default, task queue waba-runbooks, no TLS', () => {
    expect(temporalConfig({})).toEqual({
      address: undefined,
      addressSource: 'the default',
      namespace: 'default',
      taskQueue: 'waba-runbooks',
      tls: undefined,
      apiKey: undefined,
    });
  });

  it('mTLS from certificate files, API key implies TLS', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    for (const f of ['crt', 'key', 'ca']) writeFileSync(path.join(dir, f), f);
    const cfg = temporalConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_TLS_CERT: path.join(dir, 'crt'),
      TEMPORAL_TLS_KEY: path.join(dir, 'key'),
      TEMPORAL_TLS_CA: path.join(dir, 'ca'),
    });
    expect(cfg.address).toBe('ns.acct.tmprl.cloud:7233');
    const tls = cfg.tls || undefined; // false would mean "TLS off"
    expect(tls?.clientCertPair?.crt.toString()).toBe('crt');
    expect(tls?.serverRootCACertificate?.toString()).toBe('ca');
    expect(temporalConfig({ TEMPORAL_API_KEY: 'k' }).tls).toBeDefined();
  });

  it('names the variable when a certificate is missing or unpaired', () => {
    expect(() => temporalConfig({ TEMPORAL_TLS_CERT: '/nonexistent.pem', TEMPORAL_TLS_KEY: '/x' })).toThrow(
      'TEMPORAL_TLS_CERT=/nonexistent.pem: cannot read the file (ENOENT)',
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'crt'), 'crt');
    expect(() => temporalConfig({ TEMPORAL_TLS_CERT: path.join(dir, 'crt') })).toThrow(
      'must be set together',
    );
  });

  it('connectionOptions passes TLS, the API key and the gRPC headers', () => {
    const cfg = temporalConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_GRPC_META_X_TENANT: 'ops' });
    expect(connectionOptions(cfg, 'h:7233')).toEqual({
      address: 'h:7233',
      tls: {},
      apiKey: 'k',
      metadata: { 'x-tenant': 'ops' },
    });
    expect(
      connectionOptions(temporalConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }), 'h:1').tls,
    ).toBe(false);
  });
});
