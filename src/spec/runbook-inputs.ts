import { z } from 'zod';
import { ApprovalPolicy, Duration, Identity } from './approvals';
import { ClusterSpec, HostSpec } from './cluster';
import { SecretRef } from './common';

/**
 * A cluster the runbooks can act on over SSH: besides the base spec it needs a version, db
 * settings, a compose file, SSH keys pinned for every host, and every role present.
 */
export const OperableCluster = ClusterSpec.superRefine((c, ctx) => {
  const need = (field: 'version' | 'db' | 'compose' | 'ssh', what: string) => {
    if (!c[field]) ctx.addIssue({ code: 'custom', path: [field], message: `required here: ${what}` });
  };
  need('version', 'the WA_API_VERSION to run, e.g. 2.23.4');
  need('db', 'the database db.env points to');
  need('compose', 'the compose file to upload (path on the worker)');
  need('ssh', 'the SSH private key reference and pinned host keys');
  c.hosts.forEach((h, i) => {
    if (c.ssh && !c.ssh.knownHosts[h.name]) {
      ctx.addIssue({
        code: 'custom',
        path: ['ssh', 'knownHosts', h.name],
        message: `no pinned host key for hosts[${i}] ${h.name}`,
      });
    }
  });
  for (const role of ['webapp', 'master', 'coreapp'] as const) {
    if (!c.hosts.some((h) => h.roles.includes(role)))
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: `no host has the role ${role}` });
  }
});
export type OperableCluster = z.infer<typeof OperableCluster>;

export const Registration = z.strictObject({
  cc: z.string().regex(/^\d{1,4}$/, 'expected the country calling code, digits only, e.g. "39"'),
  phoneNumber: z.string().regex(/^\d{4,15}$/, 'expected the number without country code or "+", digits only'),
  method: z.enum(['sms', 'voice']),
  /** The base64 verified-name certificate from WhatsApp Manager, by reference. */
  certRef: SecretRef,
  /** The two-step verification PIN, when the number has one. */
  pinRef: SecretRef.optional(),
});

export const HaSetupInput = z.strictObject({
  cluster: OperableCluster,
  registration: Registration,
  approvals: ApprovalPolicy,
  requestedBy: Identity,
  /** How long to wait for the verification code and for health to converge. */
  timeouts: z
    .strictObject({
      code: Duration.default('30m'),
      health: Duration.default('10m'),
      containers: Duration.default('5m'),
    })
    .default({ code: '30m', health: '10m', containers: '5m' }),
});
export type HaSetupInput = z.infer<typeof HaSetupInput>;

export const MulticonnectExpandInput = z
  .strictObject({
    cluster: OperableCluster,
    shards: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16), z.literal(32)], {
      error: 'expected one of 1, 2, 4, 8, 16, 32',
    }),
    /** Hosts to start as standby Coreapps (e.g. from the lab's spare-hosts.json), with pinned keys in cluster.ssh. */
    addCoreappHosts: z.array(HostSpec).default([]),
    registration: Registration.pick({
      cc: true,
      phoneNumber: true,
      certRef: true,
      pinRef: true,
      method: true,
    }).partial({ method: true }),
    approvals: ApprovalPolicy,
    requestedBy: Identity,
    timeouts: z.strictObject({ health: Duration.default('10m') }).default({ health: '10m' }),
  })
  .superRefine((input, ctx) => {
    const names = new Set(input.cluster.hosts.map((h) => h.name));
    input.addCoreappHosts.forEach((h, i) => {
      if (names.has(h.name))
        ctx.addIssue({
          code: 'custom',
          path: ['addCoreappHosts', i, 'name'],
          message: `${h.name} is already in the cluster`,
        });
      if (!h.roles.includes('coreapp'))
        ctx.addIssue({
          code: 'custom',
          path: ['addCoreappHosts', i, 'roles'],
          message: 'an added host must have the role coreapp',
        });
      if (!input.cluster.ssh?.knownHosts[h.name]) {
        ctx.addIssue({
          code: 'custom',
          path: ['cluster', 'ssh', 'knownHosts', h.name],
          message: `no pinned host key for added host ${h.name}`,
        });
      }
    });
    const coreapps =
      input.cluster.hosts.filter((h) => h.roles.includes('coreapp')).length + input.addCoreappHosts.length;
    if (coreapps < input.shards) {
      ctx.addIssue({
        code: 'custom',
        path: ['shards'],
        message: `${input.shards} shards need at least ${input.shards} Coreapp hosts; the cluster would have ${coreapps}`,
      });
    }
  });
export type MulticonnectExpandInput = z.infer<typeof MulticonnectExpandInput>;
