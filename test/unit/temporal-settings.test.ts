import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalConfig } from '../../src/config';
import { defaultConfigFile } from '../../src/config/temporal-settings';

/** A temp dir with PEM-looking files and a temporal.toml with profiles "default" and "prod". */
function fixture() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsettings-'));
  const f = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const pem = (label: string, what: string) => `-----BEGIN ${label}-----\n${what}\n-----END ${label}-----\n`;
  const files = {
    dir,
    crt: f('client.crt', pem('CERTIFICATE', 'prod-client')),
    key: f('client.key', pem('PRIVATE KEY', 'prod-key')),
    ca: f('ca.pem', pem('CERTIFICATE', 'prod-ca')),
    otherCrt: f('other.crt', pem('CERTIFICATE', 'env-client')),
    otherKey: f('other.key', pem('PRIVATE KEY', 'env-key')),
  };
  const toml = f(
    'temporal.toml',
    `[profile.default]
address = "dev.internal:7233"
namespace = "dev"

[profile.prod]
address = "prod.internal:7233"
namespace = "ops"
api_key = "prod-api-key"

[profile.prod.tls]
client_cert_path = ${JSON.stringify(files.crt)}
client_key_path = ${JSON.stringify(files.key)}
server_ca_cert_path = ${JSON.stringify(files.ca)}
server_name = "temporal.prod.internal"

[profile.prod.grpc_meta]
x-tenant = "waba"
`,
  );
  return { ...files, toml };
}

const text = (b: Buffer | undefined) => b?.toString('utf8');

describe('connection settings: config file and profile (like the temporal CLI)', () => {
  it('TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE select a profile: address, namespace, API key, mTLS, headers', () => {
    const fx = fixture();
    const cfg = temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_PROFILE: 'prod' });
    expect(cfg.address).toBe('prod.internal:7233');
    expect(cfg.addressSource).toBe(`profile "prod" in ${fx.toml}`);
    expect(cfg.namespace).toBe('ops');
    expect(cfg.apiKey).toBe('prod-api-key');
    expect(cfg.grpcMeta).toEqual({ 'x-tenant': 'waba' });
    const tls = cfg.tls || undefined;
    expect(text(tls?.clientCertPair?.crt)).toContain('prod-client');
    expect(text(tls?.clientCertPair?.key)).toContain('prod-key');
    expect(text(tls?.serverRootCACertificate)).toContain('prod-ca');
    expect(tls?.serverNameOverride).toBe('temporal.prod.internal');
  });

  it('without a profile name the "default" profile; an explicit option beats TEMPORAL_PROFILE', () => {
    const fx = fixture();
    const dflt = temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml });
    expect([dflt.address, dflt.namespace, dflt.tls]).toEqual(['dev.internal:7233', 'dev', undefined]);
    expect(dflt.addressSource).toBe(`profile "default" in ${fx.toml}`);
    const chosen = temporalConfig(
      { TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_PROFILE: 'prod' },
      { profile: 'default' },
    );
    expect(chosen.address).toBe('dev.internal:7233');
  });

  it('an explicit config file beats TEMPORAL_CONFIG_FILE', () => {
    const fx = fixture();
    const other = path.join(fx.dir, 'other.toml');
    writeFileSync(other, '[profile.default]\naddress = "other:7233"\n');
    const cfg = temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml }, { configFile: other });
    expect([cfg.address, cfg.addressSource]).toEqual(['other:7233', `profile "default" in ${other}`]);
  });

  it('reads the OS default file (~/.config/temporalio/temporal.toml on Linux) when nothing names one', () => {
    const fx = fixture();
    const env = { HOME: fx.dir, APPDATA: fx.dir };
    const file = defaultConfigFile(env) as string;
    expect(file).toMatch(/temporalio[/\\]temporal\.toml$/);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '[profile.default]\naddress = "home:7233"\n');
    expect(temporalConfig(env).addressSource).toBe(`profile "default" in ${file}`);
    expect(temporalConfig(env).address).toBe('home:7233');
  });

  it('nothing set at all: no address, "the default"; a missing default file is not an error', () => {
    expect(temporalConfig({})).toMatchObject({ address: undefined, addressSource: 'the default' });
    const home = mkdtempSync(path.join(os.tmpdir(), 'tsettings-home-'));
    expect(temporalConfig({ HOME: home, APPDATA: home })).toMatchObject({
      address: undefined,
      addressSource: 'the default',
      namespace: 'default',
    });
  });

  it('an empty config file has no profiles: the environment alone', () => {
    const fx = fixture();
    writeFileSync(fx.toml, '# nothing yet\n');
    const cfg = temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_ADDRESS: 'a:1' });
    expect([cfg.address, cfg.addressSource]).toEqual(['a:1', 'TEMPORAL_ADDRESS']);
  });

  it('refuses a named config file that does not exist, a missing profile, and TOML it cannot parse', () => {
    const fx = fixture();
    const missing = path.join(fx.dir, 'nope.toml');
    expect(() => temporalConfig({ TEMPORAL_CONFIG_FILE: missing })).toThrow(
      `TEMPORAL_CONFIG_FILE ${missing}: cannot read the file (ENOENT)`,
    );
    expect(() => temporalConfig({}, { configFile: missing })).toThrow(`config file ${missing}: cannot read`);
    expect(() => temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_PROFILE: 'staging' })).toThrow(
      `profile "staging" (TEMPORAL_PROFILE) not found in ${fx.toml} (it has: default, prod)`,
    );
    expect(() => temporalConfig({ HOME: fx.dir }, { profile: 'prod' })).toThrow(
      /profile "prod" not found: no config file at .*temporal\.toml/,
    );
    writeFileSync(fx.toml, '[profile.default]\naddress = \n');
    expect(() => temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml })).toThrow(`${fx.toml}: `);
  });
});

describe('connection settings: environment variables over the profile', () => {
  it('TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and the TLS paths override the profile', () => {
    const fx = fixture();
    const cfg = temporalConfig({
      TEMPORAL_CONFIG_FILE: fx.toml,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'override:7233',
      TEMPORAL_NAMESPACE: 'other',
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_TLS_CLIENT_CERT_PATH: fx.otherCrt,
      TEMPORAL_TLS_CLIENT_KEY_PATH: fx.otherKey,
      TEMPORAL_GRPC_META_X_TENANT: 'other',
    });
    expect([cfg.address, cfg.addressSource, cfg.namespace, cfg.apiKey]).toEqual([
      'override:7233',
      'TEMPORAL_ADDRESS',
      'other',
      'env-key',
    ]);
    const tls = cfg.tls || undefined;
    expect(text(tls?.clientCertPair?.crt)).toContain('env-client');
    expect(text(tls?.clientCertPair?.key)).toContain('env-key');
    expect(text(tls?.serverRootCACertificate)).toContain('prod-ca'); // not overridden: the profile's
    expect(cfg.grpcMeta).toEqual({ 'x-tenant': 'other' });
  });

  it('empty variables count as unset, as before', () => {
    const fx = fixture();
    const cfg = temporalConfig({
      TEMPORAL_CONFIG_FILE: fx.toml,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
    });
    expect([cfg.address, cfg.namespace]).toEqual(['dev.internal:7233', 'dev']);
  });

  it('TEMPORAL_TLS: true forces TLS, false turns it off even with an API key, anything else is refused', () => {
    const fx = fixture();
    expect(temporalConfig({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(temporalConfig({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: 'tmp' }).tls).toEqual({
      serverNameOverride: 'tmp',
    });
    expect(
      temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_TLS: 'false' }).tls,
    ).toBe(false);
    expect(() => temporalConfig({ TEMPORAL_TLS: 'yes' })).toThrow('TEMPORAL_TLS=yes: expected true or false');
  });

  it('the older names TEMPORAL_TLS_CERT, _KEY and _CA still work', () => {
    const fx = fixture();
    const cfg = temporalConfig({
      TEMPORAL_TLS_CERT: fx.crt,
      TEMPORAL_TLS_KEY: fx.key,
      TEMPORAL_TLS_CA: fx.ca,
    });
    const tls = cfg.tls || undefined;
    expect(text(tls?.clientCertPair?.crt)).toContain('prod-client');
    expect(text(tls?.clientCertPair?.key)).toContain('prod-key');
    expect(text(tls?.serverRootCACertificate)).toContain('prod-ca');
    // The same value under both names is one value.
    expect(() =>
      temporalConfig({ TEMPORAL_TLS_CA: fx.ca, TEMPORAL_TLS_SERVER_CA_CERT_PATH: fx.ca }),
    ).not.toThrow();
  });

  it('an older name and its official name with different values: refused, both named', () => {
    const fx = fixture();
    expect(() =>
      temporalConfig({
        TEMPORAL_TLS_CERT: fx.crt,
        TEMPORAL_TLS_CLIENT_CERT_PATH: fx.otherCrt,
        TEMPORAL_TLS_KEY: fx.key,
      }),
    ).toThrow(`TEMPORAL_TLS_CERT=${fx.crt} and TEMPORAL_TLS_CLIENT_CERT_PATH=${fx.otherCrt} disagree`);
    expect(() =>
      temporalConfig({ TEMPORAL_TLS_CA: fx.ca, TEMPORAL_TLS_SERVER_CA_CERT_PATH: fx.otherCrt }),
    ).toThrow(/TEMPORAL_TLS_CA=.* and TEMPORAL_TLS_SERVER_CA_CERT_PATH=.* disagree/);
  });
});

describe('connection settings: certificate and key checks', () => {
  it('a client certificate without its key (or the reverse) is refused, naming the setting', () => {
    const fx = fixture();
    expect(() => temporalConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: fx.crt })).toThrow(
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set without the key (TEMPORAL_TLS_CLIENT_KEY_PATH, alias TEMPORAL_TLS_KEY): the mTLS client certificate and key must be set together',
    );
    expect(() => temporalConfig({ TEMPORAL_TLS_KEY: fx.key })).toThrow(
      /^TEMPORAL_TLS_KEY is set without the certificate/,
    );
    writeFileSync(fx.toml, `[profile.default.tls]\nclient_cert_path = ${JSON.stringify(fx.crt)}\n`);
    expect(() => temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml })).toThrow(
      `profile "default" in ${fx.toml}: tls.client_cert_path is set without the key`,
    );
  });

  it('an unreadable file names the variable (as the operator wrote it) and the file, never the contents', () => {
    const fx = fixture();
    const missing = path.join(fx.dir, 'missing.pem');
    expect(() => temporalConfig({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: fx.key })).toThrow(
      `TEMPORAL_TLS_CERT=${missing}: cannot read the file (ENOENT)`,
    );
    expect(() => temporalConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: fx.dir })).toThrow(
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH=${fx.dir}: cannot read the file (EISDIR)`,
    );
    writeFileSync(
      fx.toml,
      `[profile.prod.tls]\nclient_cert_path = ${JSON.stringify(fx.crt)}\nclient_key_path = ${JSON.stringify(missing)}\n`,
    );
    let message = '';
    try {
      temporalConfig({ TEMPORAL_CONFIG_FILE: fx.toml, TEMPORAL_PROFILE: 'prod' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      `profile "prod" in ${fx.toml}: tls.client_key_path=${missing}: cannot read the file (ENOENT)`,
    );
    expect(message).not.toContain('prod-client');
  });
});
