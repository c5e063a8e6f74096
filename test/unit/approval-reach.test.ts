// TRUST.md rule 7 at load time: a policy no start could ever pass is refused by the inventory. The
// rule (src/model/approval-reach.ts) is compared, over many generated policies, with a brute-force
// simulation of what a run does: every way to start it, then every approver trying to approve.
import { describe, expect, it } from 'vitest';
import { approvableStarts, type GateCounting, whyNeverApprovable } from '../../src/model/approval-reach';
import { normalIdentity } from '../../src/model/decisions';
import { gatePolicy, PolicySpec, policyFor } from '../../src/model/policy';
import { testKey } from '../support/keys';

type Start = { requestedBy: string; signed: boolean };

/**
 * Does a run started as `start` ever pass a gate? Mirrors the workflow: checkStart accepts a
 * signature only by a key of an approver or a requester; ApprovalGates.usePolicy asks one more
 * approval of an unauthenticated requester with self-approval off; ApprovalGates.check refuses
 * non-approvers, the requester (self-approval off) and a second approval by the same person.
 */
function simulate(p: GateCounting, start: Start): boolean {
  const signers = new Set([...p.approvers, ...p.requesters].map(normalIdentity));
  if (start.signed && !signers.has(normalIdentity(start.requestedBy))) return false; // start refused
  const needed = p.minApprovals + (start.signed || p.allowSelfApproval ? 0 : 1);
  const approvers = new Set(p.approvers.map(normalIdentity));
  const given = new Set<string>();
  // Everyone listed tries, twice and under another case: only distinct eligible approvers count.
  for (const by of [...p.approvers, ...p.approvers.map((a) => a.toUpperCase()), 'stranger']) {
    const who = normalIdentity(by);
    if (!approvers.has(who)) continue;
    if (who === normalIdentity(start.requestedBy) && !p.allowSelfApproval) continue;
    given.add(who);
    if (given.size >= needed) return true;
  }
  return false;
}

/** Every start worth trying: unsigned or signed, by every name the policy knows and a stranger. */
function startsOf(p: GateCounting): Start[] {
  const names = [...p.approvers, ...p.requesters, 'stranger', 'Stranger2'];
  return names.flatMap((requestedBy) => [
    { requestedBy, signed: false },
    { requestedBy, signed: true },
  ]);
}

const anyStartPasses = (p: GateCounting) => startsOf(p).some((s) => simulate(p, s));

/** All subsets of `xs` (in order). */
function subsets<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [[]];
  for (const x of xs) for (const s of out.slice()) out.push([...s, x]);
  return out;
}

describe('whyNeverApprovable', () => {
  const generated: GateCounting[] = [];
  for (const approvers of subsets(['alice', 'bob', 'carol', 'dave', 'ALICE']))
    for (const requesters of subsets(['erin', 'Bob', 'carol']))
      for (const minApprovals of [1, 2, 3, 4, 5])
        for (const allowSelfApproval of [false, true])
          generated.push({ approvers, requesters, minApprovals, allowSelfApproval });

  it(`agrees with a brute-force simulation of the gates on ${generated.length} generated policies`, () => {
    expect(generated.length).toBe(32 * 8 * 5 * 2);
    const disagree = generated.filter((p) => (whyNeverApprovable(p) === undefined) !== anyStartPasses(p));
    expect(disagree).toEqual([]);
    // Each kind of start, too.
    const outsider = (p: GateCounting) =>
      p.requesters.find((r) => !p.approvers.some((a) => normalIdentity(a) === normalIdentity(r)));
    for (const p of generated) {
      const kinds = approvableStarts(p);
      expect(kinds.unsigned, JSON.stringify(p)).toBe(simulate(p, { requestedBy: 'stranger', signed: false }));
      const anApprover = p.approvers[0];
      expect(kinds.signedByApprover).toBe(
        anApprover !== undefined && simulate(p, { requestedBy: anApprover, signed: true }),
      );
      const r = outsider(p);
      expect(kinds.signedByRequester).toBe(r !== undefined && simulate(p, { requestedBy: r, signed: true }));
    }
  });

  it('names why: too few approvers at all, or too few once the requester is left out', () => {
    const base = { requesters: [], allowSelfApproval: false };
    expect(whyNeverApprovable({ ...base, approvers: ['alice', 'bob'], minApprovals: 3 })).toBe(
      '3 approvals can never be given: only 2 approver(s)',
    );
    expect(whyNeverApprovable({ ...base, approvers: ['alice', 'bob'], minApprovals: 2 })).toBe(
      "2 approvals can never be given with self-approval off: an approver's signed start leaves 1 other " +
        'approver(s), an unsigned start needs 3 of 2, and no requester outside the approvers may start it ' +
        '(TRUST.md rule 7); add an approver, lower minApprovals or list a requester',
    );
    // A requester who is not an approver may start it signed; self-approval lets anyone start it.
    expect(
      whyNeverApprovable({ ...base, approvers: ['alice', 'bob'], minApprovals: 2, requesters: ['carol'] }),
    ).toBeUndefined();
    expect(
      whyNeverApprovable({ ...base, approvers: ['alice', 'bob'], minApprovals: 2, allowSelfApproval: true }),
    ).toBeUndefined();
    // Names compare case-insensitively: ALICE is alice, and a requester bob is the approver bob.
    expect(
      whyNeverApprovable({
        ...base,
        approvers: ['alice', 'ALICE', 'bob'],
        minApprovals: 2,
        requesters: ['BOB'],
      }),
    ).toContain('leaves 1 other approver(s)');
  });
});

describe('the inventory policy refuses every policy no start could pass', () => {
  const people = ['alice', 'bob', 'carol'] as const;
  const person = (name: string) => ({ name, keys: [testKey(name).publicLine] });
  type Override = { approvers?: string[]; minApprovals?: number; allowSelfApproval?: boolean };
  const overrides: (Override | undefined)[] = [undefined];
  for (const approvers of [undefined, ...subsets(people).filter((s) => s.length > 0)])
    for (const minApprovals of [undefined, 1, 2, 3])
      for (const allowSelfApproval of [undefined, false, true])
        overrides.push({
          ...(approvers ? { approvers } : {}),
          ...(minApprovals ? { minApprovals } : {}),
          ...(allowSelfApproval !== undefined ? { allowSelfApproval } : {}),
        });

  it('agrees with the simulation for the cluster policy and an uninstall override, as merged', () => {
    let checked = 0;
    const refused = { cluster: 0, uninstall: 0 };
    let accepted = 0;
    for (const approvers of subsets(people).filter((s) => s.length > 0))
      for (const requesters of [[], ['dave'], ['carol']])
        for (const minApprovals of [1, 2, 3])
          for (const allowSelfApproval of [false, true])
            for (const uninstall of overrides) {
              // An override names a subset of the cluster's approvers (others are another error).
              if (uninstall?.approvers?.some((a) => !approvers.includes(a as never))) continue;
              const spec = {
                approvers: approvers.map(person),
                minApprovals,
                allowSelfApproval,
                allowPreApproval: false,
                timeout: { default: '24h', min: '5m', max: '7d' },
                relays: [],
                requesters: requesters.map(person),
                signCodes: false,
                runbooks: uninstall ? { uninstall } : {},
              };
              // What each runbook's gates would apply: the real merge, then the simulation.
              const impossible = (runbook: 'upgrade' | 'uninstall') => {
                const g = gatePolicy(policyFor(spec as PolicySpec, runbook));
                return !anyStartPasses({ ...g, requesters: Object.keys(g.requesters) });
              };
              const parsed = PolicySpec.safeParse(spec);
              const paths = parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
              const counted = uninstall !== undefined && Object.keys(uninstall).some((k) => k !== 'timeout');
              const where = { spec, paths };
              expect(paths.includes('minApprovals'), JSON.stringify(where)).toBe(impossible('upgrade'));
              expect(paths.includes('runbooks.uninstall.minApprovals'), JSON.stringify(where)).toBe(
                counted && impossible('uninstall'),
              );
              // Nothing else is wrong with these policies.
              expect(
                paths.every((p) => p.endsWith('minApprovals')),
                JSON.stringify(where),
              ).toBe(true);
              if (paths.includes('minApprovals')) refused.cluster++;
              if (paths.includes('runbooks.uninstall.minApprovals')) refused.uninstall++;
              if (parsed.success) accepted++;
              checked++;
            }
    expect(checked).toBe(5742);
    // Both verdicts occur, at both levels: the comparison is not vacuous.
    expect(refused.cluster).toBeGreaterThan(100);
    expect(refused.uninstall).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(100);
  });
});
