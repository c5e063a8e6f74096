// Section 1 (and the data of section 4): HA setup, A = scripts/bench/seed-ha-setup.sh, B = haSetup,
// alternating, each from a clean slate.
import type { LabHost } from '../../lab/paths';
import { setupCriticalPath } from '../critical-path';
import { benchInventory, cleanLab, seedScriptEnv } from '../lab-session';
import { runSeedScript } from '../seed-script';
import type { BenchTemporal } from '../temporal';
import { measuredRun, type RunRecord } from './paired-run';
import { runbookRep } from './runbook-rep';

const SETUP_VERSION = '2.23.4';

/** haSetup of the lab's cluster at `version` (the bench inventory says so). */
export function haSetupInput(version: string) {
  benchInventory(version);
  return { cluster: 'lab', requestedBy: 'carol' };
}

async function runA(hosts: LabHost[], rep: number): Promise<RunRecord> {
  await cleanLab();
  return measuredRun(
    hosts,
    'A',
    rep,
    async () => (await runSeedScript('seed-ha-setup.sh', seedScriptEnv(hosts, SETUP_VERSION))).seconds,
    (timeline, window) => setupCriticalPath(hosts, timeline, window),
  );
}

const runB = (t: BenchTemporal, hosts: LabHost[], rep: number, artifactsDir: string) =>
  cleanLab().then(() =>
    runbookRep(t, hosts, rep, artifactsDir, {
      runbook: 'haSetup',
      input: haSetupInput(SETUP_VERSION),
      gate: 'register',
      criticalPath: (timeline, window) => setupCriticalPath(hosts, timeline, window),
    }),
  );

export async function haSetupRuns(
  t: BenchTemporal,
  hosts: LabHost[],
  reps: number,
  artifactsDir: string,
  log: (m: string) => void,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const a = await runA(hosts, rep);
    log(`  haSetup rep ${rep}/${reps}: A ${a.seconds.toFixed(1)} s`);
    const b = await runB(t, hosts, rep, artifactsDir);
    log(`  haSetup rep ${rep}/${reps}: B ${b.seconds.toFixed(1)} s`);
    records.push(a, b);
  }
  return records;
}
