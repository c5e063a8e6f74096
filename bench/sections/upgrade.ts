// Section 2: upgrade 2.29.1 -> 2.29.3 on MySQL (dbupgrade job, media chown), A = seed-upgrade.sh,
// B = the upgrade runbook, alternating; every repetition starts from a fresh 2.29.1 cluster.
import { ADMIN_PASSWORD_FILE } from '../../test/lab/cluster-json';
import type { LabHost } from '../../test/lab/paths';
import { upgradeCriticalPath } from '../critical-path';
import { cleanLab, labCluster, seedScriptEnv } from '../lab-session';
import { runSeedScript } from '../seed-script';
import type { BenchTemporal } from '../temporal';
import { measuredRun, type RunRecord } from './paired-run';
import { runbookRep } from './runbook-rep';

export const FROM = '2.29.1';
export const TO = '2.29.3';

function upgradeInput() {
  return {
    cluster: labCluster(FROM),
    toVersion: TO,
    backup: { passwordRef: `file:${ADMIN_PASSWORD_FILE}` },
    approvals: { approvers: ['alice', 'bob'], timeout: '10m' },
    requestedBy: 'carol',
    rollback: 'off',
    timeouts: { health: '3m', dbUpgrade: '10m' },
  };
}

/** A registered 2.29.1 cluster, set up by the operator's script (not measured). */
async function freshCluster(hosts: LabHost[]): Promise<void> {
  await cleanLab();
  await runSeedScript('seed-ha-setup.sh', seedScriptEnv(hosts, FROM));
}

const critical =
  (hosts: LabHost[]) =>
  (timeline: Parameters<typeof upgradeCriticalPath>[1], window: { from: number; to: number }) =>
    upgradeCriticalPath(hosts, timeline, window, TO);

async function runA(hosts: LabHost[], rep: number): Promise<RunRecord> {
  await freshCluster(hosts);
  return measuredRun(
    hosts,
    'A',
    rep,
    async () => (await runSeedScript('seed-upgrade.sh', seedScriptEnv(hosts, TO))).seconds,
    critical(hosts),
  );
}

const runB = (t: BenchTemporal, hosts: LabHost[], rep: number, artifactsDir: string) =>
  freshCluster(hosts).then(() =>
    runbookRep(t, hosts, rep, artifactsDir, {
      runbook: 'upgrade',
      input: upgradeInput(),
      gate: 'upgrade',
      criticalPath: critical(hosts),
    }),
  );

export async function upgradeRuns(
  t: BenchTemporal,
  hosts: LabHost[],
  reps: number,
  artifactsDir: string,
  log: (m: string) => void,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const a = await runA(hosts, rep);
    log(`  upgrade rep ${rep}/${reps}: A ${a.seconds.toFixed(1)} s`);
    const b = await runB(t, hosts, rep, artifactsDir);
    log(`  upgrade rep ${rep}/${reps}: B ${b.seconds.toFixed(1)} s`);
    records.push(a, b);
  }
  return records;
}
