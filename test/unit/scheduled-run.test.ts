// Trusting a run as scheduled: the schedule must list it (src/model/scheduled-run.ts), and a start
// signed for a schedule must have been fresh when the server created that schedule, so a copied
// input cannot serve a schedule re-created later under the same id (src/model/decision-check.ts).
import { describe, expect, it } from 'vitest';
import { auditRun, type DecodedEvent } from '../../src/audit/audit';
import { signStart } from '../../src/client/decide';
import { checkStart, policyKeys } from '../../src/model/decision-check';
import { startText } from '../../src/model/decisions';
import type { ResolvedPolicy } from '../../src/model/policy';
import { listsRun } from '../../src/model/scheduled-run';
import { testKey } from '../support/keys';

const claim = {
  scheduleId: 'prod/upgrade/schedule',
  workflowId: 'prod/upgrade-2026-12-06T02:00:00Z',
  firstExecutionRunId: 'r1',
};

describe('listsRun', () => {
  it('finds the run among running or recent actions, by workflow id and first run id', () => {
    const run = { workflowId: claim.workflowId, firstExecutionRunId: 'r1' };
    expect(listsRun({ running: [run], recent: [] }, claim)).toBe(true);
    expect(listsRun({ running: [], recent: [run] }, claim)).toBe(true);
    expect(listsRun({ running: [], recent: [] }, claim)).toBe(false);
    // Same id, another run (a manual start that reused a scheduled run's id): not the schedule's.
    expect(listsRun({ running: [{ ...run, firstExecutionRunId: 'r2' }], recent: [] }, claim)).toBe(false);
    expect(listsRun({ running: [], recent: [{ ...run, workflowId: 'prod/upgrade-other' }] }, claim)).toBe(
      false,
    );
  });
});

describe('checkStart for a schedule', () => {
  const keys = policyKeys({ keys: {}, requesters: { carol: [testKey('carol').publicLine] }, relays: [] });
  const created = Date.parse('2026-11-30T12:00:00.000Z');
  const signedAt = async (at: string) => {
    const c = {
      target: 'schedule:prod/upgrade/schedule',
      runbook: 'upgrade',
      input: 'ab'.repeat(32),
      by: 'carol',
      at,
    };
    return { at, signature: await testKey('carol').signer.sign(startText(c)) };
  };
  const check = (request: { at: string; signature: string }, scheduleCreatedAt?: number) =>
    checkStart(request, {
      requestedBy: 'carol',
      runbook: 'upgrade',
      inputHash: 'ab'.repeat(32),
      target: 'schedule:prod/upgrade/schedule',
      // Weeks later: a schedule's runs come long after its signature.
      now: created + 30 * 86_400_000,
      ...(scheduleCreatedAt !== undefined ? { scheduleCreatedAt } : {}),
      keys,
    });

  it('holds when signed just before the schedule was created, weeks before the run', async () => {
    expect(check(await signedAt('2026-11-30T11:59:30.000Z'), created)).toMatchObject({ ok: true });
  });

  it('is refused when signed long before the schedule was created', async () => {
    expect(check(await signedAt('2026-11-30T10:00:00.000Z'), created)).toEqual({
      ok: false,
      why: "signed at 2026-11-30T10:00:00.000Z, more than 15 minutes before the schedule's creation (2026-11-30T12:00:00.000Z): sign it again",
    });
  });

  it('without the creation time (runs from before the check), the time is not checked', async () => {
    expect(check(await signedAt('2026-11-30T10:00:00.000Z'))).toMatchObject({ ok: true });
  });
});

describe('audit of a run carrying TemporalScheduledById', () => {
  const scheduleId = 'prod/upgrade/schedule';
  const policy: ResolvedPolicy = {
    approvers: ['alice', 'bob'],
    keys: { alice: [testKey('alice').publicLine], bob: [testKey('bob').publicLine] },
    requesters: { carol: [testKey('carol').publicLine] },
    minApprovals: 1,
    allowSelfApproval: false,
    allowPreApproval: true,
    signCodes: false,
    timeout: { default: '24h', min: '5m', max: '7d' },
    relays: [],
  };
  const at = Date.parse('2026-12-06T02:00:00.000Z');
  const audit = async (confirmed: boolean) => {
    const input = await signStart(
      { cluster: 'prod', toVersion: '2.29.3', requestedBy: 'carol' },
      'upgrade',
      `schedule:${scheduleId}`,
      testKey('carol').signer,
      '2026-11-30T11:59:30.000Z',
    );
    const events: DecodedEvent[] = [
      { at, eventId: 1, kind: 'started', name: 'upgrade', value: input, scheduledBy: scheduleId },
      ...(confirmed
        ? ([
            { at, eventId: 5, kind: 'activityScheduled', name: 'confirmScheduledRun' },
            {
              at,
              eventId: 7,
              kind: 'activityCompleted',
              scheduledEventId: 5,
              value: { scheduleId, createdAt: '2026-11-30T12:00:00.000Z' },
            },
          ] as DecodedEvent[])
        : []),
    ];
    return auditRun({ workflowId: `${scheduleId}-x`, runId: 'r1', events, policy, policyHash: 'h' });
  };

  it('passes when the run recorded the schedule confirming it', async () => {
    const report = await audit(true);
    expect(report.lines.map((l) => [l.what, l.ok])).toEqual([
      ['schedule', true],
      ['start', true],
    ]);
    expect(report.ok).toBe(true);
  });

  it('fails when it did not: the attribute alone proves nothing', async () => {
    const report = await audit(false);
    expect(report.lines[0]).toMatchObject({ what: 'schedule', by: scheduleId, ok: false });
    expect(report.lines[0]?.why).toMatch(/a start request can set it/);
    expect(report.ok).toBe(false);
  });
});
