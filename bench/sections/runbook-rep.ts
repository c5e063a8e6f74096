// One measured runbook repetition (B, or a variant of it such as B2): a fresh in-process worker, the
// runbook driven to its end (gate approved and code sent at once), its health verdict checked, SSH
// counters and the critical path recorded.
import type { LabHost } from '../../lab/paths';
import { type CriticalPath, withUpCommands } from '../critical-path';
import type { HealthState } from '../health-watch';
import { activitySpan, runBreakdown, slowestActivity } from '../history';
import { driveRunbook } from '../runbook-driver';
import { round } from '../stats';
import { type BenchTemporal, startRunbooksWorker } from '../temporal';
import { measuredRun, type RunRecord, type Variant } from './paired-run';

export interface RunbookRep {
  runbook: 'haSetup' | 'upgrade';
  /** The record's label: 'B' unless given. */
  variant?: Variant;
  input: unknown;
  gate: string;
  criticalPath: (timeline: HealthState[], window: { from: number; to: number }) => Promise<CriticalPath>;
}

export async function runbookRep(
  t: BenchTemporal,
  hosts: LabHost[],
  rep: number,
  artifactsDir: string,
  spec: RunbookRep,
): Promise<RunRecord> {
  const worker = await startRunbooksWorker(t, artifactsDir);
  try {
    let workflowId = '';
    const record = await measuredRun(
      hosts,
      spec.variant ?? 'B',
      rep,
      async () => {
        const run = await driveRunbook(t.client, spec.runbook, spec.input, spec.gate);
        workflowId = run.workflowId;
        const verdict = (run.result as { health?: { verdict?: string } }).health?.verdict;
        if (verdict !== 'ha-connected') throw new Error(`${spec.runbook} ended with health ${verdict}`);
        return run.seconds;
      },
      spec.criticalPath,
    );
    const upCommand = round(await slowestActivity(t.client, workflowId, 'composeUp'));
    const upCommands = round(await activitySpan(t.client, workflowId, 'composeUp'));
    return {
      ...record,
      criticalPath: withUpCommands(record.criticalPath, upCommand, upCommands),
      sshPool: { ...worker.deps.ssh.counters },
      breakdown: await runBreakdown(t.client, [
        workflowId,
        `${workflowId}/dbUpgrade`,
        `${workflowId}/mediaChown`,
      ]),
    };
  } finally {
    await worker.stop();
  }
}
