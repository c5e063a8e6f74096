// What an operator reads about runs, shared by the CLI's text output and the ChatOps answers: the
// open gates across runs, a run's status and its plan, each as data and as a few readable lines.
import type { Client } from '@temporalio/client';
import type { RunStatus } from '../../workflows/api';
import { status } from './runbooks';

/** One open gate of one running run (`pending`). */
export interface PendingGate {
  cluster: string;
  runbook: string;
  workflowId: string;
  gate: string;
  requestedBy: string;
  openedAt: string | null;
  approvals: string[];
  needed: number | null;
  plan: string | null;
}

export interface Pending {
  gates: PendingGate[];
  /** Running runs that did not answer their `status` query in time. */
  unanswered: string[];
  /** More running runs than `maxRuns` exist: only the first were looked at. */
  truncated: boolean;
}

/** Open gates of running runbook runs, each run asked for its status within `deadline` (ms epoch). */
export async function pendingGates(
  client: Client,
  o: { deadline: number; maxRuns?: number },
): Promise<Pending> {
  const max = o.maxRuns ?? 100;
  const ids: string[] = [];
  let truncated = false;
  for await (const wf of client.workflow.list({
    query: "WabaRunbook IS NOT NULL AND ExecutionStatus = 'Running'",
  })) {
    if (ids.length >= max) {
      truncated = true;
      break;
    }
    ids.push(wf.workflowId);
  }
  const answers = await Promise.all(
    ids.map((id) =>
      client
        .withDeadline(o.deadline, () => status(client, id))
        .then(
          (s) => ({ id, s }),
          () => ({ id, s: undefined }),
        ),
    ),
  );
  const gates: PendingGate[] = [];
  for (const { id, s } of answers)
    for (const g of s?.pendingGates ?? [])
      gates.push({
        cluster: s?.cluster ?? '?',
        runbook: s?.runbook ?? '?',
        workflowId: id,
        gate: g.gate,
        requestedBy: s?.requester?.name ?? s?.requestedBy ?? '?',
        openedAt: g.openedAt ?? null,
        approvals: g.approvals ?? [],
        needed: g.needed ?? null,
        plan: g.plan ?? null,
      });
  gates.sort((a, b) => (a.cluster + a.workflowId + a.gate).localeCompare(b.cluster + b.workflowId + b.gate));
  return { gates, unanswered: answers.filter((a) => !a.s).map((a) => a.id), truncated };
}

/** `45s`, `12m`, `3h5m`, `2d4h`: how long ago `fromIso` was. */
export function age(fromIso: string | null | undefined, nowMs: number): string {
  const from = fromIso ? Date.parse(fromIso) : Number.NaN;
  if (Number.isNaN(from)) return '?';
  const s = Math.max(0, Math.round((nowMs - from) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

export const oneLine = (s: string, max = 300): string => {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

const progress = (g: { approvals?: string[]; needed?: number | null }) =>
  `${g.approvals?.length ?? 0}/${g.needed ?? '?'}`;

/** One line per open gate, and what was not looked at. */
export function pendingText(p: Pending, nowMs: number): string {
  const lines = p.gates.map(
    (g) =>
      `${g.cluster} · ${g.runbook} · ${g.workflowId} · gate ${g.gate} (${progress(g)}) · ` +
      `requested by ${g.requestedBy} · open ${age(g.openedAt, nowMs)}${g.plan ? ` · plan ${g.plan.slice(0, 12)}` : ''}`,
  );
  const notes = [
    ...(p.unanswered.length ? [`(${p.unanswered.length} running run(s) did not answer in time)`] : []),
    ...(p.truncated ? ['(only the first running runs were looked at)'] : []),
  ];
  return [lines.length ? `open gates (${lines.length}):` : 'no open gates', ...lines, ...notes].join('\n');
}

/** The run's stage, open gates, the code it waits for, its last error; per host with `hosts`. */
export function statusText(run: string, s: RunStatus, nowMs: number, o: { hosts?: boolean } = {}): string {
  const gates = (s.pendingGates ?? []).map(
    (g) =>
      `${g.gate} (${progress(g)}, open ${age(g.openedAt, nowMs)}${g.plan ? `, plan ${g.plan.slice(0, 12)}` : ''})`,
  );
  const hosts = Object.entries(s.hosts ?? {});
  return [
    `${run}: ${s.runbook ?? '?'} on ${s.cluster ?? '?'}`,
    `stage: ${s.stage ?? '?'}`,
    `open gates: ${gates.length ? gates.join(', ') : 'none'}`,
    ...(s.awaitingCode ? ['waiting for the verification code'] : []),
    ...(s.warnings ?? []).map((w) => `warning: ${oneLine(w, 600)}`),
    ...(s.lastError ? [`last error: ${oneLine(s.lastError)}`] : []),
    ...(o.hosts && hosts.length
      ? ['hosts:', ...hosts.map(([h, what]) => `  ${h}: ${oneLine(what, 120)}`)]
      : []),
  ].join('\n');
}

/** Numbered steps; at most `max` of them, then how many more. */
export function planText(run: string, steps: unknown[], max = Number.POSITIVE_INFINITY): string {
  const lines = steps.slice(0, max).map((raw, i) => {
    const st = (raw ?? {}) as { stage?: string; host?: string; command?: string; note?: string };
    const where = st.host ? ` @${st.host}` : '';
    const what = st.command ? `: ${st.command}` : st.note ? `: ${st.note}` : '';
    return `${i + 1}. ${st.stage ?? '?'}${where}${what}`;
  });
  if (steps.length > max) lines.push(`... ${steps.length - max} more (npx waba-runbooks plan ${run})`);
  return [`plan of ${run} (${steps.length} steps):`, ...lines].join('\n');
}
