// haDrill inputs and a failover-aware health for the fake cluster: the connected Coreapp loses its
// shard when its wacore stops, and a running standby takes it over a few polls later.
import type { z } from 'zod';
import type { HealthBody } from '../../src/model/health';
import type { HaDrillInput } from '../../src/model/inputs';
import seed from '../fixtures/seed-health.json';
import { containerId, type FakeState } from './fake-cluster';

export type HaDrillRaw = z.input<typeof HaDrillInput>;

export function haDrillInput(patch: Partial<HaDrillRaw> = {}): HaDrillRaw {
  return {
    cluster: 'lab',
    target: 'connected',
    takeoverSlo: '30s',
    requestedBy: 'carol',
    timeouts: { takeover: '30s', rejoin: '15s', health: '15s' },
    ...patch,
  };
}

const CORES = ['core1', 'core2'] as const;
type Core = (typeof CORES)[number];
export const healthNameOf = (core: Core) => `your-coreapp${core.slice(-1)}-hostname`;

export interface FailoverOptions {
  /** The Coreapp connected at the start (default core1). */
  first?: Core;
  /** Health polls, after the connected one is first seen stopped, until a standby connects (default 2; Infinity: never). */
  takeoverPolls?: number;
}

/**
 * Health of the seed's HA cluster (A9) driven by which wacore containers run: a stopped Coreapp
 * answers 1011 "node is not responding", a running one is connected when it owns the shard, else a
 * standby.
 */
export function failoverHealth(opts: FailoverOptions = {}): (state: FakeState, poll: number) => HealthBody {
  let owner: Core = opts.first ?? 'core1';
  let downSince: number | undefined;
  return (state, poll) => {
    const up = (c: Core) => state.up.has(`${c}/wacore`);
    if (!up(owner)) {
      downSince ??= poll;
      const standby = CORES.find((c) => c !== owner && up(c));
      if (standby && poll - downSince >= (opts.takeoverPolls ?? 2)) {
        owner = standby;
        downSince = undefined;
      }
    }
    const masters = Object.entries(seed['A9-ha-registered'].health).filter(([k]) => k.includes('master'));
    const cores = CORES.map((c) => [
      `${healthNameOf(c)}:${containerId(`${c}/wacore`)}`,
      up(c)
        ? { gateway_status: c === owner ? 'connected' : 'disconnected', role: 'coreapp' }
        : { errors: [{ code: 1011, title: 'Service not ready', details: 'node is not responding' }] },
    ]);
    return { health: Object.fromEntries([...masters, ...cores]) };
  };
}

/** A9 without the standby: healthy, one Coreapp connected, nobody to take over. */
export function withoutStandby(): HealthBody {
  const health = structuredClone(seed['A9-ha-registered'].health) as Record<string, unknown>;
  delete health['your-coreapp2-hostname:75d7355eaaaa'];
  return { health };
}
