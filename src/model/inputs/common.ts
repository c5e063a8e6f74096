// What every runbook input shares. An input carries intent only (TRUST.md rule 1): the cluster's
// name, the operator's options within bounds, who asked. Hosts, URLs, paths, keys, secret
// references and approval policies live in the worker's inventory and are refused here.
import { z } from 'zod';
import { Identity, Signature, SignedAt } from '../approvals';
import type { ClusterSpec, HostSpec } from '../cluster';
import { LOCK_WAIT } from '../cluster-lock';
import { durationIn } from '../duration';
import type { ResolvedPolicy } from '../policy';
import { oneLine } from '../validate';

const CLUSTER_HELP = 'expected the name of a cluster in the worker inventory, e.g. "prod"';

/** The cluster, by its name in the inventory. An inline spec (an object) is refused with a reason. */
export const ClusterName = z
  .string({
    error: (issue) =>
      issue.input !== null && typeof issue.input === 'object'
        ? `${CLUSTER_HELP}: an inline cluster spec is not accepted (hosts, keys, URLs and secrets live in the inventory)`
        : CLUSTER_HELP,
  })
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, CLUSTER_HELP)
  .meta({ description: 'the name of a cluster in the worker inventory' });

/** Who asked for the run, as they say (unauthenticated unless the start was signed, issue 12). */
export const RequestedBy = Identity.meta({ description: 'who asks for this run' });

/** An approval gate's timeout for this run; the cluster's policy bounds it further. */
export const ApprovalTimeout = durationIn('1m', '90d')
  .optional()
  .meta({ description: "how long each approval gate waits; within the cluster policy's timeout bounds" });

/**
 * A signed start (`waba-runbooks start` adds it): `requestedBy`'s SSH signature over this input's
 * hash and the run (or schedule) it starts. Without one the requester is not authenticated.
 */
export const StartRequest = z
  .strictObject({ at: SignedAt, signature: Signature })
  .optional()
  .meta({ description: "added by waba-runbooks start: the requester's signature over this input" });

/**
 * A dry run (`waba-runbooks plan <runbook> --input ...`): only the read-only stages run (host keys,
 * preflight, ps, health), then the run ends with the plan its first gate would show and its hash,
 * which approvers can sign in advance. Nothing is changed, no gate opens.
 */
export const Preview = z
  .boolean()
  .optional()
  .meta({ description: 'true: a dry run that ends with the plan and its hash; nothing is changed' });

/**
 * What a disruptive run does when another disruptive run holds its cluster's lock
 * (docs/approvals.md "One disruptive run per cluster"): every disruptive runbook's input has these
 * two fields.
 */
export const ClusterLockFields = {
  whenBusy: z
    .enum(['refuse', 'wait'])
    .optional()
    .meta({
      description:
        'when another disruptive run holds the cluster: "refuse" (default) stops this run at once with ConcurrentRun; ' +
        '"wait" queues it (first come, first served) until that run ends, for at most lockWait',
    }),
  lockWait: durationIn(LOCK_WAIT.min, LOCK_WAIT.max)
    .optional()
    .meta({
      description: `with whenBusy "wait": how long to wait for the cluster, from ${LOCK_WAIT.min} to ${LOCK_WAIT.max} (default ${LOCK_WAIT.default}); then the run stops with ConcurrentRun`,
    }),
};

/** `lockWait` only with `whenBusy: "wait"`: a refused run does not wait, so the field would be ignored. */
export function lockWaitNeedsWait(
  input: { whenBusy?: 'refuse' | 'wait'; lockWait?: string },
  ctx: z.RefinementCtx,
): void {
  if (input.lockWait !== undefined && input.whenBusy !== 'wait')
    ctx.addIssue({
      code: 'custom',
      path: ['lockWait'],
      message: 'only with whenBusy: "wait" (the default, "refuse", does not wait)',
    });
}

/**
 * Free text an input carries (a reason): one line, no control characters or bidi overrides. It is
 * shown to approvers in the plan and in terminals, where such characters could rewrite what they see.
 */
export const OneLineText = (min: number, max: number) => oneLine(z.string().min(min).max(max));

/** Editors validate `examples/*.json` through it; a run ignores it. */
export const SchemaRef = oneLine(z.string().max(300)).optional();

/**
 * Fields people wrote in inputs before the inventory existed, and where each lives now: an unknown
 * key with one of these names is refused with this explanation.
 */
export const MOVED_TO_INVENTORY: Readonly<Record<string, string>> = {
  approvals: 'the approval policy lives in the inventory (clusters.<name>.approvals)',
  registration:
    'the number, certificate and PIN live in the inventory (clusters.<name>.registration); an input may only choose "method"',
  backup: 'the backup password lives in the inventory (clusters.<name>.backup)',
  mediaDir: 'the media directory lives in the inventory (clusters.<name>.media.containerDir)',
  addCoreappHosts: 'name spare hosts of the inventory in "addCoreapps" instead',
  hosts: 'hosts live in the inventory (clusters.<name>.hosts)',
  api: 'the API URL and its TLS trust live in the inventory (clusters.<name>.api)',
  baseUrl: 'the API URL lives in the inventory (clusters.<name>.api.baseUrl)',
  ssh: 'SSH keys and pinned host keys live in the inventory (clusters.<name>.ssh)',
  knownHosts: 'pinned host keys live in the inventory (clusters.<name>.ssh.knownHosts)',
  db: 'database settings live in the inventory (clusters.<name>.db)',
  compose: 'compose files live in the inventory (clusters.<name>.compose)',
  workDir: 'the work directory lives in the inventory (clusters.<name>.workDir)',
  version: 'the version a cluster runs lives in the inventory (clusters.<name>.version)',
  passwordRef: 'secret references live only in the inventory',
  certRef: 'secret references live only in the inventory',
  pinRef: 'secret references live only in the inventory',
  privateKeyRef: 'secret references live only in the inventory',
};

/** A problem of an input found against the resolved cluster: the field's path and what is wrong. */
export interface InputIssue {
  path: (string | number)[];
  message: string;
}

/** What an input is checked against once its cluster is resolved. */
export interface Resolved {
  cluster: ClusterSpec;
  policy: ResolvedPolicy | null;
}

/** `approvalTimeout` within the policy's bounds. */
export function approvalTimeoutIssues(timeout: string | undefined, r: Resolved, ms: (d: string) => number) {
  if (!timeout || !r.policy) return [];
  const { min, max } = r.policy.timeout;
  const t = ms(timeout);
  return t < ms(min) || t > ms(max)
    ? [
        {
          path: ['approvalTimeout'],
          message: `must be between ${min} and ${max} (the approval policy of cluster ${r.cluster.name})`,
        },
      ]
    : [];
}

/** A member host of the cluster by name, or why not (a spare host, another role, no such host). */
export function memberHost(
  r: Resolved,
  name: string,
  role?: 'webapp' | 'master' | 'coreapp',
): { host: HostSpec } | { why: string } {
  const host = r.cluster.hosts.find((h) => h.name === name);
  if (!host)
    return r.cluster.spareHosts.some((h) => h.name === name)
      ? { why: `${name} is a spare host of cluster ${r.cluster.name}, not a member yet` }
      : { why: `${name} is not a host of cluster ${r.cluster.name} in the inventory` };
  if (role && !host.roles.includes(role))
    return { why: `${name} is not a ${role} host (roles: ${host.roles.join(', ')})` };
  return { host };
}
