// The shared Temporal client factory (src/temporal-client.ts): settings from the environment or the
// caller, the payload codec whenever keys are configured, and one sentence when the server is not there.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/free-port';
import { connectClient, TemporalConnectionError } from '../../src/temporal-client';

const KEYS = `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`;

describe('connectClient', () => {
  it('connects with the codec when keys are configured, with the settings of the environment', async () => {
    const address = inject('temporalAddress');
    const c = await connectClient({
      env: {
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: 'default',
        WABA_TASK_QUEUE: 'q1',
        WABA_CODEC_KEYS: KEYS,
      },
    });
    try {
      expect(c).toMatchObject({
        address,
        addressSource: 'TEMPORAL_ADDRESS',
        namespace: 'default',
        taskQueue: 'q1',
        codecKeyId: 'k2',
      });
      expect(c.client.options.dataConverter.payloadCodecs).toHaveLength(1);
      // It really talks to the server.
      await c.client.workflowService.getSystemInfo({});
    } finally {
      await c.close();
    }
  });

  it('without keys: no codec; an address given by the caller wins, with the source it names', async () => {
    const address = inject('temporalAddress');
    const c = await connectClient({
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      address,
      addressSource: 'the embedded dev server',
      namespace: 'default',
    });
    try {
      expect(c).toMatchObject({ address, addressSource: 'the embedded dev server', codecKeyId: undefined });
      expect(c.client.options.dataConverter.payloadCodecs ?? []).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it('bad codec keys stop it before any connection, naming the variable and never the key', async () => {
    const err = await connectClient({
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', WABA_CODEC_KEYS: 'k1:c2hvcnQ=' },
    }).catch((e: unknown) => e as Error);
    expect(err).not.toBeInstanceOf(TemporalConnectionError);
    expect((err as Error).message).toMatch(/^WABA_CODEC_KEYS: entry 1 \(id "k1"\): the key is 5 bytes/);
  });

  it('a server that is not there: TemporalConnectionError saying where the address came from and why', async () => {
    const port = await freePort();
    const err = await connectClient({ env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}` } }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(TemporalConnectionError);
    expect((err as Error).message).toBe(
      `cannot reach the Temporal server at 127.0.0.1:${port} (from TEMPORAL_ADDRESS): connection refused`,
    );
  });
});
