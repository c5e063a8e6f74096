// The worker's readiness endpoint beside /metrics: GET /healthz answers 200 while the worker polls
// (state RUNNING) and 503 while it starts, drains, has stopped or failed, so a container's
// HEALTHCHECK or a load balancer sees a worker that really takes tasks. Anything else: 404.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  /** Where it listens, `host:port` (the real port when 0 was asked for). */
  address: string;
  close(): Promise<void>;
}

/** The worker's state for the answer: Worker.getState(), or STARTING before the worker exists. */
export type StateOf = () => string;

/** Listen on `address` (`host:port`, as WABA_HEALTH_ADDRESS gives it). */
export async function serveReadiness(address: string, stateOf: StateOf): Promise<Readiness> {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match?.[1] || !match[2]) throw new Error(`readiness address ${address}: expected host:port`);
  const host = match[1].replace(/^\[(.*)\]$/, '$1'); // [::1]:9465 listens on ::1
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/healthz' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const state = stateOf();
    const ready = state === 'RUNNING';
    res
      .writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(`${JSON.stringify({ ready, state })}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`readiness endpoint on ${address}: ${(err as NodeJS.ErrnoException).code ?? err}`)),
    );
    server.listen(Number(match[2]), host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
