// A run's notification as Slack incoming-webhook JSON (Block Kit). Pure: the notify activity only
// sends what this returns. Gate messages carry Approve/Reject buttons whose values are command lines
// the ChatOps endpoint (src/chatops/server.ts, /slack/interactions) runs as the clicking user.
import type { NotifyEvent, RunRef } from '../model/notify';

type Block = Record<string, unknown>;

export interface SlackMessage {
  /** Fallback text: the notification banner and clients without blocks. */
  text: string;
  blocks: Block[];
}

/** Action ids of the gate buttons (the endpoint acts on the value; the ids name the button). */
export const APPROVE_ACTION = 'waba_approve';
export const REJECT_ACTION = 'waba_reject';
/** The reason a Reject click records (the approver identity is recorded beside it). */
export const BUTTON_REJECT_REASON = 'rejected with the chat button';

// Run ids and gate names the ChatOps parser accepts as one word (mirrors its TOKEN; a test holds
// the two together). Anything else gets no buttons, only the typed command.
const WORD = /^[\x21-\x7e]{1,200}$/;

const MAX_SUMMARY = 600;

/** Slack mrkdwn control characters; everything an event carries is shown as text. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max = MAX_SUMMARY): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The command lines the gate buttons send, e.g. `approve prod/upgrade/x upgrade`. */
function gateCommands(workflowId: string, gate: string): { approve: string; reject: string } | null {
  if (!WORD.test(workflowId) || !WORD.test(gate)) return null;
  return {
    approve: `approve ${workflowId} ${gate}`,
    reject: `reject ${workflowId} ${gate} ${BUTTON_REJECT_REASON}`,
  };
}

const head = (icon: string, what: string, run: RunRef) =>
  `${icon} *${escapeMrkdwn(what)}* · ${escapeMrkdwn(run.cluster)} · ${escapeMrkdwn(run.runbook)}`;
const plainHead = (what: string, run: RunRef) => `${what}: ${run.runbook} on ${run.cluster}`;
const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const runLine = (run: RunRef) => `run \`${escapeMrkdwn(run.workflowId)}\``;

function button(label: string, actionId: string, value: string, style: 'primary' | 'danger', ask: string) {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: label },
    style,
    value,
    confirm: {
      title: { type: 'plain_text', text: `${label}?` },
      text: { type: 'plain_text', text: clip(ask, 300) },
      confirm: { type: 'plain_text', text: label },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/** The message for one event. */
export function slackMessage(event: NotifyEvent): SlackMessage {
  const { run } = event;
  switch (event.kind) {
    case 'gateOpened': {
      const needs = `needs ${event.minApprovals} approval(s) from ${event.approvers.join(', ')} within ${event.timeout}`;
      const commands = gateCommands(run.workflowId, event.gate);
      const typed = commands ? `\`/waba ${escapeMrkdwn(commands.approve)}\`` : 'the CLI or the Web UI';
      const reopened = event.reopenedBecause
        ? `\n:warning: the plan changed since it was approved, earlier approvals no longer count: ${escapeMrkdwn(clip(event.reopenedBecause, 500))}`
        : '';
      const blocks: Block[] = [
        section(
          `${head(':raised_hand:', 'Approval needed', run)} · gate *${escapeMrkdwn(event.gate)}*\n` +
            escapeMrkdwn(clip(event.summary)) +
            reopened +
            (event.plan ? `\nplan sha256 \`${event.plan}\`` : ''),
        ),
        context(
          `requested by ${escapeMrkdwn(event.requestedBy)} · ${escapeMrkdwn(needs)} · ${runLine(run)} · or ${typed}`,
        ),
      ];
      if (commands) {
        const ask = `gate "${event.gate}" of ${run.workflowId}`;
        blocks.push({
          type: 'actions',
          block_id: 'waba_gate',
          elements: [
            button('Approve', APPROVE_ACTION, commands.approve, 'primary', `Approve ${ask}`),
            button('Reject', REJECT_ACTION, commands.reject, 'danger', `Reject ${ask}`),
          ],
        });
      }
      return {
        text: `${plainHead(event.reopenedBecause ? 'Approval needed again (the plan changed)' : 'Approval needed', run)}, gate ${event.gate}: ${clip(event.summary, 200)}`,
        blocks,
      };
    }
    case 'waitingForWindow':
      return {
        text: `${plainHead('Waiting for the maintenance window', run)}; opens at ${event.opensAt}`,
        blocks: [
          section(
            `${head(':hourglass_flowing_sand:', 'Waiting for the maintenance window', run)}\nopens at ${escapeMrkdwn(event.opensAt)}; nothing disruptive runs before then`,
          ),
          context(runLine(run)),
        ],
      };
    case 'waitingForLock': {
      const ahead =
        event.ahead > 0 ? `; ${event.ahead} other run${event.ahead > 1 ? 's' : ''} before this one` : '';
      return {
        text: `${plainHead('Waiting for the cluster lock', run)}; held by ${event.holder}${ahead}`,
        blocks: [
          section(
            `${head(':lock:', 'Waiting for the cluster lock', run)}\nheld by ${escapeMrkdwn(event.holder)}${escapeMrkdwn(ahead)}; this run starts when it is free, or gives up after ${escapeMrkdwn(event.lockWait)}`,
          ),
          context(runLine(run)),
        ],
      };
    }
    case 'waitingForCode': {
      const send = WORD.test(run.workflowId)
        ? `\`/waba code ${escapeMrkdwn(run.workflowId)} &lt;code&gt;\``
        : 'the CLI or the Web UI';
      return {
        text: `${plainHead('Verification code needed', run)}; send it within ${event.timeout}`,
        blocks: [
          section(
            `${head(':iphone:', 'Verification code needed', run)}\nsend the registration code within ${escapeMrkdwn(event.timeout)}: ${send}`,
          ),
          context(runLine(run)),
        ],
      };
    }
    case 'runSucceeded':
      return {
        text: `${plainHead('Succeeded', run)}: ${clip(event.summary, 200)}`,
        blocks: [
          section(`${head(':white_check_mark:', 'Succeeded', run)}\n${escapeMrkdwn(clip(event.summary))}`),
          context(runLine(run)),
        ],
      };
    case 'runFailed':
      return {
        text: `${plainHead('Failed', run)}: ${clip(event.reason, 200)}`,
        blocks: [
          section(`${head(':x:', 'Failed', run)}\n${escapeMrkdwn(clip(event.reason))}`),
          context(runLine(run)),
        ],
      };
  }
}
