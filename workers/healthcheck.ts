// The worker image's HEALTHCHECK (`node dist/workers/healthcheck.js`): exit 0 when the worker's
// readiness endpoint (WABA_HEALTH_ADDRESS) answers 200, 1 otherwise. Plain node, no curl in the image.
import http from 'node:http';
import { healthAddress } from '../src/config/worker';

/** Where to connect for a listen address: a wildcard host is reached on loopback. */
export function probeUrl(address: string): string {
  const match = /^(.+):(\d+)$/.exec(address);
  const host = match?.[1] ?? '127.0.0.1';
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' || host === '::' ? '[::1]' : host;
  return `http://${reach.includes(':') && !reach.startsWith('[') ? `[${reach}]` : reach}:${match?.[2]}/healthz`;
}

function main(): void {
  const address = healthAddress();
  if (!address) {
    console.error('WABA_HEALTH_ADDRESS=off: no readiness endpoint to check');
    process.exit(1);
  }
  const req = http.get(probeUrl(address), { timeout: 4_000 }, (res) => {
    let body = '';
    res.on('data', (d) => {
      body += d;
    });
    res.on('end', () => {
      console.log(`${res.statusCode} ${body.trim()}`);
      process.exit(res.statusCode === 200 ? 0 : 1);
    });
  });
  req.on('timeout', () => req.destroy(new Error('no answer in 4 s')));
  req.on('error', (err) => {
    console.error(`${address}: ${err.message}`);
    process.exit(1);
  });
}

if (require.main === module) main();
