// A local chat webhook for notification tests: records every POSTed JSON body on 127.0.0.1, answers
// with a scripted status, and can be stopped to make the address refuse connections.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receiver {
  /** The webhook URL, with a path that stands in for the secret token. */
  url: string;
  received: { path: string; body: unknown }[];
  /** Status to answer with (default 200, body "ok" as Slack does). */
  status: number;
  close(): Promise<void>;
}

export const RECEIVER_TOKEN = 'T000/B000/secret-webhook-token';

export async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      received.push({ path: req.url ?? '', body });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' });
      res.end(receiver.status === 200 ? 'ok' : 'service_unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/services/${RECEIVER_TOKEN}`,
    received,
    status: 200,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** A URL on 127.0.0.1 where nothing listens (a receiver started and closed again). */
export async function deadWebhookUrl(): Promise<string> {
  const r = await startReceiver();
  await r.close();
  return r.url;
}
