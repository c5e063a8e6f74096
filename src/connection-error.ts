// One short sentence for "could not connect to Temporal": which address, where that address came
// from, and the reason in plain words instead of a Rust or gRPC error dump. Never a setting's value.
import net from 'node:net';

/** Plain-words reasons, tried in order against the error's code and message. */
const REASONS: [RegExp, string][] = [
  [/ECONNREFUSED|ConnectionRefused|connection refused/i, 'connection refused'],
  [
    /ENOTFOUND|EAI_AGAIN|dns error|failed to lookup address|name or service not known|nodename nor servname/i,
    'host name not found',
  ],
  [/EHOSTUNREACH|ENETUNREACH|unreachable|no route to host/i, 'host unreachable'],
  [/ETIMEDOUT|timed? ?out/i, 'timed out'],
  [
    /InvalidCertificate\((\w+)\)|certificate verify failed|self.signed certificate|unable to verify/i,
    "TLS: the server's certificate is not trusted (set TEMPORAL_TLS_SERVER_CA_CERT_PATH or TEMPORAL_TLS_SERVER_NAME?)",
  ],
  [
    /InvalidContentType|wrong version number|packet length too long/i,
    'TLS handshake failed: the server does not seem to use TLS (TEMPORAL_TLS=false?)',
  ],
  [/broken pipe|ECONNRESET|connection reset/i, 'the server closed the connection (does it expect TLS?)'],
  [/UNAUTHENTICATED|unauthori[sz]ed/i, 'the server refused the credentials (API key or client certificate)'],
  [/PERMISSION_DENIED|permission denied/i, 'permission denied'],
  [
    /grpc-status header missing|HTTP status code (\d+)/i,
    'something answered, but not a Temporal gRPC endpoint',
  ],
  [/before the deadline|DEADLINE_EXCEEDED/i, 'no connection before the deadline'],
];

/** Bearer tokens and API keys have no business in a message, whatever the library put there. */
function scrub(text: string): string {
  return text.replace(
    /(bearer|authorization|api[-_ ]?key)(\s*[:=]?\s*)(bearer\s+)?\S+/gi,
    '$1$2$3[redacted]',
  );
}

/** The reason an attempt to connect failed, in a few words. */
function connectionErrorReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const text = `${e?.code ?? ''} ${typeof e?.message === 'string' ? e.message : String(err)}`;
  for (const [pattern, reason] of REASONS) if (pattern.test(text)) return reason;
  const firstLine = scrub((typeof e?.message === 'string' ? e.message : String(err)).split('\n')[0] ?? '');
  return firstLine.length > 160 ? `${firstLine.slice(0, 157)}...` : firstLine;
}

/** e.g. `cannot reach the Temporal server at 127.0.0.1:7999 (from TEMPORAL_ADDRESS): connection refused` */
export function describeConnectionError(err: unknown, address: string, source: string): string {
  return `cannot reach the Temporal server at ${address} (from ${source}): ${connectionErrorReason(err)}`;
}

/**
 * describeConnectionError, and when the error says nothing useful (the client's Connection only
 * says "Failed to connect before the deadline"), a plain TCP connection finds the reason.
 */
export async function explainConnectionError(
  err: unknown,
  address: string,
  source: string,
  probeTimeoutMs = 3000,
): Promise<string> {
  const described = describeConnectionError(err, address, source);
  if (connectionErrorReason(err) !== 'no connection before the deadline') return described;
  const tcp = await probeTcp(address, probeTimeoutMs);
  const reason =
    tcp === 'connected'
      ? 'the port answers but gRPC did not connect (TLS settings, or not a Temporal server?)'
      : tcp;
  return `cannot reach the Temporal server at ${address} (from ${source}): ${reason}`;
}

/** Open and close a TCP connection: 'connected' or the reason it failed. */
function probeTcp(address: string, timeoutMs: number): Promise<string> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) return Promise.resolve(`not a host:port address`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: match[1], port: Number(match[2]) });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s (a firewall?)`));
    socket.once('connect', () => done('connected'));
    socket.once('error', (e) => done(connectionErrorReason(e)));
  });
}
