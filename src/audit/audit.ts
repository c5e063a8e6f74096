// `waba-runbooks audit <workflow id>`: every decision of a run, verified again offline against the
// keys of the worker's inventory (not against the keys the history recorded: a history can be
// tampered with, the inventory is trusted). What it checks: the signed start, every approve and
// reject (Update or Signal), every verification code, every approval given in advance, and that
// each decision the run counted (its result) is one of those verified decisions.
import type { History } from '@temporalio/common/lib/proto-utils';
import type { ApprovalPolicy, ApproveArgs, CodeArgs, PreApproval, RejectArgs } from '../model/approvals';
import { canonicalJson } from '../model/canonical';
import {
  checkCode,
  checkGateDecision,
  checkPreApproval,
  checkStart,
  type PolicyKeys,
  policyKeys,
} from '../model/decision-check';
import { normalIdentity, sha256Hex } from '../model/decisions';
import type { Resolution } from '../model/inventory';
import { gatePolicy, type ResolvedPolicy } from '../model/policy';
import type { ConfirmedSchedule } from '../model/scheduled-run';

export interface AuditLine {
  /** When the run received it (the event's time). */
  at: string;
  what: 'schedule' | 'start' | 'approve' | 'reject' | 'code' | 'pre-approval' | 'counted';
  gate?: string;
  by?: string;
  plan?: string;
  key?: string;
  via?: string;
  /** How it reached the run: an Update (validated), a Signal, the input. */
  how: 'update' | 'signal' | 'input' | 'result';
  ok: boolean;
  why?: string;
}

export interface AuditReport {
  workflowId: string;
  runId: string;
  runbook: string;
  cluster: string;
  /** The policy hash the run recorded, and the one the inventory gives now. */
  policyHash: { recorded: string | null; inventory: string };
  lines: AuditLine[];
  ok: boolean;
}

/** A decoded event of interest, with its time. */
export interface DecodedEvent {
  at: number;
  kind: 'started' | 'activityScheduled' | 'activityCompleted' | 'update' | 'signal' | 'completed';
  eventId: number;
  name?: string;
  scheduledEventId?: number;
  value?: unknown;
  scheduledBy?: string;
}

/** Decode one payload (JSON, after the codec when it is encrypted) into a value. */
export type PayloadDecoder = (payload: {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}) => Promise<unknown>;

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** The events an audit reads, decoded. */
export async function decodeHistory(
  history: History,
  decode: PayloadDecoder,
): Promise<{ events: DecodedEvent[]; runId: string }> {
  const out: DecodedEvent[] = [];
  let runId = '';
  const first = async (payloads: { payloads?: unknown[] | null } | null | undefined) => {
    const p = payloads?.payloads?.[0];
    return p ? decode(p as Parameters<PayloadDecoder>[0]) : undefined;
  };
  for (const e of history.events ?? []) {
    const base = { at: ms(e.eventTime as never), eventId: Number(e.eventId ?? 0) };
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      runId = a.originalExecutionRunId ?? a.firstExecutionRunId ?? '';
      const scheduled = a.searchAttributes?.indexedFields?.TemporalScheduledById;
      out.push({
        ...base,
        kind: 'started',
        name: a.workflowType?.name ?? '',
        value: await first(a.input),
        ...(scheduled ? { scheduledBy: String(await decode(scheduled as never)) } : {}),
      });
    } else if (e.activityTaskScheduledEventAttributes) {
      out.push({
        ...base,
        kind: 'activityScheduled',
        name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '',
      });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      out.push({
        ...base,
        kind: 'activityCompleted',
        scheduledEventId: Number(a.scheduledEventId ?? 0),
        value: await first(a.result),
      });
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const input = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input;
      out.push({ ...base, kind: 'update', name: input?.name ?? '', value: await first(input?.args) });
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      out.push({ ...base, kind: 'signal', name: a.signalName ?? '', value: await first(a.input) });
    } else if (e.workflowExecutionCompletedEventAttributes) {
      out.push({
        ...base,
        kind: 'completed',
        value: await first(e.workflowExecutionCompletedEventAttributes.result),
      });
    }
  }
  return { events: out, runId };
}

/** The result the run recorded of its first `activity` (resolveCluster, confirmScheduledRun), if it completed. */
function recorded<T>(events: DecodedEvent[], activity: string): T | undefined {
  const scheduled = events.find((e) => e.kind === 'activityScheduled' && e.name === activity);
  const done = events.find(
    (e) => e.kind === 'activityCompleted' && e.scheduledEventId === scheduled?.eventId,
  );
  return done?.value as T | undefined;
}

/**
 * Verify every decision of a run against `policy` (the inventory's policy for this cluster and
 * runbook, now) and `specHash` (what the gates' plan hashes bind).
 */
export function auditRun(opts: {
  workflowId: string;
  runId: string;
  events: DecodedEvent[];
  /** The cluster's policy for this runbook, from the inventory. */
  policy: ResolvedPolicy;
  policyHash: string;
}): AuditReport {
  const { events, workflowId, runId } = opts;
  const started = events.find((e) => e.kind === 'started');
  const input = (started?.value ?? {}) as Record<string, unknown>;
  const runbook = started?.name ?? '?';
  const resolution = recorded<Resolution>(events, 'resolveCluster');
  const policy: ApprovalPolicy = gatePolicy(opts.policy);
  const keys: PolicyKeys = policyKeys(policy);
  const lines: AuditLine[] = [];
  const iso = (t: number) => new Date(t).toISOString();

  // TemporalScheduledById: any start request may set it, so it counts only if the run recorded the
  // schedule confirming it started the run (runs from before that check never did).
  const schedule = started?.scheduledBy
    ? recorded<ConfirmedSchedule>(events, 'confirmScheduledRun')
    : undefined;
  if (started?.scheduledBy)
    lines.push({
      at: iso(started.at),
      what: 'schedule',
      by: started.scheduledBy,
      how: 'input',
      ok: schedule?.scheduleId === started.scheduledBy,
      ...(schedule?.scheduleId === started.scheduledBy
        ? {}
        : {
            why: 'TemporalScheduledById is set, but the run did not record the schedule confirming it started the run (a start request can set it)',
          }),
    });

  // The start request: who asked, if it was signed.
  if (input.request && typeof input.requestedBy === 'string' && started) {
    const { request, ...signed } = input;
    const r = checkStart(request as { at: string; signature: string }, {
      requestedBy: input.requestedBy,
      runbook,
      inputHash: sha256Hex(canonicalJson(signed)),
      target: started.scheduledBy ? `schedule:${started.scheduledBy}` : workflowId,
      now: started.at,
      ...(schedule ? { scheduleCreatedAt: Date.parse(schedule.createdAt) } : {}),
      keys,
    });
    lines.push({
      at: iso(started.at),
      what: 'start',
      by: input.requestedBy,
      how: 'input',
      ok: r.ok,
      ...(r.ok ? { key: r.fingerprint } : { why: r.why }),
    });
  }

  // Approvals and rejections, by Update (the run validated them) or by Signal (the run may have refused them).
  const verified: { gate: string; by: string; plan: string; signedAt: string }[] = [];
  for (const e of events.filter(
    (x) => (x.kind === 'update' || x.kind === 'signal') && (x.name === 'approve' || x.name === 'reject'),
  )) {
    const args = e.value as ApproveArgs | RejectArgs;
    const verb = e.name as 'approve' | 'reject';
    const r = checkGateDecision({ verb, args, workflowId, runId, plan: args.plan ?? '', now: e.at, keys });
    const counted = e.kind === 'update'; // a Signal that does not verify was refused by the run too
    if (r.ok)
      verified.push({
        gate: args.gate,
        by: normalIdentity(args.by),
        plan: args.plan ?? '',
        signedAt: args.at ?? '',
      });
    lines.push({
      at: iso(e.at),
      what: verb,
      gate: args.gate,
      by: args.by,
      ...(args.plan ? { plan: args.plan } : {}),
      ...(args.via ? { via: args.via } : {}),
      how: e.kind as 'update' | 'signal',
      ok: r.ok || !counted,
      ...(r.ok
        ? { key: r.fingerprint }
        : { why: counted ? r.why : `refused (as the run refused it): ${r.why}` }),
    });
  }

  // Verification codes: signed ones verified; unsigned ones are fine only where the policy allows them.
  for (const e of events.filter(
    (x) => (x.kind === 'update' || x.kind === 'signal') && x.name === 'verificationCode',
  )) {
    const args = e.value as CodeArgs;
    if (!args.signature) {
      lines.push({
        at: iso(e.at),
        what: 'code',
        by: args.by,
        how: e.kind as 'update',
        ok: !policy.signCodes || e.kind === 'signal',
        ...(policy.signCodes ? { why: 'unsigned, and the policy wants codes signed' } : {}),
      });
      continue;
    }
    const plan = verified.find((v) => v.gate === 'register')?.plan ?? '';
    const r = checkCode(args, { workflowId, runId, plan, now: e.at, keys, approversOnly: true });
    lines.push({
      at: iso(e.at),
      what: 'code',
      by: args.by,
      how: e.kind as 'update',
      ok: r.ok,
      ...(r.ok ? { key: r.fingerprint } : { why: r.why }),
    });
  }

  // What the run says it counted: each must be a verified decision, or a verified pre-approval.
  const completed = events.find((e) => e.kind === 'completed');
  const counted =
    (
      completed?.value as
        | {
            decisions?: {
              gate: string;
              kind: string;
              by: string;
              plan?: string;
              signedAt?: string;
              preApproved?: boolean;
            }[];
          }
        | undefined
    )?.decisions ?? [];
  const preApproved = (Array.isArray(input.preApproved) ? input.preApproved : []) as PreApproval[];
  for (const d of counted) {
    if (d.preApproved) {
      const p = preApproved.find((x) => normalIdentity(x.by) === normalIdentity(d.by) && x.gate === d.gate);
      const r = p
        ? checkPreApproval(p, {
            cluster: resolution?.cluster.name ?? String(input.cluster),
            runbook,
            plan: d.plan ?? '',
            now: Date.parse(p.at),
            keys,
          })
        : ({
            ok: false,
            why: 'counted as pre-approved, but the input carries no such pre-approval',
          } as const);
      lines.push({
        at: d.signedAt ?? '',
        what: 'pre-approval',
        gate: d.gate,
        by: d.by,
        ...(d.plan ? { plan: d.plan } : {}),
        how: 'input',
        ok: r.ok,
        ...(r.ok ? { key: r.fingerprint } : { why: r.why }),
      });
      continue;
    }
    const match = verified.some(
      (v) =>
        v.gate === d.gate &&
        v.by === normalIdentity(d.by) &&
        v.plan === d.plan &&
        (!d.signedAt || v.signedAt === d.signedAt),
    );
    if (!match)
      lines.push({
        at: d.signedAt ?? '',
        what: 'counted',
        gate: d.gate,
        by: d.by,
        ...(d.plan ? { plan: d.plan } : {}),
        how: 'result',
        ok: false,
        why: `the run counted a ${d.kind} by ${d.by} on gate ${d.gate} that no verified decision backs`,
      });
  }

  return {
    workflowId,
    runId,
    runbook,
    cluster: resolution?.cluster.name ?? String(input.cluster ?? '?'),
    policyHash: { recorded: resolution?.policyHash ?? null, inventory: opts.policyHash },
    lines,
    ok: lines.every((l) => l.ok),
  };
}

/** The report as a person reads it: one line per decision, then the verdict. */
export function auditText(r: AuditReport): string {
  const out = [`audit of ${r.workflowId} (run ${r.runId}): ${r.runbook} on cluster ${r.cluster}`];
  if (r.policyHash.recorded && r.policyHash.recorded !== r.policyHash.inventory)
    out.push(
      `note: the policy changed since the run (recorded ${r.policyHash.recorded.slice(0, 12)}…, inventory ${r.policyHash.inventory.slice(0, 12)}…): decisions are checked against the inventory's keys`,
    );
  for (const l of r.lines)
    out.push(
      `${l.ok ? 'ok  ' : 'FAIL'} ${l.at} ${l.what}${l.gate ? ` ${l.gate}` : ''}${l.by ? ` by ${l.by}` : ''}${l.via ? ` via ${l.via}` : ''} (${l.how})` +
        `${l.plan ? ` plan ${l.plan.slice(0, 12)}…` : ''}${l.key ? ` key ${l.key}` : ''}${l.why ? `: ${l.why}` : ''}`,
    );
  if (r.lines.length === 0) out.push('no decisions');
  out.push(r.ok ? 'every decision verifies' : 'NOT every decision verifies');
  return out.join('\n');
}
