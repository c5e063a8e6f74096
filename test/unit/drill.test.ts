// The haDrill's reading of /v1/health: target choice, takeover, rejoin, timeline de-duplication.
import { describe, expect, it } from 'vitest';
import { HostSpec } from '../../src/model/cluster';
import { chooseTarget, rejoined, snapshotOf, tookOver } from '../../src/model/drill';
import { type HealthBody, summarizeHealth } from '../../src/model/health';
import seed from '../fixtures/seed-health.json';

const hosts = [1, 2, 3].map((n) =>
  HostSpec.parse({
    name: `core${n}`,
    address: `10.0.0.3${n}`,
    roles: ['coreapp'],
    externalHostname: `your-coreapp${n}-hostname`,
  }),
);
const summary = (body: unknown) => summarizeHealth(body as HealthBody);
const A9 = summary(seed['A9-ha-registered']);
const B4 = summary(seed['B4-two-shards-plus-standby']);

describe('haDrill health reading', () => {
  it('connected picks the connected Coreapp; in Multiconnect the first connected, with core3 standing by', () => {
    expect(chooseTarget(hosts, A9, 'connected')).toEqual({
      ok: true,
      target: { host: 'core1', healthName: 'your-coreapp1-hostname' },
    });
    expect(chooseTarget(hosts, B4, 'core2')).toEqual({
      ok: true,
      target: { host: 'core2', healthName: 'your-coreapp2-hostname' },
    });
    expect(chooseTarget(hosts, summary(seed['B2-two-shards']), 'connected')).toEqual({
      ok: false,
      why:
        'no standby Coreapp (disconnected) could take over from core1' +
        '; the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"',
    });
  });

  it('a connected Coreapp missing from the spec is refused', () => {
    expect(chooseTarget(hosts.slice(1), A9, 'connected')).toEqual({
      ok: false,
      why: 'the connected Coreapp your-coreapp1-hostname is not a Coreapp host of the cluster spec',
    });
  });

  it('takeover keeps the number of connected Coreapps without the target; rejoin wants it as a standby', () => {
    const stopped = structuredClone(seed['B4-two-shards-plus-standby']) as HealthBody;
    const h = stopped.health as Record<string, unknown>;
    delete h['your-coreapp1-hostname:753efb1cf72c'];
    expect(tookOver(summary(stopped), 'your-coreapp1-hostname', 2)).toBe(false);
    h['your-coreapp3-hostname:23b50199bec2'] = { gateway_status: 'connected', role: 'coreapp' };
    expect(tookOver(summary(stopped), 'your-coreapp1-hostname', 2)).toBe(true);
    expect(rejoined(summary(stopped), 'your-coreapp1-hostname', 2)).toBe(false);
    h['your-coreapp1-hostname:99aa00bb11cc'] = { gateway_status: 'disconnected', role: 'coreapp' };
    expect(rejoined(summary(stopped), 'your-coreapp1-hostname', 2)).toBe(true);
  });

  it('the timeline keeps a reading only when it says something new', () => {
    const first = snapshotOf(A9, 'health precheck', 1000, null, undefined);
    expect(first).toMatchObject({
      sinceStopMs: null,
      verdict: 'ha-connected',
      connected: ['your-coreapp1-hostname'],
      standby: ['your-coreapp2-hostname'],
    });
    expect(snapshotOf(A9, 'health precheck', 2000, null, first)).toBeUndefined();
    expect(snapshotOf(A9, 'waiting for takeover', 3000, 2500, first)).toMatchObject({ sinceStopMs: 500 });
  });
});
