// What approvers of an upgrade sign (TRUST.md rule 8): the plan's hash changes with everything that
// decides what a failed batch leads to, so approvals (and pre-approvals) given for one input do not
// count for another that would roll back differently or give up sooner.
import { describe, expect, it } from 'vitest';
import type { OperableCluster } from '../../src/model/cluster';
import { UpgradeInput } from '../../src/model/inputs';
import { planHashOf } from '../../workflows/lib/approval';
import { upgradePlan } from '../../workflows/upgrade/plan';
import { testClusterEntry, testInventoryStore } from '../support/inventory';

function cluster(): OperableCluster {
  const found = testInventoryStore({ lab: testClusterEntry() }).byName('lab');
  if (!found.ok) throw new Error(found.message);
  return found.entry.cluster as OperableCluster;
}

/** The plan of an upgrade of the test cluster (MySQL: a dbUpgrade step) with `input` over the defaults. */
const planOf = (input: Record<string, unknown>, binds = true) =>
  upgradePlan(
    UpgradeInput.parse({ cluster: 'lab', toVersion: '2.29.3', requestedBy: 'carol', ...input }),
    cluster(),
    true,
    false,
    () => false,
    [],
    binds,
  );
const hashOf = (input: Record<string, unknown>, binds = true) =>
  planHashOf('upgrade', 'spec', planOf(input, binds));

describe('the upgrade plan', () => {
  const variants: Record<string, unknown>[] = [
    {},
    { rollback: 'auto' },
    { rollback: 'off' },
    { rollback: { mode: 'ask', restoreSettings: true } },
    { rollback: { mode: 'auto', restoreSettings: true } },
    { timeouts: { health: '1s' } },
    { timeouts: { health: '2h' } },
    { timeouts: { dbUpgrade: '1s' } },
  ];

  it('signs what a failed batch leads to: every rollback mode and timeout gives another hash', () => {
    const hashes = variants.map((v) => hashOf(v));
    expect(new Set(hashes).size).toBe(variants.length);
    // The same input, the same plan.
    expect(hashOf({ rollback: 'auto' })).toBe(hashes[1]);
  });

  it('says it in words approvers read', () => {
    const step = (input: Record<string, unknown>) =>
      planOf(input).find((s) => s.stage === 'on a failed batch')?.note;
    expect(step({})).toBe(
      'rollback ask: gate "rollback" asks before every host upgraded so far is put back on what it ran; health gate timeout 10m, dbupgrade job timeout 30m',
    );
    expect(step({ rollback: { mode: 'auto', restoreSettings: true }, timeouts: { health: '5m' } })).toBe(
      'rollback auto: every host upgraded so far put back on what it ran, then the settings backup restored and the Coreapps restarted; health gate timeout 5m, dbupgrade job timeout 30m',
    );
    expect(step({ rollback: 'off' })).toMatch(/^rollback off: the run stops, hosts left as they are; /);
  });

  it('runs from before the patch sign the plan they signed then (no failed-batch step)', () => {
    const old = variants.map((v) => hashOf(v, false));
    expect(new Set(old).size).toBe(1);
  });
});
