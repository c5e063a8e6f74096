// Commands on runs: start, status, watch, plan (of a run, or a dry run of an input), result, list
// and pending. Each prints JSON (-o json) or readable text.
import { WorkflowFailedError } from '@temporalio/client';
import { InputError } from '../../client/errors';
import { plan as planOf, RUNBOOKS, startRunbook, status as statusOf } from '../../client/runbooks';
import { age, pendingGates, pendingText, planText, statusText } from '../../client/views';
import { temporalUiUrl } from '../../config/cli';
import type { PreviewResult } from '../../model/results';
import { GATED_RUNBOOKS, isGated, previewIdFor, RUNBOOK_NAMES } from '../../model/runbooks';
import { chooseSigner } from '../../signing/choose';
import type { Signer } from '../../signing/signer';
import { CommandFailed } from '../exit';
import { checkedInput } from '../input';
import { emit, table } from '../output';
import type { Session } from '../session';
import { intervalMs, watchRun } from '../watch';

export function uiLink(namespace: string, id: string): string {
  const base = temporalUiUrl();
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}`;
}

/**
 * A gated runbook's start is signed as its requester with the operator's key (ssh-agent or --key),
 * unless --unsigned; without a key it starts unsigned and says what that costs.
 */
export async function startSigner(
  runbook: string,
  o: { key?: string; unsigned?: boolean },
): Promise<Signer | undefined> {
  if (!isGated(runbook) || o.unsigned) return undefined;
  try {
    return await chooseSigner(o.key ? { key: o.key } : {});
  } catch (err) {
    if (o.key || !(err instanceof InputError)) throw err;
    console.error(
      `waba-runbooks: starting unsigned (${err.message}): the requester is not authenticated, so with self-approval off every gate needs one more approver`,
    );
    return undefined;
  }
}

export async function start(
  s: Session,
  runbook: string,
  o: { input: string; id?: string; key?: string; unsigned?: boolean; watch?: boolean; interval: string },
): Promise<void> {
  const input = checkedInput(runbook, o.input);
  if (o.watch) intervalMs(o.interval);
  const signer = await startSigner(runbook, o);
  const c = await s.connect();
  const started = await startRunbook(c.client, c.taskQueue, runbook, input, o.id, signer);
  const out = {
    workflowId: started.workflowId,
    runId: started.runId,
    runbook,
    taskQueue: c.taskQueue,
    signedWith: signer?.fingerprint ?? null,
    url: uiLink(c.namespace, started.workflowId),
  };
  if (o.watch && s.format === 'json') console.log(JSON.stringify({ event: 'started', ...out }));
  else
    emit(s.format, out, () =>
      [
        `started ${runbook}: ${out.workflowId} (run ${out.runId})`,
        ...(signer ? [`request signed with ${signer.fingerprint} (${signer.source})`] : []),
        `Web UI: ${out.url}`,
      ].join('\n'),
    );
  if (o.watch) await watch(s, started.workflowId, o);
}

export async function status(s: Session, id: string): Promise<void> {
  const c = await s.connect();
  const st = await statusOf(c.client, id);
  emit(s.format, st, () => statusText(id, st, Date.now(), { hosts: true }));
}

export async function watch(s: Session, id: string, o: { interval: string }): Promise<void> {
  intervalMs(o.interval);
  const c = await s.connect();
  const end = await watchRun(c.client, id, { format: s.format, interval: o.interval });
  if (end.outcome !== 'completed')
    throw new CommandFailed(`${id} ${end.outcome}${end.failure ? `: ${end.failure}` : ''}`);
}

/** `plan <id>`: the run's plan; `plan <runbook> --input FILE`: a dry run's. */
export async function plan(s: Session, idOrRunbook: string, o: { input?: string }): Promise<void> {
  if (o.input !== undefined) return dryRun(s, idOrRunbook, o.input);
  if ((RUNBOOK_NAMES as readonly string[]).includes(idOrRunbook))
    throw new InputError(`plan ${idOrRunbook} needs --input FILE for a dry run (or give a workflow id)`);
  const c = await s.connect();
  const steps = await planOf(c.client, idOrRunbook);
  emit(s.format, { workflowId: idOrRunbook, steps }, () => planText(idOrRunbook, steps));
}

/** A dry run: started as a preview (read-only stages only), awaited, its first gate's plan printed. */
async function dryRun(s: Session, runbook: string, file: string): Promise<void> {
  const input = checkedInput(runbook, file);
  if (!isGated(runbook))
    throw new InputError(`${runbook} has no gate: a dry run is for ${GATED_RUNBOOKS.join(', ')}`);
  const c = await s.connect();
  const cluster = (input as { cluster: string }).cluster;
  const handle = await c.client.workflow.start(runbook, {
    taskQueue: c.taskQueue,
    workflowId: previewIdFor(cluster, runbook),
    args: [{ ...(input as object), preview: true }],
    workflowExecutionTimeout: '15m',
  });
  const out = (await handle.result()) as PreviewResult;
  emit(s.format, out, () =>
    [
      planText(handle.workflowId, out.plan),
      `gate "${out.gate}" would show plan ${out.planHash}`,
      `to approve it in advance: waba-runbooks sign preapprove --cluster ${out.cluster} --runbook ${runbook} --gate ${out.gate} --plan ${out.planHash} --reason "..." --as <you>`,
    ].join('\n'),
  );
}

export async function result(s: Session, id: string): Promise<void> {
  const c = await s.connect();
  try {
    const value = await c.client.workflow.getHandle(id).result();
    emit(s.format, { workflowId: id, outcome: 'completed', result: value }, () =>
      JSON.stringify(value, null, 2),
    );
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const failure = (err.cause as Error | undefined)?.message ?? err.message;
    if (s.format === 'json')
      console.log(JSON.stringify({ workflowId: id, outcome: 'failed', failure }, null, 2));
    throw new CommandFailed(`${id} failed: ${failure}`);
  }
}

/** Open runs of runbook workflows (not schedules' or other workflows on the server), sorted by cluster. */
export async function list(s: Session): Promise<void> {
  const c = await s.connect();
  const types = Object.keys(RUNBOOKS)
    .map((t) => `'${t}'`)
    .join(', ');
  const runs: { cluster: string; runbook: string; workflowId: string; step: string }[] = [];
  for await (const wf of c.client.workflow.list({
    query: `ExecutionStatus = 'Running' AND WorkflowType IN (${types})`,
  })) {
    const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
    runs.push({
      cluster: String(sa.WabaCluster?.[0] ?? '-'),
      runbook: wf.type,
      workflowId: wf.workflowId,
      step: String(sa.WabaStep?.[0] ?? ''),
    });
  }
  // By cluster, then runbook, then id: one cluster's runs together.
  const key = (r: (typeof runs)[number]) => `${r.cluster}\u0000${r.runbook}\u0000${r.workflowId}`;
  runs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  emit(s.format, runs, () =>
    runs.length
      ? table(
          ['CLUSTER', 'RUNBOOK', 'WORKFLOW ID', 'STEP'],
          runs.map((r) => [r.cluster, r.runbook, r.workflowId, r.step]),
        )
      : 'no open runbook runs',
  );
}

export async function pending(s: Session): Promise<void> {
  const c = await s.connect();
  const open = await pendingGates(c.client, { deadline: Date.now() + 5_000 });
  const now = Date.now();
  emit(s.format, open, () => {
    if (!open.gates.length) return pendingText(open, now);
    const rows = open.gates.map((g) => [
      g.cluster,
      g.runbook,
      g.workflowId,
      g.gate,
      `${g.approvals.length}/${g.needed ?? '?'}`,
      g.requestedBy,
      age(g.openedAt, now),
      g.plan?.slice(0, 12) ?? '',
    ]);
    const notes = pendingText({ ...open, gates: [] }, now)
      .split('\n')
      .slice(1);
    return [
      table(['CLUSTER', 'RUNBOOK', 'RUN', 'GATE', 'APPROVALS', 'REQUESTED BY', 'AGE', 'PLAN'], rows),
      ...notes,
    ].join('\n');
  });
}
