// A generated corpus of hostile decisions, starts and pre-approvals, as an attacker with namespace
// access would send them: every field of a good signed one changed in turn, every byte of its
// signature flipped, other people's keys, another namespace, times outside the window. Each goes
// through the same parse and check the workflow runs; not one may count.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApproveArgs, PreApproval, RejectArgs } from '../../src/model/approvals';
import { canonicalJson } from '../../src/model/canonical';
import {
  checkGateDecision,
  checkPreApproval,
  checkStart,
  type PolicyKeys,
  policyKeys,
} from '../../src/model/decision-check';
import { decisionText, preApprovalText, sha256Hex, startText } from '../../src/model/decisions';
import { SSHSIG_NAMESPACE } from '../../src/model/ssh/sshsig';
import { testKey } from '../support/keys';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');
const AT = '2026-11-30T11:58:00.000Z';
const PLAN = createHash('sha256').update('the plan').digest('hex');
const RUN = { workflowId: 'prod/upgrade', runId: '0192f0c4-7d8e-7aa1-b2c3-d4e5f6a7b8c9' };
const OTHERS = Array.from({ length: 20 }, (_, i) => `mallory${i}`);

const keys: PolicyKeys = policyKeys({
  keys: Object.fromEntries(['alice', 'bob'].map((n) => [n, [testKey(n).publicLine]])),
  requesters: { carol: [testKey('carol').publicLine] },
  relays: [{ name: 'chatops', key: testKey('chatops').publicLine, mayActFor: ['alice'] }],
});

/** Every single-byte flip of an armored signature's body, and some truncations, re-armored. */
function corruptions(armored: string): string[] {
  const body = Buffer.from(armored.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const armor = (b: Buffer) =>
    `-----BEGIN SSH SIGNATURE-----\n${(b.toString('base64').match(/.{1,70}/g) ?? []).join('\n')}\n-----END SSH SIGNATURE-----\n`;
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const b = Buffer.from(body);
    b[i] = (b[i] as number) ^ (1 << (i % 8));
    out.push(armor(b));
  }
  for (const n of [0, 6, 10, 40, body.length - 1]) out.push(armor(body.subarray(0, n)));
  out.push(armor(Buffer.concat([body, Buffer.from([0])])));
  return out;
}

/** alice's signature of `text` with its namespace field rewritten (as if made for git): refused. */
async function otherNamespace(text: string): Promise<string> {
  const good = await testKey('alice').signer.sign(text);
  const body = Buffer.from(good.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const ns = Buffer.from(SSHSIG_NAMESPACE);
  const at = body.indexOf(ns);
  const swapped = Buffer.concat([
    body.subarray(0, at),
    Buffer.from('git-commits--'),
    body.subarray(at + ns.length),
  ]);
  return `-----BEGIN SSH SIGNATURE-----\n${swapped.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
}

describe('hostile signed decisions: none counts', () => {
  it('gate decisions: every changed field, flipped byte, other key, other namespace or time is refused', async () => {
    const good = { gate: 'upgrade', by: 'alice', at: AT, plan: PLAN, comment: 'CHG-42' };
    const text = (d: typeof good, run = RUN, verb: 'approve' | 'reject' = 'approve') =>
      decisionText({ verb, ...run, gate: d.gate, plan: d.plan, by: d.by, at: d.at, note: d.comment });
    const signature = await testKey('alice').signer.sign(text(good));
    const counts = (args: unknown, verb: 'approve' | 'reject' = 'approve', plan = PLAN, run = RUN) => {
      const parsed = (verb === 'approve' ? ApproveArgs : RejectArgs).safeParse(args);
      if (!parsed.success) return false;
      return checkGateDecision({ verb, args: parsed.data, ...run, plan, now: NOW, keys }).ok;
    };
    expect(counts({ ...good, signature })).toBe(true);
    // The same person under another case is the same person, with the same signature.
    expect(counts({ ...good, by: 'ALICE', signature })).toBe(true);

    const hostile: {
      name: string;
      args: unknown;
      verb?: 'approve' | 'reject';
      plan?: string;
      run?: typeof RUN;
    }[] = [];
    const add = (name: string, args: unknown, o: Partial<(typeof hostile)[number]> = {}) =>
      hostile.push({ name, args, ...o });
    // The signed decision sent to another run, workflow, gate or plan than it was signed for.
    add('another run', { ...good, signature }, { run: { ...RUN, runId: `${RUN.runId.slice(0, -1)}0` } });
    add('another workflow', { ...good, signature }, { run: { ...RUN, workflowId: 'prod/uninstall' } });
    add('another gate', { ...good, gate: 'rollback', signature });
    add(
      'flipped to a rejection',
      { ...good, reason: 'x', comment: undefined, signature },
      { verb: 'reject' },
    );
    for (let i = 0; i < 64; i++) {
      const other = PLAN.slice(0, i) + (PLAN[i] === '0' ? '1' : '0') + PLAN.slice(i + 1);
      add(`plan digit ${i} changed, as sent`, { ...good, plan: other, signature }, { plan: other });
      add(`gate shows another plan (digit ${i})`, { ...good, signature }, { plan: other });
    }
    for (const by of [
      'bob',
      'carol',
      'chatops',
      'al1ce',
      'alice.',
      'alice@',
      'аlice',
      ' alice',
      'alice\n',
      '',
    ])
      add(`by ${JSON.stringify(by)}`, { ...good, by, signature });
    for (const comment of ['CHG-43', 'CHG-42 ', 'chg-42', '', 'CHG-42\nplan: 0', 'CHG\u000042', undefined])
      add(`comment ${JSON.stringify(comment)}`, { ...good, comment, signature });
    for (const at of ['2026-11-30T11:58:00.001Z', '2026-11-30T12:58:00+01:00', '2026-11-30', 'yesterday', ''])
      add(`at ${at}`, { ...good, at, signature });
    add('unsigned', { ...good, signature: undefined });
    add('no plan', { ...good, plan: undefined, signature });
    add('no time', { ...good, at: undefined, signature });
    add('relayed without the relay key', { ...good, relay: 'chatops', via: 'slack:U1', signature });
    add('via without relay', { ...good, via: 'slack:U1', signature });
    for (const [i, bad] of corruptions(signature).entries())
      add(`signature byte ${i}`, { ...good, signature: bad });
    for (const name of OTHERS)
      add(`signed by ${name}`, { ...good, signature: await testKey(name).signer.sign(text(good)) });
    add('signed by bob as alice', { ...good, signature: await testKey('bob').signer.sign(text(good)) });
    add('another namespace', { ...good, signature: await otherNamespace(text(good)) });
    // Signed honestly, but too long ago or ahead of the run's clock.
    for (const minutes of [-16, -60, -1440, 6, 60]) {
      const at = new Date(NOW + minutes * 60_000).toISOString();
      const d = { ...good, at };
      add(`signed ${minutes} min from now`, { ...d, signature: await testKey('alice').signer.sign(text(d)) });
    }

    expect(hostile.length).toBeGreaterThan(300);
    const counted = hostile.filter((h) => counts(h.args, h.verb, h.plan, h.run)).map((h) => h.name);
    expect(counted).toEqual([]);
  });

  it('signed starts: another input, target, runbook, person or key proves nothing', async () => {
    const input = { cluster: 'prod', toVersion: '2.29.3', requestedBy: 'carol', rollback: 'off' };
    const hash = (i: unknown) => sha256Hex(canonicalJson(i));
    const text = startText({
      target: RUN.workflowId,
      runbook: 'upgrade',
      input: hash(input),
      by: 'carol',
      at: AT,
    });
    const request = { at: AT, signature: await testKey('carol').signer.sign(text) };
    const check = (o: {
      input?: unknown;
      target?: string;
      runbook?: string;
      by?: string;
      req?: typeof request;
    }) =>
      checkStart(o.req ?? request, {
        requestedBy: o.by ?? 'carol',
        runbook: o.runbook ?? 'upgrade',
        inputHash: hash(o.input ?? input),
        target: o.target ?? RUN.workflowId,
        now: NOW,
        keys,
      }).ok;
    expect(check({})).toBe(true);

    const hostile: { name: string; ok: boolean }[] = [];
    const variants: unknown[] = [
      { ...input, toVersion: '2.29.4' },
      { ...input, cluster: 'lab' },
      { ...input, rollback: 'auto' },
      { ...input, requestedBy: 'alice' },
      { ...input, extra: true },
      { cluster: 'prod', toVersion: '2.29.3', requestedBy: 'carol' },
      { ...input, preview: true },
      { ...input, approvalTimeout: '5m' },
    ];
    for (const [i, v] of variants.entries()) hostile.push({ name: `input ${i}`, ok: check({ input: v }) });
    for (const target of [
      'prod/upgrade2',
      'lab/upgrade',
      'schedule:prod/upgrade/schedule',
      'prod/upgrade/preview-1',
    ])
      hostile.push({ name: `target ${target}`, ok: check({ target }) });
    for (const runbook of ['uninstall', 'haSetup', 'dbUpgrade'])
      hostile.push({ name: `runbook ${runbook}`, ok: check({ runbook }) });
    for (const by of ['alice', 'bob', 'mallory0']) hostile.push({ name: `by ${by}`, ok: check({ by }) });
    for (const [i, signature] of corruptions(request.signature).entries())
      hostile.push({ name: `signature byte ${i}`, ok: check({ req: { ...request, signature } }) });
    for (const name of ['alice', 'bob', ...OTHERS])
      hostile.push({
        name: `signed by ${name} as carol`,
        ok: check({ req: { at: AT, signature: await testKey(name).signer.sign(text) } }),
      });
    hostile.push({
      name: 'another time than signed',
      ok: check({ req: { ...request, at: '2026-11-30T11:59:00.000Z' } }),
    });
    const old = new Date(NOW - 3_600_000).toISOString();
    const oldText = startText({
      target: RUN.workflowId,
      runbook: 'upgrade',
      input: hash(input),
      by: 'carol',
      at: old,
    });
    hostile.push({
      name: 'an hour old',
      ok: check({ req: { at: old, signature: await testKey('carol').signer.sign(oldText) } }),
    });

    expect(hostile.length).toBeGreaterThan(100);
    expect(hostile.filter((h) => h.ok).map((h) => h.name)).toEqual([]);
  });

  it('pre-approvals: another cluster, runbook, gate, plan, person, validity or reason proves nothing', async () => {
    const base = {
      gate: 'upgrade',
      by: 'alice',
      reason: 'CHG-1234 approved by the CAB',
      plan: PLAN,
      at: '2026-11-29T10:00:00.000Z',
      validUntil: '2026-12-06T10:00:00.000Z',
    };
    const sign = async (p: typeof base, cluster = 'prod', runbook = 'upgrade', who = 'alice') =>
      testKey(who).signer.sign(preApprovalText({ ...p, cluster, runbook }));
    const signature = await sign(base);
    const check = (
      p: unknown,
      c: { cluster?: string; runbook?: string; plan?: string; now?: number } = {},
    ) => {
      const parsed = PreApproval.safeParse(p);
      if (!parsed.success) return false;
      return checkPreApproval(parsed.data, {
        cluster: c.cluster ?? 'prod',
        runbook: c.runbook ?? 'upgrade',
        plan: c.plan ?? PLAN,
        now: c.now ?? NOW,
        keys,
      }).ok;
    };
    expect(check({ ...base, signature })).toBe(true);

    const hostile: { name: string; ok: boolean }[] = [];
    for (const cluster of ['lab', 'prod2', 'PROD ', ''])
      hostile.push({ name: `cluster ${cluster}`, ok: check({ ...base, signature }, { cluster }) });
    for (const runbook of ['uninstall', 'haSetup'])
      hostile.push({ name: `runbook ${runbook}`, ok: check({ ...base, signature }, { runbook }) });
    for (const gate of ['rollback', 'uninstall', 'Upgrade'])
      hostile.push({ name: `gate ${gate}`, ok: check({ ...base, gate, signature }) });
    for (let i = 0; i < 64; i += 4) {
      const plan = PLAN.slice(0, i) + (PLAN[i] === 'f' ? 'e' : 'f') + PLAN.slice(i + 1);
      hostile.push({ name: `plan digit ${i}`, ok: check({ ...base, plan, signature }, { plan }) });
      hostile.push({ name: `gate shows plan digit ${i}`, ok: check({ ...base, signature }, { plan }) });
    }
    hostile.push({ name: 'by bob', ok: check({ ...base, by: 'bob', signature }) });
    hostile.push({
      name: 'longer validity',
      ok: check({ ...base, validUntil: '2026-12-20T10:00:00.000Z', signature }),
    });
    hostile.push({
      name: 'other reason',
      ok: check({ ...base, reason: 'CHG-9999 approved by the CAB', signature }),
    });
    hostile.push({
      name: 'expired',
      ok: check({ ...base, signature }, { now: Date.parse('2026-12-07T00:00:00.000Z') }),
    });
    hostile.push({
      name: 'before it was signed',
      ok: check({ ...base, signature }, { now: Date.parse('2026-11-28T00:00:00.000Z') }),
    });
    const long = { ...base, validUntil: '2027-01-30T10:00:00.000Z' };
    hostile.push({ name: 'valid 62 days', ok: check({ ...long, signature: await sign(long) }) });
    hostile.push({ name: 'signed for lab', ok: check({ ...base, signature: await sign(base, 'lab') }) });
    for (const name of ['bob', 'carol', 'chatops', ...OTHERS])
      hostile.push({
        name: `signed by ${name}`,
        ok: check({ ...base, signature: await sign(base, 'prod', 'upgrade', name) }),
      });
    for (const [i, bad] of corruptions(signature).entries())
      hostile.push({ name: `signature byte ${i}`, ok: check({ ...base, signature: bad }) });

    expect(hostile.length).toBeGreaterThan(100);
    expect(hostile.filter((h) => h.ok).map((h) => h.name)).toEqual([]);
  });
});
