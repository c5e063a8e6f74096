// ChatOps with the payload codec on (issue 14): a haSetup run started by a codec client, a worker with
// the codec, and the ChatOps endpoint as `npm run chatops` starts it (startChatopsFromEnv: its client
// from the shared factory, src/temporal-client.ts), over real HTTP with signed requests. It lists the
// run, shows its status, relays an approval, and the Update's arguments are stored encrypted. Its
// replay log survives a restart: the same signed request sent to the restarted endpoint is refused.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { replayLogPath, startChatopsFromEnv } from '../../src/chatops/from-env';
import { createChatopsServer } from '../../src/chatops/server';
import { signSlack, signWebhook } from '../../src/chatops/verify';
import { dataConverterFromEnv } from '../../src/codec/keys';
import { connectClient } from '../../src/temporal-client';
import { type GatedRunStatus, statusQuery } from '../../workflows/api';
import { signedInput } from '../support/decide';
import { fakeCluster, haSetupInput, until, within } from '../support/fake-cluster';
import { approverKeyLine } from '../support/inventory';
import { testKey } from '../support/keys';

const SLACK_SECRET = 'slack-signing-secret-for-codec-tests';
const HOOK_SECRET = 'webhook-secret-for-codec-tests';
/** A comment no stored payload may show in plaintext. */
const COMMENT = `window-ok-${randomUUID()}`;

interface Sent {
  status: number;
  body: { text?: string; error?: string };
  headers: Record<string, string>;
  raw: string;
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<Sent> {
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as Sent['body'], headers, raw: body };
}

function chat(base: () => string) {
  const slash = (user: string, text: string) => {
    const body = new URLSearchParams({ command: '/waba', user_id: user, text, team_id: 'T1' }).toString();
    const t = String(Math.floor(Date.now() / 1000));
    return post(
      `${base()}/slack/commands`,
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': t,
        'x-slack-signature': signSlack(SLACK_SECRET, t, body),
      },
      body,
    );
  };
  const webhook = (user: string, text: string) => {
    const body = JSON.stringify({ user, text });
    const t = String(Math.floor(Date.now() / 1000));
    const id = randomUUID();
    return post(
      `${base()}/webhook`,
      {
        'content-type': 'application/json',
        'x-waba-timestamp': t,
        'x-waba-request-id': id,
        'x-waba-signature': signWebhook(HOOK_SECRET, t, id, body),
      },
      body,
    );
  };
  /** The very same request (headers and body) again, to whatever endpoint is running now. */
  const again = (sent: Sent, route: string) => post(`${base()}${route}`, sent.headers, sent.raw);
  return { slash, webhook, again };
}

/** Every payload ({metadata, data}) of a history in JSON form, search attributes left out. */
function payloadsOf(node: unknown, out: { metadata: Record<string, string>; data?: string }[] = []) {
  if (Array.isArray(node)) for (const item of node) payloadsOf(item, out);
  else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (obj.metadata && typeof obj.metadata === 'object' && 'encoding' in (obj.metadata as object)) {
      out.push(obj as { metadata: Record<string, string>; data?: string });
      return out;
    }
    // A patch marker (`patched()`) is written by the SDK's core, outside the codec: it holds only the
    // patch's id (the text check below still covers it).
    const attrs = obj.markerRecordedEventAttributes as { markerName?: string } | undefined;
    if (attrs?.markerName === 'core_patch') return out;
    for (const [key, value] of Object.entries(obj)) if (key !== 'searchAttributes') payloadsOf(value, out);
  }
  return out;
}

const decoded = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('latin1');

describe('ChatOps with the payload codec (real dev server, real HTTP)', () => {
  it('lists, shows and approves an encrypted run; the Update is stored encrypted; replays refused after a restart', async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // already installed in this process
    }
    const address = inject('temporalAddress');
    const taskQueue = `test-chatops-codec-${randomUUID()}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-chatops-codec-'));
    const relayKeyFile = path.join(dir, 'relay-key');
    writeFileSync(relayKeyFile, testKey('chatops-relay').openSshPrivateKey, { mode: 0o600 });
    // What `npm run chatops` would be given; no HOME: no temporal.toml of the machine is read.
    const env: NodeJS.ProcessEnv = {
      TEMPORAL_ADDRESS: address,
      WABA_TASK_QUEUE: taskQueue,
      WABA_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      WABA_CHATOPS_WEBHOOK_SECRET: HOOK_SECRET,
      WABA_CHATOPS_IDENTITY_MAP: JSON.stringify({ 'slack:U_ALICE': 'alice', 'webhook:U_ALICE': 'alice' }),
      WABA_CHATOPS_RELAY_KEY: relayKeyFile,
      WABA_CHATOPS_PORT: '0',
      WABA_DATA_DIR: path.join(dir, 'data'),
    };
    const fake = fakeCluster({
      entry: (e) => {
        e.approvals.approvers.push({ name: 'carol', keys: [approverKeyLine('carol')] });
        e.approvals.relays = [
          { name: 'chatops', key: approverKeyLine('chatops-relay'), mayActFor: ['alice'] },
        ];
      },
    });

    const workerConnection = await NativeConnection.connect({ address });
    const starter = await connectClient({ env });
    const plainConnection = await Connection.connect({ address });
    const plain = new Client({ connection: plainConnection }); // no codec: what the server stores
    let chatops = await startChatopsFromEnv(env, { log: () => {} });
    const { slash, webhook, again } = chat(() => chatops.url);
    const workflowId = `test/haSetup/chatops-codec-${randomUUID()}`;
    try {
      expect(starter.codecKeyId).toBe('k1');
      expect(chatops.describe).toContain('payload codec on (key "k1")');
      expect(chatops.describe).toContain(`replay log ${replayLogPath(env)}`);
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        activities: fake.activities,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: dataConverterFromEnv(env),
      });
      await worker.runUntil(async () => {
        const handle = await starter.client.workflow.start('haSetup', {
          taskQueue,
          workflowId,
          args: [await signedInput('haSetup', workflowId, haSetupInput())],
          workflowExecutionTimeout: '2m',
        });
        await until(
          'gate register to open',
          () => handle.query(statusQuery) as Promise<GatedRunStatus>,
          (s) => s.pendingGates.some((g) => g.gate === 'register'),
        );

        // Control: a ChatOps whose client has no codec (the bug) cannot read this run at all.
        const blind = createChatopsServer({
          client: plain,
          webhookSecret: HOOK_SECRET,
          identities: new Map(),
          log: () => {},
        });
        await new Promise<void>((resolve) => blind.listen(0, '127.0.0.1', resolve));
        try {
          const blindBase = `http://127.0.0.1:${(blind.address() as AddressInfo).port}`;
          const blindStatus = await chat(() => blindBase).webhook('someone', `status ${workflowId}`);
          expect(blindStatus.body.text).toMatch(/binary\/encrypted/);
        } finally {
          blind.closeAllConnections();
          await new Promise((resolve) => blind.close(resolve));
        }

        // pending: the encrypted run answers its query through the codec.
        const listed = await until(
          'pending to list the run',
          () => slash('U_NOBODY', 'pending'),
          (r) => r.status === 200 && (r.body.text ?? '').includes(workflowId),
        );
        // Its own line shows the gate, so its query answered (runs of other test files sharing
        // the dev server may not answer in time: the list says so, which is not this run's doing).
        expect((listed.body.text ?? '').split('\n').find((l) => l.includes(workflowId))).toMatch(
          /gate register \(0\/1\) · requested by carol/,
        );
        const st = await webhook('someone', `status ${workflowId}`);
        expect(st.status).toBe(200);
        expect(st.body.text).toContain('stage: waiting for approval: register');

        // The approval, relayed and signed by the endpoint's key: answered with the result, no error.
        const approved = await slash('U_ALICE', `approve ${workflowId} register ${COMMENT}`);
        expect(approved.status).toBe(200);
        expect(approved.body.text).toBe(`approved gate register of ${workflowId} (1/1)`);

        // Restart the endpoint (same data directory): the captured request is still a replay.
        await chatops.close();
        chatops = await startChatopsFromEnv(env, { log: () => {} });
        const replayed = await again(approved, '/slack/commands');
        expect(replayed.status).toBe(401);
        expect(replayed.body.error).toBe('unauthorized: replayed request');
        expect(statSync(replayLogPath(env)).mode & 0o777).toBe(0o600);

        // The code through the restarted endpoint; the run finishes, read through the codec.
        const code = await webhook('U_ALICE', `code ${workflowId} 123456`);
        expect(code.body.text).toBe(`verification code accepted by ${workflowId}`);
        const out = (await within(30_000, 'the run', handle.result())) as {
          decisions: { by: string; kind: string; via?: string }[];
        };
        expect(out.decisions.map((d) => `${d.kind}:${d.by}:${d.via}`)).toEqual([
          'approve:alice:slack:U_ALICE',
        ]);
      });

      // The raw history: the approve Update's arguments (and every other payload) are ciphertext.
      const history = JSON.parse(
        JSON.stringify(await plain.workflow.getHandle(workflowId).fetchHistory()),
      ) as { events: Record<string, unknown>[] };
      const accepted = history.events
        .map(
          (e) =>
            e.workflowExecutionUpdateAcceptedEventAttributes as
              | {
                  acceptedRequest?: {
                    meta?: { updateId?: string };
                    input?: { name?: string; args?: unknown };
                  };
                }
              | undefined,
        )
        .filter((a) => a?.acceptedRequest?.input?.name === 'approve');
      expect(accepted).toHaveLength(1);
      const args = payloadsOf(accepted[0]?.acceptedRequest?.input?.args);
      expect(args.length).toBeGreaterThan(0);
      for (const p of args) {
        expect(decoded(p.metadata.encoding)).toBe('binary/encrypted');
        expect(decoded(p.metadata['encryption-key-id'])).toBe('k1');
        expect(decoded(p.data)).not.toContain(COMMENT);
      }
      const all = payloadsOf(history);
      expect(all.length).toBeGreaterThan(5);
      for (const p of all) expect(decoded(p.metadata.encoding)).toBe('binary/encrypted');
      const text = JSON.stringify(history, (_, v) =>
        typeof v === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(v) ? `${v} ${decoded(v)}` : v,
      );
      expect(text).not.toContain(COMMENT);
      expect(text).not.toContain('slack:U_ALICE');
    } finally {
      const d = await plain.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      if (d?.status.name === 'RUNNING') await plain.workflow.getHandle(workflowId).terminate('test over');
      await chatops.close();
      await starter.close();
      await plainConnection.close();
      await workerConnection.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
