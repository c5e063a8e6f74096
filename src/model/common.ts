import { z } from 'zod';

/**
 * A reference to a secret, resolved on the worker only: `env:NAME` or `file:/absolute/path`. Only
 * the worker's inventory holds references (never a run's input), so a run can neither pick which
 * secret is read nor where it goes. `file:` paths are absolute and normalised: no `.` or `..`
 * segments, no `//`, nothing a shell interprets.
 */
export const SecretRef = z
  .string()
  .max(300)
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]{0,127}|file:(\/[A-Za-z0-9._@+:,-]+)+)$/,
    'expected a secret reference: env:NAME or file:/absolute/path',
  )
  .refine((ref) => !ref.startsWith('file:') || normalPath(ref.slice(5)), {
    message: 'a file: reference must be a normalised absolute path (no "." or ".." segments)',
  });
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

/** True for `/a/b`: absolute, no empty, `.` or `..` segment, no trailing slash (except `/` itself). */
function normalPath(p: string): boolean {
  if (p === '/') return true;
  if (!p.startsWith('/') || p.endsWith('/')) return false;
  return p
    .slice(1)
    .split('/')
    .every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * An absolute, normalised POSIX path without shell metacharacters: it reaches remote commands
 * (quoted anyway) and decides where files are written as root, so `..` and `//` are refused.
 */
export const AbsolutePath = z
  .string()
  .max(400)
  .regex(/^\/[A-Za-z0-9._/+@:-]*$/, 'expected an absolute path of letters, digits and . _ / + @ : -')
  .refine(normalPath, { message: 'expected a normalised absolute path (no "." or ".." segments, no "//")' });

/** A compose file on the worker: an absolute path whose file name ends in `.yml`. */
export const ComposeFilePath = AbsolutePath.refine((p) => /\/[A-Za-z0-9][A-Za-z0-9._-]*\.yml$/.test(p), {
  message: 'expected the path of a compose file named *.yml',
});

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (sha256)');

/** A certificate SHA-256 fingerprint, as `openssl x509 -fingerprint -sha256` prints it (colons optional). */
export const CertFingerprint = z
  .string()
  .regex(
    /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/,
    'expected a SHA-256 fingerprint (64 hex digits, colons optional)',
  )
  .transform((s) => s.replace(/:/g, '').toUpperCase());

/**
 * An https URL with a host, an optional port and nothing else: no credentials (they would end up
 * in logs and errors), no query or fragment. A trailing slash is dropped.
 */
export const HttpsBaseUrl = z
  .string()
  .max(300)
  .regex(/^https:\/\//, 'the Webapp serves HTTPS only: expected https://...')
  .refine((u) => !/^https:\/\/[^/]*@/.test(u), {
    message: 'credentials are not allowed in a URL (the password is api.passwordRef)',
  })
  .refine((u) => /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/.test(u), {
    message: 'expected https://host[:port][/path], without query or fragment',
  })
  .transform((u) => u.replace(/\/+$/, ''));

/** A WA_API_VERSION like 2.29.3. */
export const Version = z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'expected a version like 2.29.3');

/** A shard count the product accepts (POST /v1/account/shards). */
export const ShardCount = z.union(
  [z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16), z.literal(32)],
  {
    error: 'expected one of 1, 2, 4, 8, 16, 32',
  },
);
