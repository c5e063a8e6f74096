// Section 5: one worker process driving many concurrent runs of a small fake runbook: completion time,
// the worker's resident memory, and how long activities wait for the worker (schedule-to-start).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from '../cleanup';
import { activityTimes, historyEvents } from '../history';
import { median, percentile, round } from '../stats';
import type { BenchTemporal } from '../temporal';
import { BENCH_QUEUE } from '../temporal-names';

export interface FleetResult {
  runs: number;
  stepsPerRun: number;
  stepMs: number;
  completionSeconds: number;
  workerRssMiB: { idle: number; peak: number };
  scheduleToStartMs: { median: number; p99: number; max: number };
}

/** VmRSS (now) or VmHWM (peak) of a process, in MiB. */
function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return round(Number(line?.replace(/\D+/g, '') ?? Number.NaN) / 1024, 1);
}

export async function startFleetWorker(t: BenchTemporal): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'fleet-worker.ts'), t.server.address, t.benchBundle],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  for (const deadline = Date.now() + 60_000; !out.includes('fleet worker ready'); await sleep(100)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the fleet worker did not start:\n${out.slice(-2000)}`);
    }
  }
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])) === false) {
    child.kill('SIGKILL');
    await exited;
  }
}

export async function fleet(t: BenchTemporal, runs: number, steps = 5, stepMs = 20): Promise<FleetResult> {
  const child = await startFleetWorker(t);
  const forget = onCleanup(`the fleet worker (pid ${child.pid})`, () => stopChild(child));
  try {
    const pid = child.pid as number;
    await sleep(1000); // let it settle before reading its idle size
    const idle = memoryMiB(pid, 'VmRSS');
    const prefix = `bench/fleet-${Date.now()}`;
    const ids = Array.from({ length: runs }, (_, i) => `${prefix}/${i}`);
    const started = performance.now();
    const handles = await Promise.all(
      ids.map((workflowId) =>
        t.client.workflow.start('fleetRun', { taskQueue: BENCH_QUEUE, workflowId, args: [steps, stepMs] }),
      ),
    );
    await Promise.all(handles.map((h) => h.result()));
    const completionSeconds = (performance.now() - started) / 1000;
    const peak = memoryMiB(pid, 'VmHWM');
    const waits: number[] = [];
    for (const id of ids)
      for (const a of activityTimes(await historyEvents(t.client, id))) waits.push(a.started - a.scheduled);
    return {
      runs,
      stepsPerRun: steps,
      stepMs,
      completionSeconds: round(completionSeconds),
      workerRssMiB: { idle, peak },
      scheduleToStartMs: {
        median: round(median(waits), 2),
        p99: round(percentile(waits, 99), 2),
        max: round(Math.max(...waits), 2),
      },
    };
  } finally {
    forget();
    await stopChild(child);
  }
}
