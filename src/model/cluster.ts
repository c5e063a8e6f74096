// A cluster as the worker's inventory describes it (docs/configuration.md#the-inventory): trusted
// configuration, read from the worker's own disk, never from a run's input (../shared/TRUST.md).
import { z } from 'zod';
import {
  AbsolutePath,
  CertFingerprint,
  ComposeFilePath,
  HostAddress,
  HttpsBaseUrl,
  Name,
  SecretRef,
  Sha256Hex,
  ShardCount,
  Version,
} from './common';

export const Role = z.enum(['webapp', 'master', 'coreapp']);
export type Role = z.infer<typeof Role>;

export const HostSpec = z.strictObject({
  name: Name,
  address: HostAddress,
  port: z.number().int().min(1).max(65535).default(22),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a POSIX user name')
    .default('root'),
  roles: z.array(Role).min(1, 'a host needs at least one role').max(3),
  /** EXTERNAL_HOSTNAME for compose on this host; defaults to `address`. */
  externalHostname: HostAddress.optional(),
  sudo: z.boolean().default(false),
});
export type HostSpec = z.infer<typeof HostSpec>;

/** A host of the inventory: `spare` ones are prepared but not part of the cluster yet. */
export const InventoryHost = HostSpec.extend({
  /** Not running the cluster yet: only multiconnectExpand touches it, when its input names it. */
  spare: z.boolean().default(false),
});

/**
 * How the worker trusts the Webapp's certificate: a CA bundle (`caFile`, with `serverName` when the
 * certificate names the host differently from the URL), or a pinned certificate fingerprint.
 */
export const ApiTls = z
  .strictObject({
    caFile: AbsolutePath.optional(),
    serverName: HostAddress.optional(),
    pinnedSha256: CertFingerprint.optional(),
  })
  .superRefine((tls, ctx) => {
    if (Boolean(tls.caFile) === Boolean(tls.pinnedSha256)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of caFile or pinnedSha256' });
    }
    if (tls.serverName && !tls.caFile) {
      ctx.addIssue({ code: 'custom', path: ['serverName'], message: 'serverName applies only with caFile' });
    }
  });
export type ApiTls = z.infer<typeof ApiTls>;

export const ApiSpec = z.strictObject({
  baseUrl: HttpsBaseUrl,
  adminUser: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'expected a user name')
    .default('admin'),
  /** The admin password: sent only to baseUrl, in the login request. */
  passwordRef: SecretRef,
  tls: ApiTls,
});
export type ApiSpec = z.infer<typeof ApiSpec>;

export const DbSpec = z.strictObject({
  engine: z.enum(['MYSQL', 'PGSQL']),
  host: HostAddress,
  port: z.number().int().min(1).max(65535),
  user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a database user name'),
  /** Written into db.env on the cluster's own hosts, for the server at host:port. */
  passwordRef: SecretRef,
  /**
   * The prerequisites stage warns when the median round trip (connect to first answer) from an app host to host:port takes
   * longer (default 5 ms: the seed's "a few milliseconds away").
   */
  maxLatencyMs: z
    .number()
    .positive('expected a positive number of milliseconds')
    .max(1000, 'expected at most 1000 ms: a database further away than that is not "a few milliseconds away"')
    .optional(),
});

export const DEFAULT_MEDIA_DIR = '/usr/local/wamedia';

/** Media storage: the upstream named volume, or a host directory (the shared NFS mount, seed step A4). */
export const MediaSpec = z
  .strictObject({
    volume: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a Docker volume name')
      .optional(),
    hostPath: AbsolutePath.optional(),
    /** The media directory inside the containers (the upstream files mount it at /usr/local/wamedia). */
    containerDir: AbsolutePath.default(DEFAULT_MEDIA_DIR),
  })
  .superRefine((media, ctx) => {
    if (Boolean(media.volume) === Boolean(media.hostPath)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of volume or hostPath' });
    }
  });

export const ComposeSpec = z.strictObject({
  /** Path of the compose file on the worker: the file the cluster was started with (*.yml). */
  file: ComposeFilePath,
  /** When given, the file must have this sha256 before it is uploaded. */
  sha256: Sha256Hex.optional(),
  /** The upstream dbupgrade-compose.yml on the worker; default: next to `file`. */
  dbUpgradeFile: ComposeFilePath.optional(),
  dbUpgradeSha256: Sha256Hex.optional(),
});

const KnownHostKey = z
  .string()
  .max(2000)
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/,
    'expected "<type> <base64>" as in known_hosts',
  );

export const SshSpec = z.strictObject({
  /** The private key the worker logs in with, on this cluster's hosts only. */
  privateKeyRef: SecretRef,
  /** Pinned host keys, by host name: `<type> <base64>` as in known_hosts. Every host needs one. */
  knownHosts: z.record(Name, KnownHostKey),
});

/** The number the cluster registers (haSetup) and re-sends with a shard change (multiconnectExpand). */
export const RegistrationSpec = z.strictObject({
  cc: z.string().regex(/^\d{1,4}$/, 'expected the country calling code, digits only, e.g. "39"'),
  phoneNumber: z.string().regex(/^\d{4,15}$/, 'expected the number without country code or "+", digits only'),
  /** The base64 verified-name certificate from WhatsApp Manager: sent only to api.baseUrl. */
  certRef: SecretRef,
  /** The two-step verification PIN, when the number has one: sent only to api.baseUrl. */
  pinRef: SecretRef.optional(),
});

/** The password the product encrypts settings backups with: sent only to api.baseUrl. */
export const BackupSpec = z.strictObject({ passwordRef: SecretRef });

/** The cluster parts of an inventory entry (the approval policy sits beside them, src/model/policy.ts). */
export const ClusterFields = {
  /** The WA_API_VERSION the cluster runs now: haSetup installs it; update it after an upgrade. */
  version: Version.optional(),
  /**
   * The shard count the cluster runs now: 1 after haSetup; update it after multiconnectExpand. The
   * topology lint counts standby Coreapps against it (absent: 1).
   */
  shards: ShardCount.optional(),
  hosts: z.array(InventoryHost).min(1, 'a cluster needs at least one host').max(200),
  workDir: AbsolutePath.default('/root/biz'),
  api: ApiSpec,
  db: DbSpec.optional(),
  media: MediaSpec.optional(),
  compose: ComposeSpec.optional(),
  ssh: SshSpec.optional(),
  registration: RegistrationSpec.optional(),
  backup: BackupSpec.optional(),
};

/**
 * A cluster as a run sees it once resolved from the inventory: its name, the hosts running it, the
 * spare hosts apart, and every reference (never a secret's value).
 */
export interface ClusterSpec {
  name: string;
  version?: string;
  shards?: number;
  hosts: HostSpec[];
  spareHosts: HostSpec[];
  workDir: string;
  api: ApiSpec;
  db?: z.output<typeof DbSpec>;
  media?: z.output<typeof MediaSpec>;
  compose?: z.output<typeof ComposeSpec>;
  ssh?: z.output<typeof SshSpec>;
  registration?: z.output<typeof RegistrationSpec>;
  backup?: z.output<typeof BackupSpec>;
}

/** A cluster the SSH runbooks can act on: version, db, compose and ssh are there. */
export type OperableCluster = ClusterSpec & Required<Pick<ClusterSpec, 'version' | 'db' | 'compose' | 'ssh'>>;

/** The media directory inside the containers. */
export const mediaDirOf = (cluster: ClusterSpec): string => cluster.media?.containerDir ?? DEFAULT_MEDIA_DIR;
