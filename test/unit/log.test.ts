import { describe, expect, it } from 'vitest';
import { formatLogEntry } from '../../src/log';
import { createSecretResolver } from '../../src/secrets';
import { metricsAddress } from '../../workers/telemetry';

const entry = (message: string, meta?: Record<string, unknown>) => ({
  level: 'INFO' as const,
  message,
  meta,
  timestampNanos: 1_764_000_000_123_000_000n,
});

describe('JSON log lines', () => {
  it('are one JSON object with time, level, message and the metadata', () => {
    const line = formatLogEntry(
      entry('stage', { workflowId: 'prod/upgrade/1', cluster: 'prod', step: 'gate' }),
    );
    expect(JSON.parse(line)).toEqual({
      time: '2025-11-24T16:00:00.123Z',
      level: 'INFO',
      msg: 'stage',
      workflowId: 'prod/upgrade/1',
      cluster: 'prod',
      step: 'gate',
    });
  });

  it('never carry a secret the worker resolved, wherever it appears', async () => {
    const secret = 'S3cret-value-from-env';
    await createSecretResolver({ DB_PASSWORD: secret })('env:DB_PASSWORD');
    const line = formatLogEntry(
      entry(`login failed with ${secret}`, { detail: { nested: [`x${secret}y`] }, error: new Error(secret) }),
    );
    expect(line).not.toContain(secret);
    expect(JSON.parse(line).msg).toBe('login failed with [redacted]');
  });

  it('redact fields named like secrets but keep secret references', () => {
    const line = formatLogEntry(
      entry('request', { password: 'hunter22', apiKey: 'k', passwordRef: 'env:DB_PASSWORD', host: 'core1' }),
    );
    expect(JSON.parse(line)).toMatchObject({
      password: '[redacted]',
      apiKey: '[redacted]',
      passwordRef: 'env:DB_PASSWORD',
      host: 'core1',
    });
  });
});

describe('metrics address', () => {
  it('defaults to loopback 9464, can be turned off, and names a bad value', () => {
    expect(metricsAddress({})).toBe('127.0.0.1:9464');
    expect(metricsAddress({ WABA_METRICS_ADDRESS: '0.0.0.0:9100' })).toBe('0.0.0.0:9100');
    expect(metricsAddress({ WABA_METRICS_ADDRESS: 'off' })).toBeUndefined();
    expect(() => metricsAddress({ WABA_METRICS_ADDRESS: '9100' })).toThrow(/WABA_METRICS_ADDRESS=9100/);
  });
});
