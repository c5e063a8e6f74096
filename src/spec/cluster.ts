import { z } from 'zod';
import { AbsolutePath, CertFingerprint, HostAddress, Name, SecretRef, Sha256Hex } from './common';

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
  roles: z.array(Role).min(1, 'a host needs at least one role'),
  /** EXTERNAL_HOSTNAME for compose on this host; defaults to `address`. */
  externalHostname: HostAddress.optional(),
  sudo: z.boolean().default(false),
});
export type HostSpec = z.infer<typeof HostSpec>;

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
  baseUrl: z
    .string()
    .url()
    .regex(/^https:\/\//, 'the Webapp serves HTTPS only: expected https://...')
    .transform((u) => u.replace(/\/+$/, '')),
  adminUser: z.string().min(1).default('admin'),
  passwordRef: SecretRef,
  tls: ApiTls,
});
export type ApiSpec = z.infer<typeof ApiSpec>;

export const DbSpec = z.strictObject({
  engine: z.enum(['MYSQL', 'PGSQL']),
  host: HostAddress,
  port: z.number().int().min(1).max(65535),
  user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a database user name'),
  passwordRef: SecretRef,
});

/** Media storage: the upstream named volume, or a host directory (the shared NFS mount, seed step A4). */
export const MediaSpec = z
  .strictObject({
    volume: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a Docker volume name')
      .optional(),
    hostPath: AbsolutePath.optional(),
  })
  .superRefine((media, ctx) => {
    if (Boolean(media.volume) === Boolean(media.hostPath)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of volume or hostPath' });
    }
  });

export const ComposeSpec = z.strictObject({
  /** Path of the compose file on the worker: the file the cluster was started with. */
  file: AbsolutePath,
  sha256: Sha256Hex.optional(),
  /** The upstream dbupgrade-compose.yml on the worker; default: next to `file`. */
  dbUpgradeFile: AbsolutePath.optional(),
});

export const SshSpec = z.strictObject({
  privateKeyRef: SecretRef,
  /** Pinned host keys, by host name: `<type> <base64>` as in known_hosts. */
  knownHosts: z.record(Name, z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa) [A-Za-z0-9+/=]+$/)),
});

export const ClusterSpec = z
  .object({
    name: Name,
    /** The WA_API_VERSION the cluster runs now. */
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'expected a version like 2.23.4')
      .optional(),
    hosts: z.array(HostSpec).min(1, 'a cluster needs at least one host'),
    workDir: AbsolutePath.default('/root/biz'),
    api: ApiSpec,
    db: DbSpec.optional(),
    media: MediaSpec.optional(),
    compose: ComposeSpec.optional(),
    ssh: SshSpec.optional(),
  })
  .superRefine((cluster, ctx) => {
    const seen = new Set<string>();
    cluster.hosts.forEach((h, i) => {
      if (seen.has(h.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'name'],
          message: `duplicate host name "${h.name}"`,
        });
      }
      seen.add(h.name);
    });
  });
export type ClusterSpec = z.infer<typeof ClusterSpec>;
/** What an operator writes (defaults not yet applied). */
export type ClusterSpecInput = z.input<typeof ClusterSpec>;
