// The ChatOps endpoint end to end: the real HTTP server on 127.0.0.1, correctly signed (and forged,
// replayed) Slack and webhook requests, acting on a haSetup run with fake activities on the suite's
// dev server. Every wait bounded; open runs are terminated by the scenario.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createChatopsServer } from '../../src/chatops/server';
import { signSlack, signWebhook } from '../../src/chatops/verify';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import { fakeCluster, haSetupInput, scenario, until, within } from '../support/fake-cluster';
import { approverKeyLine } from '../support/inventory';
import { testKey } from '../support/keys';
import { ISO_TIME, keyOf, PLAN_HASH } from '../support/signed-decisions';

const SLACK_SECRET = 'slack-signing-secret-for-tests';
const HOOK_SECRET = 'webhook-secret-for-tests';
// Both /slack and /webhook are served, so every key names its chat (a bare id would be the same
// person in both: a webhook bot could send a Slack user's id).
const IDENTITIES = new Map([
  ['slack:U_ALICE', 'alice'],
  ['slack:U_BOB', 'bob'], // an approver this relay may not speak for
  ['webhook:U_DAVE', 'dave'], // mapped, but not an approver of the run
  ['webhook:bot-carol', 'carol'], // an approver who requested the run: self-approval is off
]);

const statusOf = (h: WorkflowHandle) => h.query(statusQuery) as Promise<GatedRunStatus>;

interface Sent {
  status: number;
  body: { text?: string; response_type?: string; error?: string };
  /** Send the very same request (headers and body) again. */
  replay(): Promise<Sent>;
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<Sent> {
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  return {
    status: res.status,
    body: (await res.json()) as Sent['body'],
    replay: () => post(url, headers, body),
  };
}

function endpoint(base: string) {
  const ts = () => String(Math.floor(Date.now() / 1000));
  const slackForm = (path: string, form: Record<string, string>, secret = SLACK_SECRET) => {
    const body = new URLSearchParams(form).toString();
    const t = ts();
    return post(
      `${base}${path}`,
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': t,
        'x-slack-signature': signSlack(secret, t, body),
      },
      body,
    );
  };
  return {
    slash: (user: string, text: string, secret?: string) =>
      slackForm('/slack/commands', { command: '/waba', user_id: user, text, team_id: 'T1' }, secret),
    button: (user: string, value: string) =>
      slackForm('/slack/interactions', {
        payload: JSON.stringify({ type: 'block_actions', user: { id: user }, actions: [{ value }] }),
      }),
    webhook: (user: string, text: string) => {
      const body = JSON.stringify({ user, text });
      const t = ts();
      const id = randomUUID();
      return post(
        `${base}/webhook`,
        {
          'content-type': 'application/json',
          'x-waba-timestamp': t,
          'x-waba-request-id': id,
          'x-waba-signature': signWebhook(HOOK_SECRET, t, id, body),
        },
        body,
      );
    },
  };
}

describe('chatops endpoint', () => {
  it('lists, refuses, approves and takes the code of a haSetup run, over signed HTTP only', async () => {
    // carol is an approver in the inventory's policy, and requests the run (haSetupInput). The
    // endpoint is a relay the policy lets speak for alice and carol (not bob): its own key signs.
    const fake = fakeCluster({
      entry: (e) => {
        e.approvals.approvers.push({ name: 'carol', keys: [approverKeyLine('carol')] });
        e.approvals.relays = [
          { name: 'chatops', key: approverKeyLine('chatops-relay'), mayActFor: ['alice', 'carol'] },
        ];
      },
    });
    await scenario(fake, async ({ client, start }) => {
      const logs: string[] = [];
      const server = createChatopsServer({
        client,
        slackSigningSecret: SLACK_SECRET,
        webhookSecret: HOOK_SECRET,
        identities: IDENTITIES,
        relay: { name: 'chatops', signer: testKey('chatops-relay').signer },
        queryTimeoutMs: 5_000,
        log: (line) => logs.push(line),
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const chat = endpoint(base);
      try {
        expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });

        const handle = await start('haSetup', 'chatops', haSetupInput());
        const id = handle.workflowId;
        await until(
          'gate register to open',
          () => statusOf(handle),
          (s) => s.pendingGates.some((g) => g.gate === 'register'),
        );
        const stillAtGate = async () => {
          const s = await statusOf(handle);
          expect(s.pendingGates).toEqual([expect.objectContaining({ gate: 'register', approvals: [] })]);
          expect(s.decisions).toEqual([]);
        };

        // pending: the run's open gate, from any (even unmapped) user; visibility may lag a little.
        const listed = await until(
          'pending to list the run',
          () => chat.slash('U_NOBODY', 'pending'),
          (r) => r.status === 200 && (r.body.text ?? '').includes(id),
        );
        expect(listed.body.response_type).toBe('ephemeral');
        const line = (listed.body.text ?? '').split('\n').find((l) => l.includes(id));
        expect(line).toMatch(
          new RegExp(
            `^lab · haSetup · ${id.replace(/[/.]/g, '\\$&')} · gate register \\(0/1\\) · requested by carol · open \\d+[smh]`,
          ),
        );

        // status and plan read fine for anyone.
        const st = await chat.slash('U_NOBODY', `status ${id}`);
        expect(st.body.text).toContain('stage: waiting for approval: register');
        expect(st.body.text).toContain('open gates: register (0/1');
        const pl = await chat.webhook('someone', `plan ${id}`);
        expect(pl.status).toBe(200);
        expect(pl.body.text).toMatch(new RegExp(`^plan of ${id.replace(/[/.]/g, '\\$&')} \\(\\d+ steps\\):`));

        // An unmapped user may not decide.
        const unmapped = await chat.slash('U_NOBODY', `approve ${id} register`);
        expect(unmapped.status).toBe(200);
        expect(unmapped.body.text).toMatch(/^you are not mapped to an approver identity/);
        await stillAtGate();

        // Mapped, but not an approver / the requester: refused with the workflow's reason.
        const dave = await chat.webhook('U_DAVE', `approve ${id} register looks fine`);
        expect(dave.body.text).toBe('refused: dave is not an approver of this run');
        const carol = await chat.webhook('bot-carol', `approve ${id} register`);
        expect(carol.body.text).toBe(
          'refused: carol requested this run and may not decide its gates (self-approval is off)',
        );
        // An approver the relay may not speak for: refused by the run, whatever the chat says.
        const bob = await chat.slash('U_BOB', `approve ${id} register`);
        expect(bob.body.text).toBe('refused: relay chatops may not speak for bob');
        await stillAtGate();

        // A forged request (wrong secret) is refused before anything happens.
        const forged = await chat.slash('U_ALICE', `approve ${id} register`, 'not-the-secret');
        expect(forged.status).toBe(401);
        expect(forged.body.text).toBeUndefined();
        const unsigned = await post(
          `${base}/slack/commands`,
          { 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({ user_id: 'U_ALICE', text: `approve ${id} register` }).toString(),
        );
        expect(unsigned.status).toBe(401);
        await stillAtGate();

        // Closed or unknown gate: the reason, not a stack.
        const wrongGate = await chat.slash('U_ALICE', `approve ${id} shards`);
        expect(wrongGate.body.text).toBe(`gate "shards" is not open on ${id} (open: register)`);

        // The approver's button: approved at once, and the run moves on to wait for the code.
        const approved = await chat.button('U_ALICE', `approve ${id} register`);
        expect(approved.status).toBe(200);
        expect(approved.body.text).toBe(`approved gate register of ${id} (1/1)`);
        await until(
          'the verification code wait',
          () => statusOf(handle),
          (s) => s.awaitingCode === true,
        );

        // The same signed request again: 401, and no second decision.
        const replayed = await approved.replay();
        expect(replayed.status).toBe(401);
        expect(replayed.body.error).toMatch(/replayed/);
        // The decision is alice's, relayed: signed with the relay's key, saying which chat user sent it.
        expect((await statusOf(handle)).decisions).toEqual([
          {
            gate: 'register',
            kind: 'approve',
            by: 'alice',
            at: expect.any(String),
            plan: PLAN_HASH,
            key: keyOf('chatops-relay'),
            signedAt: ISO_TIME,
            via: 'slack:U_ALICE',
          },
        ]);

        // The code via chat; the run finishes.
        const code = await chat.slash('U_ALICE', `code ${id} 123456`);
        expect(code.body.text).toBe(`verification code accepted by ${id}`);
        expect(code.body.text).not.toContain('123456');
        const out = (await within(30_000, 'the run', handle.result())) as {
          registration: { codeBy?: string };
          decisions: { by: string; kind: string }[];
        };
        expect(out.registration.codeBy).toBe('alice');
        expect(out.decisions.map((d) => `${d.kind}:${d.by}`)).toEqual(['approve:alice']);
        expect(logs.join('\n')).not.toContain('123456');

        // Malformed text and unknown runs: short, clear answers.
        expect((await chat.slash('U_ALICE', 'approve')).body.text).toBe(
          'usage: approve <run> <gate> [comment...]',
        );
        expect((await chat.slash('U_ALICE', 'frobnicate now')).body.text).toBe(
          'unknown command "frobnicate"; try "help"',
        );
        expect((await chat.slash('U_ALICE', 'help')).body.text).toContain(
          'approve <run> <gate> [comment...]',
        );
        const unknown = await chat.slash('U_ALICE', 'status no/such-run');
        expect(unknown.body.text).toBe('no running or recent run "no/such-run"');
        const unknownApprove = await chat.slash('U_ALICE', 'approve no/such-run register');
        expect(unknownApprove.body.text).toBe('no running or recent run "no/such-run"');
        // A webhook bot sending a Slack user's id, bare or with its chat, is nobody (TRUST.md rule 6).
        for (const user of ['U_ALICE', 'slack:U_ALICE'])
          expect((await chat.webhook(user, `approve ${id} register`)).body.text).toMatch(
            /^you are not mapped to an approver identity/,
          );
        const bad = await post(`${base}/webhook`, { 'content-type': 'application/json' }, 'not json');
        expect(bad.status).toBe(401);
        const huge = await post(
          `${base}/webhook`,
          { 'content-type': 'application/json' },
          'x'.repeat(70_000),
        );
        expect(huge.status).toBe(413);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
