// The readiness endpoint's answers by worker state, and its settings (WABA_HEALTH_ADDRESS,
// WABA_WORKFLOW_BUNDLE). The whole worker's endpoint is in test/e2e/worker-readiness.test.ts.
import { describe, expect, it } from 'vitest';
import { healthAddress, workflowBundleFile } from '../../src/config/worker';
import { probeUrl } from '../../workers/healthcheck';
import { serveReadiness } from '../../workers/readiness';

describe('readiness endpoint', () => {
  it('answers 200 only while RUNNING, 503 otherwise, 404 for anything but GET/HEAD /healthz', async () => {
    let state = 'STARTING';
    const readiness = await serveReadiness('127.0.0.1:0', () => state);
    const url = `http://${readiness.address}`;
    try {
      for (const s of ['STARTING', 'INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED']) {
        state = s;
        const res = await fetch(`${url}/healthz`);
        expect([s, res.status, await res.json()]).toEqual([s, 503, { ready: false, state: s }]);
      }
      state = 'RUNNING';
      const ok = await fetch(`${url}/healthz?verbose=1`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ ready: true, state: 'RUNNING' });
      expect((await fetch(`${url}/healthz`, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
    } finally {
      await readiness.close();
    }
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('names the setting when its port is taken', async () => {
    const first = await serveReadiness('127.0.0.1:0', () => 'RUNNING');
    try {
      await expect(serveReadiness(first.address, () => 'RUNNING')).rejects.toThrow(
        `readiness endpoint on ${first.address}: EADDRINUSE`,
      );
    } finally {
      await first.close();
    }
  });
});

describe('worker settings', () => {
  it('WABA_HEALTH_ADDRESS: loopback 9465 by default, off, and a bad value named', () => {
    expect(healthAddress({})).toBe('127.0.0.1:9465');
    expect(healthAddress({ WABA_HEALTH_ADDRESS: '0.0.0.0:9000' })).toBe('0.0.0.0:9000');
    expect(healthAddress({ WABA_HEALTH_ADDRESS: 'off' })).toBeUndefined();
    expect(() => healthAddress({ WABA_HEALTH_ADDRESS: '9465' })).toThrow(
      'WABA_HEALTH_ADDRESS=9465: expected host:port (e.g. 0.0.0.0:9465) or off',
    );
    expect(() => healthAddress({ WABA_HEALTH_ADDRESS: 'localhost:99999' })).toThrow(/WABA_HEALTH_ADDRESS/);
  });

  it('WABA_WORKFLOW_BUNDLE: unset bundles at start; a missing file stops the start, named', () => {
    expect(workflowBundleFile({})).toBeUndefined();
    expect(workflowBundleFile({ WABA_WORKFLOW_BUNDLE: __filename })).toBe(__filename);
    expect(() => workflowBundleFile({ WABA_WORKFLOW_BUNDLE: '/nonexistent/bundle.js' })).toThrow(
      'WABA_WORKFLOW_BUNDLE=/nonexistent/bundle.js: no such file',
    );
  });
});

describe('the image HEALTHCHECK', () => {
  it('asks a wildcard listener on loopback, any other host where it listens', () => {
    expect(probeUrl('0.0.0.0:9465')).toBe('http://127.0.0.1:9465/healthz');
    expect(probeUrl('[::]:9465')).toBe('http://[::1]:9465/healthz');
    expect(probeUrl('127.0.0.1:9100')).toBe('http://127.0.0.1:9100/healthz');
    expect(probeUrl('worker.internal:9465')).toBe('http://worker.internal:9465/healthz');
  });
});
