import { ApplicationFailure } from '@temporalio/common';
import { HOST_KEY_MISMATCH, nonRetryable, SECRET_ERROR, TLS_TRUST_ERROR } from '../src/model/errors';
import { SecretError } from '../src/secrets';
import { HostKeyError } from './ssh';
import { TlsTrustError } from './tls';
import { toFailure, WabaApiError } from './waba-api-errors';

/** Node's certificate verification codes: a trust problem, which a retry cannot fix. */
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Classify any error thrown by an activity: configuration and trust problems fail the run at once;
 * API errors follow their code; anything else (network, timeouts) is left retryable.
 */
export function classify(err: unknown, context: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof WabaApiError) return toFailure(err);
  if (err instanceof SecretError) return nonRetryable(SECRET_ERROR, err.message);
  if (err instanceof TlsTrustError) return nonRetryable(TLS_TRUST_ERROR, err.message);
  if (err instanceof HostKeyError) return nonRetryable(HOST_KEY_MISMATCH, err.message);
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: { code?: unknown } }).cause?.code;
  const tlsCode = [code, cause].find((c): c is string => typeof c === 'string' && TLS_VERIFY_CODES.has(c));
  if (tlsCode) {
    return nonRetryable(
      TLS_TRUST_ERROR,
      `${context}: the server's certificate is not trusted (${tlsCode}); check api.tls (caFile/serverName or pinnedSha256)`,
    );
  }
  if (err instanceof Error) {
    err.message = `${context}: ${err.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return err;
}
