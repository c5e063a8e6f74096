import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeConnectionError, explainConnectionError } from '../../src/connection-error';

/** What the SDK threw when this project tried (NativeConnection: Rust core; Connection: grpc-js). */
const sdkErrors = {
  refused: new Error(
    'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:7999, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
  ),
  dns: new Error(
    'tonic::transport::Error(Transport, ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup address information: Name or service not known" })))',
  ),
  untrusted: new Error(
    'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))',
  ),
  tlsToPlain: new Error(
    'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }))',
  ),
  deadline: new Error('Failed to connect before the deadline'),
};

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('describeConnectionError', () => {
  it('says which address, where it came from and why, in plain words', () => {
    expect(describeConnectionError(sdkErrors.refused, '127.0.0.1:7999', 'TEMPORAL_ADDRESS')).toBe(
      'cannot reach the Temporal server at 127.0.0.1:7999 (from TEMPORAL_ADDRESS): connection refused',
    );
    const reason = (err: Error) => describeConnectionError(err, 'h:1', 'the default').split('): ')[1];
    expect(reason(sdkErrors.dns)).toBe('host name not found');
    expect(reason(sdkErrors.untrusted)).toMatch(/^TLS: the server's certificate is not trusted/);
    expect(reason(sdkErrors.tlsToPlain)).toMatch(/does not seem to use TLS/);
    expect(reason(sdkErrors.deadline)).toBe('no connection before the deadline');
  });

  it('keeps an unknown error to its first line, short, and without credentials', () => {
    const err = new Error(`strange failure authorization: Bearer abc.def ${'x'.repeat(300)}\nsecond line`);
    const text = describeConnectionError(err, 'h:1', 'TEMPORAL_ADDRESS');
    expect(text).not.toContain('abc.def');
    expect(text).not.toContain('second line');
    expect(text.length).toBeLessThan(260);
  });
});

describe('explainConnectionError', () => {
  it('finds the reason the client\'s "before the deadline" hides, with a TCP connection', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    expect(await explainConnectionError(sdkErrors.deadline, address, 'TEMPORAL_ADDRESS')).toBe(
      `cannot reach the Temporal server at ${address} (from TEMPORAL_ADDRESS): connection refused`,
    );
    // A reason already known is not probed again.
    expect(await explainConnectionError(sdkErrors.dns, 'nowhere.invalid:1', 'x')).toMatch(
      /host name not found$/,
    );
  });
});
