// Commands that decide: approve, reject and code (signed with the operator's SSH key and sent), `sign`
// (print a signed decision or pre-approval, to paste or to put in a schedule's input) and `audit`.
import { auditText } from '../../audit/audit';
import { auditWorkflow } from '../../audit/load';
import { decide, runForDecision, sendSignedCode, signedDecision } from '../../client/decide';
import { InputError } from '../../client/errors';
import { PreApproval } from '../../model/approvals';
import { MAX_PRE_APPROVAL_MS } from '../../model/decision-check';
import { preApprovalText } from '../../model/decisions';
import { Duration, durationMs } from '../../model/duration';
import { describeIssues } from '../../model/validate';
import { chooseSigner } from '../../signing/choose';
import { CommandFailed } from '../exit';
import { emit } from '../output';
import type { Session } from '../session';
import { uiLink } from './runs';

interface DecisionFlags {
  gate: string;
  as?: string;
  key?: string;
  comment?: string;
  reason?: string;
}

const noteOf = (verb: 'approve' | 'reject', o: DecisionFlags) => (verb === 'approve' ? o.comment : o.reason);

export async function decideCommand(s: Session, verb: 'approve' | 'reject', id: string, o: DecisionFlags) {
  const c = await s.connect();
  const run = await runForDecision(c.client, id);
  const signer = await chooseSigner(
    { ...(o.key ? { key: o.key } : {}), ...(o.as ? { as: o.as } : {}) },
    run.approvers,
  );
  const note = noteOf(verb, o);
  const r = await decide(c.client, id, verb, signer, {
    gate: o.gate,
    ...(o.as ? { as: o.as } : {}),
    ...(note !== undefined ? { note } : {}),
  });
  emit(s.format, r, () =>
    verb === 'reject'
      ? `rejected gate ${o.gate} of ${id}: ${note}`
      : `approved gate ${o.gate} of ${id} (${r.approvals}/${r.needed}, ${r.state}) with ${r.key}`,
  );
}

export async function code(s: Session, id: string, value: string, o: { as?: string; key?: string }) {
  const c = await s.connect();
  const run = await runForDecision(c.client, id);
  // Signed when a key is at hand (the policy may require it); else the name given is enough.
  const signer = await chooseSigner(
    { ...(o.key ? { key: o.key } : {}), ...(o.as ? { as: o.as } : {}) },
    run.approvers,
  ).catch((err: unknown) => {
    if (run.codePlan || o.key) throw err;
    return undefined;
  });
  const r = await sendSignedCode(c.client, id, value, signer, o.as ? { as: o.as } : {});
  emit(
    s.format,
    r,
    () => `verification code accepted by ${id}${signer ? ` (signed with ${signer.fingerprint})` : ''}`,
  );
}

/** `sign approve|reject <id>`: the signed arguments, for the Web UI's Update/Signal dialog. */
export async function signDecision(s: Session, verb: 'approve' | 'reject', id: string, o: DecisionFlags) {
  const c = await s.connect();
  const run = await runForDecision(c.client, id);
  const signer = await chooseSigner(
    { ...(o.key ? { key: o.key } : {}), ...(o.as ? { as: o.as } : {}) },
    run.approvers,
  );
  const note = noteOf(verb, o);
  const decision = await signedDecision(run, verb, signer, {
    gate: o.gate,
    ...(o.as ? { as: o.as } : {}),
    ...(note !== undefined ? { note } : {}),
  });
  emit(s.format, decision, () =>
    [
      `# Web UI: ${uiLink(c.namespace, id)} -> Update (or Signal) "${verb}", input:`,
      JSON.stringify(decision),
    ].join('\n'),
  );
}

export interface PreApproveFlags {
  cluster: string;
  runbook: string;
  gate: string;
  plan: string;
  reason: string;
  as: string;
  valid: string;
  key?: string;
}

/** `sign preapprove`: an approval, signed now, of one plan of one runbook's gate on one cluster. */
export async function signPreApproval(s: Session, o: PreApproveFlags): Promise<void> {
  if (!Duration.safeParse(o.valid).success || durationMs(o.valid) > MAX_PRE_APPROVAL_MS)
    throw new InputError(`--valid must be a duration of at most 30d, got "${o.valid}"`);
  const at = new Date().toISOString();
  const validUntil = new Date(Date.parse(at) + durationMs(o.valid)).toISOString();
  const unsigned = { gate: o.gate, by: o.as, reason: o.reason, plan: o.plan, at, validUntil };
  // Checked before signing: a bad plan hash or gate is reported without touching the key.
  const shape = PreApproval.omit({ signature: true }).safeParse(unsigned);
  if (!shape.success)
    throw new InputError(`cannot make that pre-approval: ${describeIssues(shape.error).join('; ')}`);
  const signer = await chooseSigner({ ...(o.key ? { key: o.key } : {}), as: o.as });
  const signature = await signer.sign(
    preApprovalText({ ...unsigned, cluster: o.cluster, runbook: o.runbook }),
  );
  const entry = PreApproval.parse({ ...unsigned, signature });
  // The entry is what goes into the input: JSON either way.
  emit('json', entry, () => '');
  if (s.format === 'text')
    console.error(`# an entry of the schedule input's "preApproved", signed with ${signer.fingerprint}`);
}

export async function audit(
  s: Session,
  id: string,
  o: { run?: string; history?: string; inventory?: string },
): Promise<void> {
  const client = o.history ? undefined : (await s.connect()).client;
  const report = await auditWorkflow({
    workflowId: id,
    ...(client ? { client } : {}),
    ...(o.run ? { runId: o.run } : {}),
    ...(o.history ? { historyFile: o.history } : {}),
    ...(o.inventory ? { inventory: o.inventory } : {}),
  });
  emit(s.format, report, () => auditText(report));
  if (!report.ok) throw new CommandFailed('not every decision verifies');
}
