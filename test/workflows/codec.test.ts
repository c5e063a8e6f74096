import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../activities';
import { inventoryActivities } from '../../activities/inventory';
import { dataConverterFromEnv } from '../../src/codec/keys';
import type { HealthCheckResult } from '../../src/model/results';
import seed from '../fixtures/seed-health.json';
import { testClusterEntry, testInventoryStore } from '../support/inventory';

// Distinctive plaintexts of the input: none may appear in the stored history.
const CLUSTER = 'codec-secret-cluster';
const HOST_ADDRESS = '10.77.66.55';
const BASE_URL = `https://${HOST_ADDRESS}:9443`;
const PASSWORD_REF = 'env:WABA_CODEC_TEST_PASSWORD';

/** The worker's inventory: the cluster's hosts, URL and secret reference live here, not in the input. */
function codecInventory() {
  const entry = testClusterEntry({
    hosts: [
      { name: 'web1', address: HOST_ADDRESS, roles: ['webapp'] },
      { name: 'core1', address: HOST_ADDRESS, roles: ['coreapp'] },
    ],
  });
  entry.api = { baseUrl: BASE_URL, passwordRef: PASSWORD_REF, tls: { pinnedSha256: 'AB'.repeat(32) } };
  return testInventoryStore({ [CLUSTER]: entry });
}

/** Every payload-like object ({metadata, data}) in a history (JSON form), outside search attributes. */
function payloadsOf(node: unknown, out: { metadata: Record<string, string>; data?: string }[] = []) {
  if (Array.isArray(node)) for (const item of node) payloadsOf(item, out);
  else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (obj.metadata && typeof obj.metadata === 'object' && 'encoding' in (obj.metadata as object)) {
      out.push(obj as { metadata: Record<string, string>; data?: string });
      return out;
    }
    for (const [key, value] of Object.entries(obj)) {
      // Search attributes are not encoded by payload codecs (the server must index them): they
      // are plaintext by design (WabaCluster holds the cluster name), so they are excluded here.
      if (key === 'searchAttributes') continue;
      payloadsOf(value, out);
    }
  }
  return out;
}

/** The history as text with every base64 value decoded, search attributes left out. */
function historyTextWithoutSearchAttributes(history: unknown): string {
  return JSON.stringify(history, (key, value) => {
    if (key === 'searchAttributes') return undefined;
    if (typeof value === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
      return `${value} ${Buffer.from(value, 'base64').toString('latin1')}`;
    }
    return value;
  });
}

describe('payload codec end to end (real dev server)', () => {
  it('the history check finds plaintext when there is some (control)', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const plain = {
      events: [
        { input: { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64(`"${CLUSTER}"`) }] } },
      ],
    };
    expect(payloadsOf(plain)).toHaveLength(1);
    expect(historyTextWithoutSearchAttributes(plain)).toContain(CLUSTER);
    expect(historyTextWithoutSearchAttributes({ searchAttributes: { x: b64(CLUSTER) } })).not.toContain(
      CLUSTER,
    );
  });

  it('the worker and a codec client run healthCheck; the server stores only ciphertext', async () => {
    const env = { WABA_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}` };
    const dataConverter = dataConverterFromEnv(env) as DataConverter;
    expect(dataConverter).toBeDefined();

    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // already installed in this process
    }
    const address = inject('temporalAddress');
    const taskQueue = `test-codec-${randomUUID()}`;
    let activityInput: unknown;
    const inventory = codecInventory();
    const found = inventory.byName(CLUSTER);
    if (!found.ok) throw new Error(found.message);
    const { specHash } = found.entry;
    const activities: Partial<Activities> = {
      // The real resolution: its result (the spec with addresses, URL and references) goes to history.
      resolveCluster: inventoryActivities({ inventory }).resolveCluster,
      wabaHealth: async (req) => {
        activityInput = req;
        return { health: seed['A9-ha-registered'].health };
      },
      notify: async () => ({ delivered: false, reason: 'not configured' }),
    };
    const workerConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        activities,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter,
      });
      const codecClient = new Client({ connection, dataConverter });
      const plainClient = new Client({ connection }); // no codec: sees what the server stores
      const workflowId = `codec-test/healthCheck/${Date.now()}`;

      await worker.runUntil(async () => {
        const result = (await codecClient.workflow.execute('healthCheck', {
          taskQueue,
          workflowId,
          args: [{ cluster: CLUSTER }],
        })) as HealthCheckResult;
        // The codec client reads the result; the worker saw the decrypted input.
        expect(result.cluster).toBe(CLUSTER);
        expect(result.verdict).toBe('ha-connected');
        expect(result.inventory).toEqual({ source: 'test-inventory.yaml', specHash });
        expect(activityInput).toEqual({ cluster: { name: CLUSTER, specHash } });
      });

      // The codec client decodes the history's input too.
      const handle = codecClient.workflow.getHandle(workflowId);
      const described = await handle.describe();
      expect(described.searchAttributes).toMatchObject({ WabaCluster: [CLUSTER] });

      // Without the codec: every payload is encrypted, no plaintext anywhere outside search attributes.
      const history = await plainClient.workflow.getHandle(workflowId).fetchHistory();
      const json = JSON.parse(JSON.stringify(history)) as unknown;
      const payloads = payloadsOf(json);
      // input, resolveCluster's input and result, wabaHealth's input and result, workflow result
      expect(payloads.length).toBeGreaterThanOrEqual(6);
      for (const p of payloads) {
        expect(Buffer.from(p.metadata.encoding as string, 'base64').toString()).toBe('binary/encrypted');
        expect(Buffer.from(p.metadata['encryption-key-id'] as string, 'base64').toString()).toBe('k1');
      }
      const text = historyTextWithoutSearchAttributes(json);
      for (const plain of [
        CLUSTER,
        HOST_ADDRESS,
        BASE_URL,
        PASSWORD_REF,
        specHash,
        'your-coreapp1-hostname',
        'ha-connected',
      ]) {
        expect(text).not.toContain(plain);
      }
      // ...while the search attributes (not encoded by design) do carry the cluster name.
      expect(JSON.stringify(json)).toContain(Buffer.from(`"${CLUSTER}"`).toString('base64'));

      // The plain client cannot read the result: it gets the encrypted payload's encoding back.
      await expect(plainClient.workflow.getHandle(workflowId).result()).rejects.toThrow(/binary\/encrypted/);
    } finally {
      await connection.close();
      await workerConnection.close();
    }
  });
});
