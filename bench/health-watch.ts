// The sim's health as the Webapp computes it (lab/sim/webapp.ts), read straight from the lab
// database every 100 ms with no login and no load on the Webapp: a timeline of state changes, the
// lab's own evidence of when the cluster converged.
import { setTimeout as sleep } from 'node:timers/promises';
import { labDbConfig } from '../lab/database';
import { labState } from '../lab/lab';
import { type Db, getKv, openDb } from '../lab/sim/db';
import { type HealthBody, summarizeHealth } from '../src/model/health';

export interface HealthState {
  /** ms since the epoch (same clock as docker's timestamps: one machine). */
  t: number;
  registered: boolean;
  verdict: string;
  nodes: number;
  /** Versions of the nodes listed, sorted, without duplicates. */
  versions: string[];
}

interface NodeRow {
  id: string;
  role: string;
  version: string;
  last_seen: number | string;
  status: string | null;
  error_code: number | null;
}

async function sample(db: Db, unhealthyMs: number): Promise<Omit<HealthState, 't'>> {
  const [nodes, lease, registered] = await Promise.all([
    db.query<NodeRow>(
      "SELECT id, role, version, last_seen, status, error_code FROM nodes WHERE role IN ('master', 'coreapp')",
    ),
    db.query<{ holder: string | null }>("SELECT holder FROM lease WHERE name = 'primary_master'"),
    getKv(db, 'registered'),
  ]);
  const fresh = Date.now() - unhealthyMs;
  const primary = lease[0]?.holder;
  const health: HealthBody['health'] = {};
  for (const n of nodes) {
    if (Number(n.last_seen) < fresh) health[n.id] = { errors: [{ code: 1011, title: 'Service not ready' }] };
    else if (n.status)
      health[n.id] = {
        gateway_status: n.status,
        role: n.role === 'coreapp' ? 'coreapp' : n.id === primary ? 'primary_master' : 'secondary_master',
      };
    else health[n.id] = { errors: [{ code: n.error_code ?? 1011, title: 'Service not ready' }] };
  }
  return {
    registered: registered === '1',
    verdict: summarizeHealth({ health }).verdict,
    nodes: nodes.length,
    versions: [...new Set(nodes.map((n) => n.version))].sort(),
  };
}

export interface HealthWatch {
  stop(): Promise<HealthState[]>;
}

export async function watchHealth(everyMs = 100): Promise<HealthWatch> {
  const db = await openDb(labDbConfig('MYSQL'));
  const unhealthyMs = labState().unhealthyInterval * 1000;
  const timeline: HealthState[] = [];
  let running = true;
  const loop = (async () => {
    let last = '';
    // Bounded by `stop` (every repetition stops its watch) and by one hour, whichever comes first.
    for (const deadline = Date.now() + 3_600_000; running && Date.now() < deadline; ) {
      const t = Date.now();
      const state = await sample(db, unhealthyMs).catch(() => undefined);
      const key = JSON.stringify(state);
      if (state && key !== last) timeline.push({ t, ...state });
      last = key;
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await db.close();
      return timeline;
    },
  };
}

/** When `ok` first held at or after `after` (ms), from a timeline of state changes. */
export function firstTime(
  timeline: HealthState[],
  ok: (s: HealthState) => boolean,
  after = 0,
): number | undefined {
  let current: HealthState | undefined;
  for (const s of timeline) {
    if (s.t <= after) {
      current = s;
      continue;
    }
    if (current && ok(current)) return after;
    current = undefined;
    if (ok(s)) return s.t;
  }
  return current && ok(current) ? after : undefined;
}
