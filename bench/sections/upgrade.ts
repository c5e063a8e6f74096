// Section 2: upgrade 2.29.1 -> 2.29.3 on MySQL (dbupgrade job, media chown), A = seed-upgrade.sh,
// B = the upgrade runbook with its defaults, B2 and B3 = the same with `maxUnavailable: 2` and 3,
// alternating; every repetition starts from a fresh 2.29.1 cluster.
import type { LabHost } from '../../lab/paths';
import { upgradeCriticalPath } from '../critical-path';
import { benchInventory, cleanLab, seedScriptEnv } from '../lab-session';
import { runSeedScript } from '../seed-script';
import type { BenchTemporal } from '../temporal';
import { measuredRun, type RunRecord, type Variant } from './paired-run';
import { runbookRep } from './runbook-rep';

export const FROM = '2.29.1';
export const TO = '2.29.3';

/**
 * The runbook's variants, each a patch of its input: B = the defaults (`maxUnavailable: 1`, one host
 * at a time); B2 = batches of 2 hosts per role (of 3 Masters and 3 Coreapps one keeps serving);
 * B3 = every host of a role at once (the seed's upgrade, which accepts downtime: the lower bound of
 * a procedure that restarts several hosts at once, still role after role with a gate after each).
 */
export const RUNBOOK_VARIANTS: Record<RunbookVariant, object> = {
  B: {},
  B2: { maxUnavailable: 2 },
  B3: { maxUnavailable: 3 },
};
type RunbookVariant = Exclude<Variant, 'A'>;

/** The upgrade of the lab's cluster from FROM (the bench inventory says so) to TO. */
function upgradeInput() {
  benchInventory(FROM);
  return {
    cluster: 'lab',
    toVersion: TO,
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

const runB = (
  t: BenchTemporal,
  hosts: LabHost[],
  rep: number,
  artifactsDir: string,
  variant: RunbookVariant,
) =>
  freshCluster(hosts).then(() =>
    runbookRep(t, hosts, rep, artifactsDir, {
      runbook: 'upgrade',
      variant,
      input: { ...upgradeInput(), ...RUNBOOK_VARIANTS[variant] },
      gate: 'upgrade',
      criticalPath: critical(hosts),
    }),
  );

/** One repetition of A or of a runbook variant, each from a fresh 2.29.1 cluster. */
export const upgradeRep = (
  t: BenchTemporal,
  hosts: LabHost[],
  rep: number,
  artifactsDir: string,
  variant: Variant,
): Promise<RunRecord> => (variant === 'A' ? runA(hosts, rep) : runB(t, hosts, rep, artifactsDir, variant));

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
    records.push(a);
    for (const variant of Object.keys(RUNBOOK_VARIANTS) as RunbookVariant[]) {
      const b = await runB(t, hosts, rep, artifactsDir, variant);
      log(`  upgrade rep ${rep}/${reps}: ${variant} ${b.seconds.toFixed(1)} s`);
      records.push(b);
    }
  }
  return records;
}
