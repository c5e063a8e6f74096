import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { ApiTls } from '../src/model/cluster';

export class TlsTrustError extends Error {
  override name = 'TlsTrustError';
}

/**
 * What the trust in the Webapp's certificate is, for cache keys: the pin, or the CA bundle's content
 * (not only its path), so a CA replaced on the worker's disk is used at once and connections and
 * tokens of the old one are not. Read on every call: a small file, read once per API request.
 */
export function trustOf(tls: ApiTls): string {
  if (!tls.caFile) return `pin ${tls.pinnedSha256}`;
  try {
    return `ca ${createHash('sha256').update(readFileSync(tls.caFile)).digest('hex')}`;
  } catch {
    return 'ca unreadable'; // createDispatcher says why
  }
}

/**
 * An undici dispatcher that trusts the Webapp's certificate the way the spec says: a CA bundle
 * (normal chain and host-name verification), or a pinned certificate fingerprint.
 */
export function createDispatcher(tls: ApiTls): Agent {
  if (tls.caFile) {
    let ca: Buffer;
    try {
      ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new TlsTrustError(
        `cannot read api.tls.caFile ${tls.caFile}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    return new Agent({ connect: { ca, servername: tls.serverName }, keepAliveTimeout: 10_000 });
  }
  // Pinning: the Webapp's certificate is self-signed, so chain verification cannot succeed. It is
  // replaced, not skipped: `rejectUnauthorized: false` only lets the handshake finish so that the
  // peer certificate's SHA-256 can be compared with the pinned one, before any request byte is sent.
  // No TLS session resumption: a resumed session carries no certificate to check.
  const connector = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
  return new Agent({
    keepAliveTimeout: 10_000,
    connect: (opts, callback) =>
      connector(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        const seen = (socket as TLSSocket)
          .getPeerCertificate()
          .fingerprint256?.replace(/:/g, '')
          .toUpperCase();
        if (seen !== tls.pinnedSha256) {
          socket.destroy();
          return callback(
            new TlsTrustError(
              `certificate of ${opts.hostname} does not match api.tls.pinnedSha256 (server presented ${seen ?? 'none'})`,
            ),
            null,
          );
        }
        callback(null, socket);
      }),
  });
}
