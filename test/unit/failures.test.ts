import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classify } from '../../activities/failures';
import { TlsTrustError } from '../../activities/tls';
import { isRetryable, WabaApiError } from '../../activities/waba-api-errors';
import { SecretError } from '../../src/secrets';

const apiError = (status: number, code: number | null) => new WabaApiError('op', status, code, 'title', null);

describe('WABA API error mapping (reference §4)', () => {
  it.each([1011, 1015, 1016, 1017, 1018])('code %i is retryable', (code) => {
    expect(isRetryable(apiError(400, code))).toBe(true);
  });

  it.each([1005, 1006, 1008, 1009, 1010, 1024, 1025])('code %i is not retryable', (code) => {
    expect(isRetryable(apiError(400, code))).toBe(false);
  });

  it('5xx and 429 without a code are retryable; other 4xx are not', () => {
    expect(isRetryable(apiError(503, null))).toBe(true);
    expect(isRetryable(apiError(429, null))).toBe(true);
    expect(isRetryable(apiError(404, null))).toBe(false);
    expect(isRetryable(apiError(500, 1005))).toBe(true);
  });

  it('classify turns an API error into a typed failure with the code', () => {
    const f = classify(apiError(401, 1005), 'ctx') as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('WabaApiError1005');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe('op: HTTP 401 error 1005 title');
  });

  it('secret and trust problems are not retryable', () => {
    expect((classify(new SecretError('x'), 'ctx') as ApplicationFailure).nonRetryable).toBe(true);
    expect((classify(new TlsTrustError('x'), 'ctx') as ApplicationFailure).type).toBe('TlsTrustError');
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const f = classify(tls, 'health of cluster lab') as ApplicationFailure;
    expect(f.type).toBe('TlsTrustError');
    expect(f.message).toContain('health of cluster lab');
  });

  it('network errors stay retryable, with the context added', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const out = classify(refused, 'health of cluster lab') as Error;
    expect(out).not.toBeInstanceOf(ApplicationFailure);
    expect(out.message).toBe('health of cluster lab: connect ECONNREFUSED 127.0.0.1:9 (ECONNREFUSED)');
  });
});
