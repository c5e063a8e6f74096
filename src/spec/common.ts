import { z } from 'zod';

/**
 * A reference to a secret, resolved on the worker only: `env:NAME` or `file:/absolute/path`.
 * Inputs carry references so secret values never enter workflow history.
 */
export const SecretRef = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/[^\0]*)$/,
    'expected a secret reference: env:NAME or file:/absolute/path',
  );
export type SecretRef = z.infer<typeof SecretRef>;

/** Host and cluster names reach shell commands and workflow ids: keep them to a safe alphabet. */
export const Name = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    'expected a name of lowercase letters, digits, ".", "_" or "-" (max 63)',
  );

/** A DNS name or IPv4 address, nothing a shell could interpret. */
export const HostAddress = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'expected a DNS name or IPv4 address');

/** An absolute POSIX path without shell metacharacters. */
export const AbsolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/+@:-]*$/, 'expected an absolute path of letters, digits and . _ / + @ : -');

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (sha256)');

/** A certificate SHA-256 fingerprint, as `openssl x509 -fingerprint -sha256` prints it (colons optional). */
export const CertFingerprint = z
  .string()
  .regex(
    /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/,
    'expected a SHA-256 fingerprint (64 hex digits, colons optional)',
  )
  .transform((s) => s.replace(/:/g, '').toUpperCase());
