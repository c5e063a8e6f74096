// `npm run bench` (issue 7): the runbooks against the seed's sequential shell loops on the same lab,
// in one run, alternating, plus the orchestration's own costs. A benchmark, never a test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parseArgs } from './args';
import { onCleanup, stopAll, stopOnSignals } from './cleanup';
import { machineInfo } from './machine';
import { type BenchResults, goalRows, type Outcome, table, writeResults } from './report';
import { activityOverhead } from './sections/activity-overhead';
import { crashRecovery } from './sections/crash-recovery';
import { type FleetResult, fleet } from './sections/fleet';
import type { RunRecord } from './sections/paired-run';
import { summarizePairs, summarizeSsh } from './summarize';
import { startTemporal } from './temporal';

const LOCK = '/tmp/waba-lab.lock';
const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** The lab is shared: warn when nobody holds its lock (we should be running under `flock`). */
function warnIfUnlocked(): void {
  try {
    execFileSync('flock', ['-n', LOCK, 'true'], { stdio: 'ignore' });
    log(`WARNING: ${LOCK} is not held; run as: flock -w 3000 ${LOCK} npm run bench`);
  } catch {
    // held (by the flock wrapping us): good
  }
}

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  log(`${what}...`);
  try {
    return await fn();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`${what} FAILED: ${error}`);
    return { error };
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The SDK's INFO and WARN lines (worker states, retried activities while nodes restart) would drown
  // the bench's own progress; failures still surface through the runs.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  stopOnSignals(log);
  warnIfUnlocked();
  const startedAt = new Date();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-bench-'));
  onCleanup('the temp dir', async () => rmSync(tmp, { recursive: true, force: true }));
  const want = (s: (typeof args.sections)[number]) => args.sections.includes(s);
  const results: BenchResults = {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    machine: machineInfo(),
    settings: {
      reps: args.reps,
      fleetRuns: args.fleetRuns,
      activities: args.activities,
      scalingReps: args.scalingReps,
      sections: args.sections,
      topology: { webs: 1, masters: 3, cores: 3, spares: 0, engine: 'MYSQL' },
      setupVersion: '2.23.4',
      upgrade: '2.29.1 -> 2.29.3',
      // B: inside one heartbeating activity per wait (src/model/poll.ts).
      healthPollSeconds: { A: 3, B: '0.25 (first 10 s), 1 (to 30 s), then 3' },
      approvalAndCodePollMs: 100,
    },
  };

  log('starting the embedded Temporal dev server and bundling the workflows...');
  const t = await startTemporal(tmp);
  log(`Temporal dev server ${t.server.address} (Web UI ${t.server.uiUrl}), ${t.server.source}`);
  results.settings.temporal = t.server.source;

  // The orchestration-only sections first, on a machine without the lab running.
  if (want('activities'))
    results.activityOverhead = await attempt('3. per-activity overhead', () =>
      activityOverhead(t, args.activities),
    );
  if (want('crash'))
    results.crashRecovery = await attempt('6. worker crash mid-step', () => crashRecovery(t));
  if (want('fleet')) {
    const rounds: Outcome<FleetResult>[] = [];
    for (const runs of args.fleetRuns)
      rounds.push(await attempt(`5. fleet of ${runs} runs`, () => fleet(t, runs)));
    results.fleetSizes = rounds;
    results.fleet = rounds.at(-1);
  }

  if (want('ssh') || want('ha') || want('upgrade') || want('scaling')) {
    // Loaded only when needed: the lab sections pull in the lab and the runbooks' client code.
    const { labState } = await import('../lab/lab');
    const { benchInventory, bringUpLab } = await import('./lab-session');
    const { haSetupRuns } = await import('./sections/ha-setup');
    const { RUNBOOK_VARIANTS, upgradeRuns } = await import('./sections/upgrade');
    log('bringing up the lab (1 Webapp, 3 Masters, 3 Coreapps, MySQL)...');
    const hosts = await bringUpLab(log);
    results.settings.labUnhealthyIntervalSeconds = labState().unhealthyInterval;
    const artifacts = path.join(tmp, 'artifacts');
    const paired = async (runs: () => Promise<RunRecord[]>) => {
      const records = await runs();
      return { summary: summarizePairs(records), runs: records };
    };
    if (want('ssh')) {
      const { sshRoundTrip } = await import('./sections/ssh-round-trip');
      results.sshRoundTrip = await attempt('4. one SSH command and upload, Nagle on and off', () =>
        sshRoundTrip(benchInventory('2.23.4')),
      );
    }
    if (want('ha')) {
      results.haSetup = await attempt('1. HA setup, A and B alternating', () =>
        paired(() => haSetupRuns(t, hosts, args.reps, artifacts, log)),
      );
      const ha = results.haSetup;
      results.sshReuse = 'error' in ha ? { error: 'no haSetup runs' } : summarizeSsh(ha.runs);
    }
    if (want('upgrade')) {
      results.settings.upgradeVariants = RUNBOOK_VARIANTS;
      results.upgrade = await attempt('2. upgrade, A, B, B2 and B3 alternating', () =>
        paired(() => upgradeRuns(t, hosts, args.reps, artifacts, log)),
      );
    }
    if (want('scaling')) {
      // Last: it takes the lab down to bring it up with 6 Coreapps.
      const { scalingRuns } = await import('./sections/scaling');
      results.scaling = await attempt('7. scaling line, upgrade on 1/3/3 and 1/3/6', () =>
        scalingRuns(t, (size) => bringUpLab(log, size), args.scalingReps, artifacts, log),
      );
    }
  }

  results.finishedAt = new Date().toISOString();
  results.goals = goalRows(results);
  const file = writeResults(results, path.join(__dirname, 'results'));
  console.log(`\n${table(results)}\n`);
  log(`results: ${path.relative(process.cwd(), file)}`);
  const failures = [
    results.haSetup,
    results.upgrade,
    results.activityOverhead,
    results.crashRecovery,
    results.scaling,
    results.sshRoundTrip,
    ...(results.fleetSizes ?? []),
  ].filter((o) => o && 'error' in o);
  return failures.length ? 1 : 0;
}

main()
  .catch((err) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    return 1;
  })
  .then(async (code) => {
    log('stopping everything the bench started (workers, dev server, lab)...');
    await stopAll(log);
    process.exit(code);
  });
