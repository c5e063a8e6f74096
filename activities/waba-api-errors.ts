import { ApplicationFailure } from '@temporalio/common';
import { wabaApiErrorType, wabaApiHttpType } from '../src/model/errors';

/** An error answered by the Webapp: HTTP status plus the first `errors[]` entry (reference §2, §4). */
export class WabaApiError extends Error {
  override name = 'WabaApiError';
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code: number | null,
    readonly title: string | null,
    readonly details: string | null,
  ) {
    super(
      `${operation}: HTTP ${status}` +
        (code !== null ? ` error ${code} ${title ?? ''}`.trimEnd() : '') +
        (details ? ` (${details})` : ''),
    );
  }
}

/** Codes that mean "not now": node not ready, rate limits, overload, failover in progress (reference §4). */
const RETRYABLE_CODES = new Set([1011, 1015, 1016, 1017, 1018]);

export function isRetryable(err: WabaApiError): boolean {
  if (err.code !== null) return RETRYABLE_CODES.has(err.code) || err.status >= 500;
  return err.status >= 500 || err.status === 429;
}

/** Map an API error to a Temporal failure the retry policy understands. */
export function toFailure(err: WabaApiError): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.code !== null ? wabaApiErrorType(err.code) : wabaApiHttpType(err.status),
    message: err.message,
    nonRetryable: !isRetryable(err),
    details: [{ status: err.status, code: err.code, title: err.title }],
  });
}
