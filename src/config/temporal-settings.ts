// Where to reach Temporal, resolved the way the `temporal` CLI resolves it (@temporalio/envconfig):
// a TOML config file, one profile of it, then TEMPORAL_* environment variables over the profile.
// Our older variable names are still read, as aliases of the official ones.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ClientConfigProfile,
  type ConfigDataSource,
  loadClientConfigFromToml,
  loadClientConfigProfile,
} from '@temporalio/envconfig';

/** Older name -> the official envconfig name it stands for. */
const ENV_ALIASES = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const;

export interface TemporalTls {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

export interface TemporalSettings {
  /** host:port; undefined when nothing set it. */
  address: string | undefined;
  /** Where the address came from, for messages: `TEMPORAL_ADDRESS`, `profile "x" in FILE`, `the default`. */
  addressSource: string;
  namespace: string | undefined;
  apiKey?: string;
  /** undefined: TLS only if there is an API key; false: explicitly off (`TEMPORAL_TLS=false`, `tls.disabled`). */
  tls?: TemporalTls | false;
  /** gRPC headers on every call (`grpc_meta` in the profile, `TEMPORAL_GRPC_META_*`). */
  grpcMeta?: Record<string, string>;
}

export interface TemporalSettingsOptions {
  /** Profile name; else TEMPORAL_PROFILE; else "default". */
  profile?: string;
  /** Config file; else TEMPORAL_CONFIG_FILE; else the OS default (~/.config/temporalio/temporal.toml). */
  configFile?: string;
}

type TlsField = 'client_cert' | 'client_key' | 'server_ca_cert';

/** `env`: the environment to read (src/config/temporal.ts passes the process's). */
export function loadTemporalSettings(
  env: NodeJS.ProcessEnv,
  opts: TemporalSettingsOptions = {},
): TemporalSettings {
  const { vars, setBy } = temporalEnv(env);
  const file = readConfigFile(env, opts.configFile);
  const requested = opts.profile || vars.TEMPORAL_PROFILE;
  const profileName = requested ?? 'default';
  const names = file.data === undefined ? [] : profileNames(file.data, file.path);
  const inFile = names.includes(profileName);
  if (requested && !inFile) {
    const by = opts.profile ? '' : ' (TEMPORAL_PROFILE)';
    throw new Error(
      file.data === undefined
        ? `profile "${requested}"${by} not found: no config file at ${file.path ?? 'the default location (HOME is not set)'}`
        : `profile "${requested}"${by} not found in ${file.path} (it has: ${names.join(', ') || 'no profiles'})`,
    );
  }
  const where = inFile ? `profile "${profileName}" in ${file.path}` : 'the environment';
  const profile = withContext(where, () =>
    loadClientConfigProfile(
      inFile
        ? { configSource: { data: file.data as string }, profile: profileName, overrideEnvVars: vars }
        : { disableFile: true, overrideEnvVars: vars },
    ),
  );
  const label = (field: TlsField, source: ConfigDataSource) => settingName(field, source, vars, setBy, where);
  return {
    address: profile.address || undefined,
    addressSource: vars.TEMPORAL_ADDRESS ? 'TEMPORAL_ADDRESS' : profile.address ? where : 'the default',
    namespace: profile.namespace || undefined,
    apiKey: profile.apiKey || undefined,
    tls: tlsSettings(profile, label),
    ...(profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? { grpcMeta: profile.grpcMeta } : {}),
  };
}

/**
 * The TEMPORAL_* variables as envconfig should see them: empty ones dropped (unset, as before),
 * aliases folded into their official names; `setBy` remembers which name the operator used.
 */
function temporalEnv(env: NodeJS.ProcessEnv): {
  vars: Record<string, string>;
  setBy: Record<string, string>;
} {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    // An empty TEMPORAL_GRPC_META_X means "remove header X" to envconfig: keep it.
    if (
      name.startsWith('TEMPORAL_') &&
      value !== undefined &&
      (value !== '' || name.startsWith('TEMPORAL_GRPC_META_'))
    )
      vars[name] = value;
  }
  const setBy: Record<string, string> = {};
  for (const [alias, official] of Object.entries(ENV_ALIASES)) {
    const old = vars[alias];
    if (old === undefined) continue;
    delete vars[alias];
    // Two values for one setting: refuse rather than pick one silently.
    if (vars[official] !== undefined && vars[official] !== old)
      throw new Error(`${alias}=${old} and ${official}=${vars[official]} disagree: set only ${official}`);
    if (vars[official] === undefined) setBy[official] = alias;
    vars[official] = old;
  }
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    const value = vars[name];
    if (value === undefined) continue;
    // envconfig reads anything but "true"/"1" as false: a typo would turn TLS off.
    if (!/^(true|false|1|0)$/i.test(value)) throw new Error(`${name}=${value}: expected true or false`);
    vars[name] = /^(true|1)$/i.test(value) ? 'true' : 'false';
  }
  if (vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true')
    throw new Error(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is not supported here: use TEMPORAL_TLS_SERVER_NAME or TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    );
  return { vars, setBy };
}

/** The OS default config file, as envconfig computes it, from `env`. */
export function defaultConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  let dir: string | undefined;
  if (os.platform() === 'win32') dir = env.APPDATA || undefined;
  else if (os.platform() === 'darwin')
    dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir && path.join(dir, 'temporalio', 'temporal.toml');
}

/**
 * The config file's text. A missing default file means "no profiles"; a missing file someone named
 * (option or TEMPORAL_CONFIG_FILE) is an error: a typo there must not connect somewhere else.
 */
function readConfigFile(
  env: NodeJS.ProcessEnv,
  explicit: string | undefined,
): { path: string | undefined; data?: string } {
  const named = explicit ? { file: explicit, by: 'config file' } : undefined;
  const fromEnv = env.TEMPORAL_CONFIG_FILE
    ? { file: env.TEMPORAL_CONFIG_FILE, by: 'TEMPORAL_CONFIG_FILE' }
    : undefined;
  const chosen = named ?? fromEnv;
  const file = chosen?.file ?? defaultConfigFile(env);
  if (!file) return { path: undefined };
  try {
    return { path: file, data: readFileSync(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!chosen && code === 'ENOENT') return { path: file };
    throw new Error(`${chosen?.by ?? 'config file'} ${file}: cannot read the file (${code})`);
  }
}

function profileNames(data: string, file: string | undefined): string[] {
  try {
    return Object.keys(loadClientConfigFromToml(Buffer.from(data), { strict: false }).profiles);
  } catch (err) {
    // envconfig fails on a file without any [profile.*] table (empty, comments only): no profiles.
    if (err instanceof TypeError) return [];
    const line = (err as { line?: number }).line;
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}${line ? ` (line ${line})` : ''}`);
  }
}

function withContext<T>(where: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

/** The setting that named a TLS file or value, as the operator wrote it. */
function settingName(
  field: TlsField,
  source: ConfigDataSource,
  vars: Record<string, string>,
  setBy: Record<string, string>,
  where: string,
): string {
  const kind = 'path' in source ? 'PATH' : 'DATA';
  const envName = `TEMPORAL_TLS_${field.toUpperCase()}_${kind}`;
  const fromEnv = 'path' in source ? vars[envName] === source.path : vars[envName] !== undefined;
  return fromEnv ? (setBy[envName] ?? envName) : `${where}: tls.${field}_${kind.toLowerCase()}`;
}

function tlsSettings(
  profile: ClientConfigProfile,
  label: (field: TlsField, source: ConfigDataSource) => string,
): TemporalTls | false | undefined {
  const tls = profile.tls;
  if (tls?.disabled) return false;
  // An API key implies TLS, as in envconfig's toClientOptions.
  if (!tls) return profile.apiKey ? {} : undefined;
  const { clientCert, clientKey } = tls;
  if (Boolean(clientCert) !== Boolean(clientKey)) {
    const set = clientCert
      ? label('client_cert', clientCert)
      : label('client_key', clientKey as ConfigDataSource);
    const missing = clientCert
      ? 'the key (TEMPORAL_TLS_CLIENT_KEY_PATH, alias TEMPORAL_TLS_KEY)'
      : 'the certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, alias TEMPORAL_TLS_CERT)';
    throw new Error(
      `${set} is set without ${missing}: the mTLS client certificate and key must be set together`,
    );
  }
  const read = (field: TlsField, source: ConfigDataSource | undefined) =>
    source === undefined ? undefined : readTlsSource(source, label(field, source));
  const crt = read('client_cert', clientCert);
  const key = read('client_key', clientKey);
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(tls.serverCACert ? { serverRootCACertificate: read('server_ca_cert', tls.serverCACert) } : {}),
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
  };
}

/** The bytes of a certificate or key; an error names the setting and the file, never the contents. */
function readTlsSource(source: ConfigDataSource, setting: string): Buffer {
  if (!('path' in source)) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new Error(
      `${setting}=${source.path}: cannot read the file (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}
