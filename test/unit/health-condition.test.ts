// The health gates' conditions as data (src/model/health-condition.ts) and the poll schedule
// (src/model/poll.ts): each runbook's condition agrees with the predicate it replaced on every sample.
import { describe, expect, it } from 'vitest';
import { coreapps, rejoined, tookOver } from '../../src/model/drill';
import { type HealthBody, type HealthSummary, summarizeHealth } from '../../src/model/health';
import { type HealthCondition, healthHolds } from '../../src/model/health-condition';
import { pollDelayMs } from '../../src/model/poll';
import seed from '../fixtures/seed-health.json';

const summary = (body: unknown) => summarizeHealth(body as HealthBody);
const withNodes = (base: unknown, patch: Record<string, unknown>, drop: string[] = []): HealthSummary => {
  const body = structuredClone(base) as HealthBody;
  const h = body.health as Record<string, unknown>;
  for (const k of drop) delete h[k];
  Object.assign(h, patch);
  return summary(body);
};

const A7 = summary(seed['A7-before-registration']);
const A9 = summary(seed['A9-ha-registered']);
const B2 = summary(seed['B2-two-shards']);
const B4 = summary(seed['B4-two-shards-plus-standby']);
const CORE1 = 'your-coreapp1-hostname:753efb1cf72c';
const CORE2 = 'your-coreapp2-hostname:75d7355eaaaa';
const NOT_READY = { errors: [{ code: 1011, title: 'Service not ready' }] };

/** Every shape a gate meets: before registration, HA, Multiconnect, a Coreapp down, taken over, rejoined. */
const SAMPLES: Record<string, HealthSummary> = {
  A7,
  A9,
  B2,
  B4,
  degraded: withNodes(seed['A9-ha-registered'], { [CORE1]: NOT_READY }),
  'taken over': withNodes(seed['A9-ha-registered'], {
    [CORE1]: NOT_READY,
    [CORE2]: { gateway_status: 'connected', role: 'coreapp' },
  }),
  rejoined: withNodes(seed['A9-ha-registered'], {
    [CORE1]: { gateway_status: 'disconnected', role: 'coreapp' },
    [CORE2]: { gateway_status: 'connected', role: 'coreapp' },
  }),
  'B4 with core3 down': withNodes(seed['B4-two-shards-plus-standby'], {
    'your-coreapp3-hostname:23b50199bec2': NOT_READY,
  }),
  'no node': summary({ health: {} }),
  'single instance': summary({ health: { gateway_status: 'connected' } }),
  'single instance unregistered': summary({ health: { gateway_status: 'unregistered' } }),
};

/** The predicates the runbooks passed before (as closures in workflow code), and their conditions now. */
const target = 'multiconnect-connected:2';
const addresses = ['your-coreapp3-hostname'];
const PAIRS: [string, (s: HealthSummary) => boolean, HealthCondition][] = [
  ['any answer', () => true, {}],
  [
    'haSetup: unregistered or registered',
    (s) => s.verdict !== 'degraded' || s.connectedCoreapps > 0,
    { anyOf: [{ verdictNotIn: ['degraded'] }, { minConnectedCoreapps: 1 }] },
  ],
  [
    'haSetup: Coreapps connected (already registered)',
    (s) => s.verdict !== 'degraded' && s.verdict !== 'unregistered',
    { verdictNotIn: ['degraded', 'unregistered'] },
  ],
  [
    'haSetup: exactly one Coreapp connected',
    (s) => s.verdict === 'ha-connected',
    { verdictIn: ['ha-connected'] },
  ],
  [
    'upgrade: registered and healthy',
    (s) => s.verdict === 'ha-connected' || s.verdict.startsWith('multiconnect-connected'),
    { verdictIn: ['ha-connected', 'multiconnect-connected'] },
  ],
  ...[1, 2].map((expected): [string, (s: HealthSummary) => boolean, HealthCondition] => [
    `upgrade: ${expected} Coreapp(s) connected`,
    (s) => s.connectedCoreapps >= expected && s.verdict !== 'degraded',
    { minConnectedCoreapps: expected, verdictNotIn: ['degraded'] },
  ]),
  ['multiconnect: 2 connected', (s) => s.connectedCoreapps === 2, { connectedCoreapps: 2 }],
  [
    'multiconnect: standby added',
    (s) =>
      s.verdict === target &&
      addresses.every((a) =>
        s.nodes.some((n) => n.host === a && n.role === 'coreapp' && n.gatewayStatus === 'disconnected'),
      ),
    { verdictIn: [target], standby: addresses },
  ],
  [
    'multiconnect: final',
    (s) => s.verdict === target && s.connectedCoreapps === 2,
    { verdictIn: [target], connectedCoreapps: 2 },
  ],
  ...[1, 2].flatMap((before): [string, (s: HealthSummary) => boolean, HealthCondition][] => [
    [
      `haDrill: took over (${before} before)`,
      (s) => tookOver(s, 'your-coreapp1-hostname', before),
      { tookOver: { target: 'your-coreapp1-hostname', connectedBefore: before } },
    ],
    [
      `haDrill: rejoined (${before} before)`,
      (s) => rejoined(s, 'your-coreapp1-hostname', before),
      { rejoined: { target: 'your-coreapp1-hostname', connectedBefore: before } },
    ],
    [
      `haDrill: final health (${before} before)`,
      (s) => s.connectedCoreapps >= before && s.reasons.length === 0 && s.verdict !== 'unregistered',
      { minConnectedCoreapps: before, noReasons: true, verdictNotIn: ['unregistered'] },
    ],
  ]),
];

describe('healthHolds', () => {
  for (const [label, predicate, condition] of PAIRS) {
    it(`${label}: agrees with the predicate it replaced on every sample`, () => {
      const got = Object.fromEntries(Object.entries(SAMPLES).map(([k, s]) => [k, healthHolds(condition, s)]));
      const want = Object.fromEntries(Object.entries(SAMPLES).map(([k, s]) => [k, predicate(s)]));
      expect(got).toEqual(want);
    });
  }

  it('the conditions tell the samples apart (the comparison above is not vacuous)', () => {
    const holds = (c: HealthCondition) =>
      Object.entries(SAMPLES)
        .filter(([, s]) => healthHolds(c, s))
        .map(([k]) => k);
    // Taken over, with the stopped Coreapp still answering 1011: degraded, though one is connected.
    expect(holds({ verdictIn: ['ha-connected'] })).toEqual(['A9', 'rejoined', 'single instance']);
    expect(holds({ verdictIn: ['multiconnect-connected'] })).toEqual(['B2', 'B4']);
    // A pattern with a shard count is exact: `multiconnect-connected:2` is not `multiconnect-connected:20`.
    expect(
      healthHolds(
        { verdictIn: ['multiconnect-connected:2'] },
        { ...B2, verdict: 'multiconnect-connected:20' },
      ),
    ).toBe(false);
    expect(holds({ verdictNotIn: ['degraded', 'unregistered'] })).toEqual(
      holds({ verdictIn: ['ha-connected', 'multiconnect-connected'] }),
    );
    // Another Coreapp than core1 connected (the samples where core1 never was connected count too).
    expect(holds({ tookOver: { target: 'your-coreapp1-hostname', connectedBefore: 1 } })).toEqual([
      'B2',
      'B4',
      'taken over',
      'rejoined',
      'B4 with core3 down',
      'single instance',
    ]);
    expect(holds({ rejoined: { target: 'your-coreapp1-hostname', connectedBefore: 1 } })).toEqual([
      'rejoined',
    ]);
    expect(holds({ standby: ['your-coreapp3-hostname'] })).toEqual(['B4']);
    expect(coreapps(B4).standby).toEqual(['your-coreapp3-hostname']);
    expect(holds({ noReasons: true })).toEqual([
      'A7',
      'A9',
      'B2',
      'B4',
      'rejoined',
      'single instance',
      'single instance unregistered',
    ]);
  });

  it('every field must hold; anyOf needs one of its conditions', () => {
    expect(healthHolds({}, A7)).toBe(true);
    expect(healthHolds({ verdictIn: ['ha-connected'], connectedCoreapps: 2 }, A9)).toBe(false);
    expect(healthHolds({ verdictIn: ['ha-connected'], connectedCoreapps: 1 }, A9)).toBe(true);
    expect(healthHolds({ minConnectedCoreapps: 2 }, B2)).toBe(true);
    expect(healthHolds({ minConnectedCoreapps: 3 }, B2)).toBe(false);
    expect(healthHolds({ anyOf: [] }, A9)).toBe(false);
    expect(healthHolds({ anyOf: [{ connectedCoreapps: 5 }, { verdictIn: ['unregistered'] }] }, A7)).toBe(
      true,
    );
    expect(healthHolds({ anyOf: [{ connectedCoreapps: 5 }], verdictIn: ['unregistered'] }, A7)).toBe(false);
  });

  it('survives a trip through JSON (it is an activity argument)', () => {
    const c: HealthCondition = { anyOf: [{ verdictNotIn: ['degraded'] }, { minConnectedCoreapps: 1 }] };
    const back = JSON.parse(JSON.stringify(c)) as HealthCondition;
    for (const s of Object.values(SAMPLES)) expect(healthHolds(back, s)).toBe(healthHolds(c, s));
  });
});

describe('pollDelayMs', () => {
  it('polls every 250 ms for 10 s, every second until 30 s, then every 3 s', () => {
    expect([0, 1, 249, 9_999].map(pollDelayMs)).toEqual([250, 250, 250, 250]);
    expect([10_000, 15_000, 29_999].map(pollDelayMs)).toEqual([1_000, 1_000, 1_000]);
    expect([30_000, 600_000, 7_200_000].map(pollDelayMs)).toEqual([3_000, 3_000, 3_000]);
  });

  it('never shrinks as the wait goes on, and stays within 250 ms and 3 s', () => {
    let previous = 0;
    for (let t = 0; t <= 120_000; t += 50) {
      const d = pollDelayMs(t);
      expect(d).toBeGreaterThanOrEqual(previous);
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(3_000);
      previous = d;
    }
  });

  it('costs 40 polls in the first 10 s, 60 in 30 s and 150 in 5 minutes (counting sleeps only)', () => {
    const polls = (ms: number) => {
      let n = 0;
      for (let t = 0; t < ms; t += pollDelayMs(t)) n++;
      return n;
    };
    expect(polls(10_000)).toBe(40);
    expect(polls(30_000)).toBe(60);
    expect(polls(300_000)).toBe(150);
  });
});
