// The approval policy of a cluster, as the worker's inventory holds it (TRUST.md): who may approve,
// with which public keys, how many approvals a gate needs, the bounds of a gate's timeout, which
// chat relays may speak for whom, and per-runbook differences. Pure.
import { z } from 'zod';
import { type GateCounting, whyNeverApprovable } from './approval-reach';
import { type ApprovalPolicy, Identity } from './approvals';
import { Duration, durationMsOrNaN } from './duration';
import { GATED_RUNBOOKS, type RunbookName } from './runbooks';
import { parsePublicKey } from './ssh/public-key';

/** An OpenSSH public key line: `<type> <base64> [comment]`, as in authorized_keys or `*.pub`. */
export const SshPublicKey = z
  .string()
  .max(2000)
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) AAAA[A-Za-z0-9+/]+={0,2}( [\x20-\x7e]{0,200})?$/,
    'expected an OpenSSH public key line: "<type> <base64> [comment]"',
  )
  .superRefine((line, ctx) => {
    if (!/^[a-z0-9-]+ AAAA/.test(line)) return; // the pattern's own message says it
    try {
      parsePublicKey(line);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a usable public key: ${(err as Error).message}` });
    }
  });

export const Approver = z.strictObject({
  name: Identity,
  /** The keys this person signs decisions with (issue 12: SSHSIG). */
  keys: z.array(SshPublicKey).min(1, 'an approver needs at least one public key').max(10),
});

/** A chat bot relaying decisions: its own key, and the people it may speak for. */
export const Relay = z.strictObject({
  name: Identity,
  key: SshPublicKey,
  mayActFor: z.array(Identity).min(1).max(100),
});

/** The bounds of a gate's timeout: a run's input may pick one between `min` and `max`. */
const GateTimeout = z
  .strictObject({
    default: Duration.default('24h'),
    min: Duration.default('5m'),
    max: Duration.default('7d'),
  })
  .superRefine((t, ctx) => {
    const [lo, def, hi] = [durationMsOrNaN(t.min), durationMsOrNaN(t.default), durationMsOrNaN(t.max)];
    if ([lo, def, hi].some(Number.isNaN)) return;
    if (lo < 1_000) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must be at least 1s' });
    if (hi > 90 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be at most 90d' });
    if (!(lo <= def && def <= hi))
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `must be between min ${t.min} and max ${t.max}`,
      });
  });
export type GateTimeout = z.output<typeof GateTimeout>;

const DEFAULT_TIMEOUT = { default: '24h', min: '5m', max: '7d' };

/** What a runbook may set differently from the cluster's policy. */
const Override = z.strictObject({
  /** A subset of the cluster's approvers, by name. */
  approvers: z.array(Identity).min(1).max(100).optional(),
  minApprovals: z.number().int().min(1).max(10).optional(),
  allowSelfApproval: z.boolean().optional(),
  allowPreApproval: z.boolean().optional(),
  timeout: GateTimeout.optional(),
});

export const PolicySpec = z
  .strictObject({
    approvers: z.array(Approver).min(1, 'a policy needs at least one approver').max(100),
    minApprovals: z.number().int().min(1).max(10).default(1),
    allowSelfApproval: z.boolean().default(false),
    allowPreApproval: z.boolean().default(false),
    timeout: GateTimeout.default(DEFAULT_TIMEOUT),
    relays: z.array(Relay).max(20).default([]),
    /** People who may start runs with a signed request (authenticated requesters) but not approve. */
    requesters: z.array(Approver).max(100).default([]),
    /** Must the registration verification code be signed like a decision? */
    signCodes: z.boolean().default(false),
    runbooks: z.partialRecord(z.enum(GATED_RUNBOOKS), Override).default({}),
  })
  .superRefine((p, ctx) => {
    // Refinements also see values that failed their own checks: only valid identities are quoted.
    const valid = (who: string) => Identity.safeParse(who).success;
    const names = p.approvers.map((a) => (valid(a.name) ? a.name.toLowerCase() : ''));
    names.forEach((n, i) => {
      if (n && names.indexOf(n) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['approvers', i, 'name'],
          message: `approver ${n} is listed twice`,
        });
    });
    const keyOwner = new Map<string, string>();
    for (const a of p.requesters)
      for (const k of a.keys) {
        if (!valid(a.name)) continue;
        keyOwner.set(k.split(' ')[1] ?? '', a.name);
      }
    for (const [i, a] of p.approvers.entries())
      for (const [j, k] of a.keys.entries()) {
        const blob = k.split(' ')[1] ?? '';
        const owner = keyOwner.get(blob);
        if (owner && owner !== a.name && valid(owner))
          ctx.addIssue({
            code: 'custom',
            path: ['approvers', i, 'keys', j],
            message: `this key is also ${owner}'s: one key is one person`,
          });
        keyOwner.set(blob, a.name);
      }
    // A relay's key is the relay's alone: were it also a person's, one key could count twice.
    for (const [i, r] of p.relays.entries()) {
      const blob = r.key.split(' ')[1] ?? '';
      const owner = keyOwner.get(blob);
      if (owner !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['relays', i, 'key'],
          message: `this key is also ${owner}'s: a relay needs its own key`,
        });
      keyOwner.set(blob, `relay ${r.name}`);
      if (p.relays.findIndex((o) => o.name.toLowerCase() === r.name.toLowerCase()) < i)
        ctx.addIssue({
          code: 'custom',
          path: ['relays', i, 'name'],
          message: `relay ${r.name} is listed twice`,
        });
    }
    const known = new Set(names);
    for (const [i, r] of p.relays.entries())
      for (const [j, who] of r.mayActFor.entries())
        if (valid(who) && !known.has(who.toLowerCase()))
          ctx.addIssue({
            code: 'custom',
            path: ['relays', i, 'mayActFor', j],
            message: `${who} is not an approver of this policy`,
          });
    // Every policy a gate may apply (the cluster's, and each override as merged) must be passable by
    // some start; an override that changes nothing counted is covered by the cluster's verdict.
    const requesters = p.requesters.filter((r) => valid(r.name)).map((r) => r.name);
    const reach = (where: (string | number)[], counting: GateCounting) => {
      const why = whyNeverApprovable(counting);
      if (why) ctx.addIssue({ code: 'custom', path: [...where, 'minApprovals'], message: why });
    };
    const all = names.filter(Boolean);
    reach([], {
      approvers: all,
      minApprovals: p.minApprovals,
      allowSelfApproval: p.allowSelfApproval,
      requesters,
    });
    for (const [runbook, o] of Object.entries(p.runbooks)) {
      if (!o) continue;
      for (const [j, who] of (o.approvers ?? []).entries()) {
        if (valid(who) && !known.has(who.toLowerCase()))
          ctx.addIssue({
            code: 'custom',
            path: ['runbooks', runbook, 'approvers', j],
            message: `${who} is not in this policy's approvers`,
          });
      }
      if (o.approvers === undefined && o.minApprovals === undefined && o.allowSelfApproval === undefined)
        continue;
      // As policyFor merges it: the named approvers the cluster lists, the rest inherited.
      const chosen = new Set((o.approvers ?? all).map((a) => a.toLowerCase()));
      reach(['runbooks', runbook], {
        approvers: all.filter((a) => chosen.has(a)),
        minApprovals: o.minApprovals ?? p.minApprovals,
        allowSelfApproval: o.allowSelfApproval ?? p.allowSelfApproval,
        requesters,
      });
    }
  });
export type PolicySpec = z.output<typeof PolicySpec>;

/** The policy one runbook's gates apply, with every approver's keys and the relays. */
export interface ResolvedPolicy {
  approvers: string[];
  /** Public keys by approver name. */
  keys: Record<string, string[]>;
  /** Public keys of the people who may only start runs, by name. */
  requesters: Record<string, string[]>;
  minApprovals: number;
  allowSelfApproval: boolean;
  allowPreApproval: boolean;
  signCodes: boolean;
  timeout: GateTimeout;
  relays: { name: string; key: string; mayActFor: string[] }[];
}

/** The cluster's policy with the runbook's differences applied. */
export function policyFor(spec: PolicySpec, runbook: RunbookName): ResolvedPolicy {
  const o = (spec.runbooks as Partial<Record<string, z.output<typeof Override>>>)[runbook] ?? {};
  const names = o.approvers ?? spec.approvers.map((a) => a.name);
  const chosen = spec.approvers.filter((a) => names.some((n) => n.toLowerCase() === a.name.toLowerCase()));
  return {
    approvers: chosen.map((a) => a.name),
    keys: Object.fromEntries(chosen.map((a) => [a.name, [...a.keys]])),
    minApprovals: o.minApprovals ?? spec.minApprovals,
    allowSelfApproval: o.allowSelfApproval ?? spec.allowSelfApproval,
    allowPreApproval: o.allowPreApproval ?? spec.allowPreApproval,
    signCodes: spec.signCodes,
    timeout: o.timeout ?? spec.timeout,
    relays: spec.relays.map((r) => ({ ...r, mayActFor: [...r.mayActFor] })),
    requesters: Object.fromEntries(spec.requesters.map((r) => [r.name, [...r.keys]])),
  };
}

/** The gates' policy for one run: the resolved policy and the timeout its input chose (bounded). */
export function gatePolicy(policy: ResolvedPolicy, timeout?: string): ApprovalPolicy {
  return {
    approvers: [...policy.approvers],
    minApprovals: policy.minApprovals,
    allowSelfApproval: policy.allowSelfApproval,
    allowPreApproval: policy.allowPreApproval,
    timeout: timeout ?? policy.timeout.default,
    keys: Object.fromEntries(Object.entries(policy.keys).map(([k, v]) => [k, [...v]])),
    requesters: Object.fromEntries(Object.entries(policy.requesters).map(([k, v]) => [k, [...v]])),
    relays: policy.relays.map((r) => ({ ...r, mayActFor: [...r.mayActFor] })),
    signCodes: policy.signCodes,
  };
}
