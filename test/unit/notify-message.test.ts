// The chat message of each notification, and the gate buttons as the ChatOps endpoint reads them.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/chatops/commands';
import type { NotifyEvent } from '../../src/model/notify';
import {
  APPROVE_ACTION,
  BUTTON_REJECT_REASON,
  REJECT_ACTION,
  type SlackMessage,
  slackMessage,
} from '../../src/notify/slack-message';

const run = { cluster: 'prod', runbook: 'upgrade', workflowId: 'prod/upgrade/2026-11-29T10:00' };

const gateOpened: NotifyEvent = {
  kind: 'gateOpened',
  run,
  gate: 'upgrade',
  summary: 'upgrade cluster prod from v2.29.1 to v2.29.3: webapps, masters, coreapps in batches of 1',
  requestedBy: 'carol',
  approvers: ['alice', 'bob'],
  minApprovals: 1,
  timeout: '2h',
};

const events: NotifyEvent[] = [
  gateOpened,
  { kind: 'waitingForWindow', run, opensAt: '2026-12-06T02:00:00.000Z' },
  {
    kind: 'waitingForCode',
    run: { ...run, runbook: 'haSetup', workflowId: 'prod/haSetup/x' },
    timeout: '30m',
  },
  { kind: 'runSucceeded', run, summary: 'v2.29.1 → v2.29.3 on 5 hosts; health ha-connected' },
  { kind: 'runFailed', run, reason: 'gate "upgrade" rejected by bob: not tonight' },
  { kind: 'waitingForLock', run, holder: 'uninstall (workflow prod/uninstall/x)', ahead: 0, lockWait: '1h' },
];

/** Every mrkdwn and plain text of a message, joined. */
const allText = (m: SlackMessage) => JSON.stringify(m);
const buttons = (m: SlackMessage) =>
  m.blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements as { action_id: string; value: string; type: string }[]);

/** The form body Slack posts to /slack/interactions when `value`'s button is clicked, as the server reads it. */
function clickPayload(button: { action_id: string; value: string }) {
  const form = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: 'U_ALICE' },
      actions: [{ action_id: button.action_id, block_id: 'waba_gate', value: button.value, type: 'button' }],
    }),
  });
  // What src/chatops/server.ts does with it: payload.actions[0].value is the command line.
  const payload = JSON.parse(form.get('payload') ?? '') as { actions: { value: string }[] };
  return payload.actions[0]?.value ?? '';
}

describe('notification messages', () => {
  it.each(
    events.map((e) => [e.kind, e] as const),
  )('%s: a short fallback text and blocks naming the run', (_, event) => {
    const m = slackMessage(event);
    expect(m.text.length).toBeGreaterThan(10);
    expect(m.text.length).toBeLessThan(400);
    expect(m.text).toContain(event.run.cluster);
    expect(m.text).toContain(event.run.runbook);
    expect(m.blocks.length).toBeGreaterThanOrEqual(2);
    expect(allText(m)).toContain(event.run.workflowId);
  });

  it('waiting for the lock: who holds it, how many runs are before this one, how long it waits at most', () => {
    const event: NotifyEvent = {
      kind: 'waitingForLock',
      run,
      holder: 'uninstall (workflow prod/uninstall/x)',
      ahead: 2,
      lockWait: '1h',
    };
    const m = slackMessage(event);
    expect(m.text).toBe(
      'Waiting for the cluster lock: upgrade on prod; held by uninstall (workflow prod/uninstall/x); 2 other runs before this one',
    );
    expect(allText(m)).toContain('gives up after 1h');
    expect(slackMessage({ ...event, ahead: 0 }).text).not.toContain('before this one');
    expect(buttons(m)).toEqual([]);
  });

  it('gate opened: gate, summary, who asked, who may approve, and Approve/Reject buttons', () => {
    const m = slackMessage(gateOpened);
    expect(m.text).toBe(
      `Approval needed: upgrade on prod, gate upgrade: ${gateOpened.kind === 'gateOpened' && gateOpened.summary}`,
    );
    const text = allText(m);
    for (const part of ['Approval needed', 'gate *upgrade*', 'requested by carol', 'alice, bob', 'within 2h'])
      expect(text).toContain(part);
    expect(buttons(m).map((b) => [b.action_id, b.value])).toEqual([
      [APPROVE_ACTION, `approve ${run.workflowId} upgrade`],
      [REJECT_ACTION, `reject ${run.workflowId} upgrade ${BUTTON_REJECT_REASON}`],
    ]);
  });

  it('gate opened: the plan hash approvers sign; a re-opened gate says the plan changed and what changed', () => {
    const plan = 'a1'.repeat(32);
    const first = slackMessage({ ...gateOpened, plan });
    expect(allText(first)).toContain(`plan sha256 \`${plan}\``);
    expect(first.text).toMatch(/^Approval needed: /);
    expect(allText(first)).not.toContain('plan changed');

    const because = 'core2/wacore ran v2.29.1 when the gate opened, now v2.29.3';
    const again = slackMessage({ ...gateOpened, plan: 'b2'.repeat(32), reopenedBecause: because });
    expect(again.text).toMatch(
      /^Approval needed again \(the plan changed\): upgrade on prod, gate upgrade: /,
    );
    const text = allText(again);
    expect(text).toContain('earlier approvals no longer count');
    expect(text).toContain(because);
    expect(text).toContain(`plan sha256 \`${'b2'.repeat(32)}\``);
    // Still Approve/Reject buttons for the same gate: the new plan is approved like the first.
    expect(buttons(again).map((b) => b.value)).toEqual(buttons(first).map((b) => b.value));
  });

  it('a click on either button is a command the ChatOps parser accepts, for this run and gate', () => {
    const [approveButton, rejectButton] = buttons(slackMessage(gateOpened));
    if (!approveButton || !rejectButton) throw new Error('no buttons');
    expect(parseCommand(clickPayload(approveButton))).toEqual({
      name: 'approve',
      run: run.workflowId,
      gate: 'upgrade',
    });
    expect(parseCommand(clickPayload(rejectButton))).toEqual({
      name: 'reject',
      run: run.workflowId,
      gate: 'upgrade',
      reason: BUTTON_REJECT_REASON,
    });
  });

  it('only gate messages have buttons', () => {
    for (const e of events) expect(buttons(slackMessage(e)).length > 0, e.kind).toBe(e.kind === 'gateOpened');
  });

  it('a run id the parser cannot take as one word gets no buttons, only a pointer to the CLI', () => {
    const m = slackMessage({ ...gateOpened, run: { ...run, workflowId: 'prod upgrade with spaces' } });
    expect(buttons(m)).toEqual([]);
    expect(allText(m)).toContain('the CLI or the Web UI');
  });

  it('window, code, success and failure say what an operator needs', () => {
    const [, window, code, ok, failed] = events.map((e) => allText(slackMessage(e)));
    expect(window).toContain('opens at 2026-12-06T02:00:00.000Z');
    expect(code).toContain('within 30m');
    expect(code).toContain('/waba code prod/haSetup/x &lt;code&gt;');
    expect(ok).toContain('Succeeded');
    expect(ok).toContain('health ha-connected');
    expect(failed).toContain('Failed');
    expect(failed).toContain('rejected by bob: not tonight');
  });

  it('escapes mrkdwn control characters and clips long reasons', () => {
    const m = slackMessage({ kind: 'runFailed', run, reason: `<!channel> & ${'x'.repeat(2000)}` });
    const section = m.blocks[0] as { text: { text: string } };
    expect(section.text.text).toContain('&lt;!channel&gt; &amp; ');
    expect(section.text.text).not.toContain('<!channel>');
    expect(section.text.text.length).toBeLessThan(800);
    expect(m.text.length).toBeLessThan(300);
  });
});
