import { describe, expect, it } from 'vitest';
import { logFormat, metricsAddress } from '../../src/config/worker';
import { createLogger, formatLogEntry, formatLogText } from '../../src/log';
import { createSecretResolver } from '../../src/secrets';

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

describe('text log lines (a terminal)', () => {
  it('are one line: time to the second, padded level, message, then key=value', () => {
    expect(
      formatLogText(entry('run started', { runbook: 'upgrade', cluster: 'lab', workflowId: 'lab/upgrade' })),
    ).toBe('2025-11-24T16:00:00Z INFO  run started  runbook=upgrade cluster=lab workflowId=lab/upgrade');
    expect(formatLogText({ ...entry('alone'), level: 'ERROR' })).toBe('2025-11-24T16:00:00Z ERROR alone');
  });

  it('quote values with spaces, show objects as JSON and errors by name and message, stay one line', () => {
    const line = formatLogText(
      entry('first\nsecond', {
        step: 'start wacore',
        attempt: 2,
        detail: { a: [1] },
        error: new TypeError('boom'),
      }),
    );
    expect(line).toBe(
      '2025-11-24T16:00:00Z INFO  first (+1 more line: WABA_LOG_FORMAT=json shows all)  step="start wacore" attempt=2 detail={"a":[1]} error="TypeError: boom"',
    );
    expect(line).not.toContain('\n');
  });

  it('redact secrets the same way as the JSON lines', async () => {
    const secret = 'Another-S3cret-in-text';
    await createSecretResolver({ TOKEN_VAR: secret })('env:TOKEN_VAR');
    const line = formatLogText(entry(`using ${secret}`, { password: 'hunter22', note: `a ${secret} b` }));
    expect(line).not.toContain(secret);
    expect(line).not.toContain('hunter22');
    expect(line).toContain('password=[redacted]');
  });
});

describe('log format', () => {
  it('text on a terminal, JSON otherwise; WABA_LOG_FORMAT decides when set', () => {
    expect(logFormat({}, true)).toBe('text');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ WABA_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ WABA_LOG_FORMAT: 'text' }, false)).toBe('text');
  });

  it('an unknown WABA_LOG_FORMAT stops start-up with a clear error', () => {
    expect(() => logFormat({ WABA_LOG_FORMAT: 'yaml' }, true)).toThrow(
      'WABA_LOG_FORMAT=yaml: expected json or text',
    );
    expect(() => createLogger({ WABA_LOG_FORMAT: 'JSON' }, false)).toThrow('WABA_LOG_FORMAT=JSON');
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
