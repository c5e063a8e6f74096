// The bench's output: a readable table on stdout and the full record as JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine';
import type { ActivityOverhead } from './sections/activity-overhead';
import type { CrashRecovery } from './sections/crash-recovery';
import type { FleetResult } from './sections/fleet';
import type { RunRecord } from './sections/paired-run';
import { perHostLine, type ScalingResult } from './sections/scaling';
import type { SshRoundTrip } from './sections/ssh-round-trip';
import type { Spread } from './stats';
import { type PairedSummary, type SshReuse, type VariantSummary, variantB } from './summarize';

export type Outcome<T> = T | { error: string };

export interface BenchResults {
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: Record<string, unknown> & {
    /** Section 2's runbook variants: label -> what each changes of the runbook's input. */
    upgradeVariants?: Record<string, object>;
  };
  haSetup?: Outcome<{ summary: PairedSummary; runs: RunRecord[] }>;
  upgrade?: Outcome<{ summary: PairedSummary; runs: RunRecord[] }>;
  activityOverhead?: Outcome<ActivityOverhead>;
  sshReuse?: Outcome<SshReuse>;
  /** One SSH command and upload on a warm pooled connection, Nagle on and off. */
  sshRoundTrip?: Outcome<SshRoundTrip>;
  /** The largest fleet round (as before); every round in fleetSizes. */
  fleet?: Outcome<FleetResult>;
  fleetSizes?: Outcome<FleetResult>[];
  crashRecovery?: Outcome<CrashRecovery>;
  /** The upgrade on 1/3/3 and on 1/3/6: time per host. */
  scaling?: Outcome<ScalingResult>;
  /** Each goal of issue 15 with its measured figure (null: not measured in this run). */
  goals?: GoalRow[];
}

export interface GoalRow {
  goal: string;
  target: string;
  measured: string | null;
  met: boolean | null;
}

/**
 * `<date>.json`, or `<date>-2.json`, `-3`, ... when that day has one already: a second run the same
 * day never overwrites the first (flag `wx`: created only if absent, even against a concurrent run).
 */
export function writeResults(results: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  for (let n = 1; n <= 100; n++) {
    const file = path.join(dir, `${results.date}${n === 1 ? '' : `-${n}`}.json`);
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`bench results: ${results.date}.json to -100 exist in ${dir}; move some away`);
}

const s = (x: Spread, unit = 's') =>
  `${x.median.toFixed(1)} ${unit} (${x.min.toFixed(1)}–${x.max.toFixed(1)}, n=${x.n})`;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const failed = (o: object): o is { error: string } => 'error' in o;

const line = (label: string, value: string) => `  ${label.padEnd(30)}${value}`;

/** The lines of one runbook variant: B, or B2 etc. (`patch`: what its input changes of B's). */
function variantLines(v: string, m: VariantSummary, patch?: object): string[] {
  const changes = Object.entries(patch ?? {}).map(([k, x]) => `, ${k} ${JSON.stringify(x)}`);
  const what = `runbook${changes.join('')}`;
  return [
    line(`${v.padEnd(3)}${what}`, s(m.wall)),
    line(
      `${v}/A`,
      `${m.ratioToA.toFixed(2)} (per rep ${m.ratioPerRep.min.toFixed(2)}–${m.ratioPerRep.max.toFixed(2)})`,
    ),
    line(`critical path (lab, ${v} runs)`, s(m.criticalPath)),
    line(
      `${v} overhead over it`,
      `${s(m.overhead.seconds)} = ${pct(m.overhead.overCriticalPath)} of the critical path, ${pct(m.overhead.shareOfWall)} of ${v}`,
    ),
    line(
      `path with compose CLI (${v})`,
      `${s(m.criticalPathWithCompose)}; ${v} overhead over it ${s(m.overhead.overPathWithCompose)}`,
    ),
    ...(m.inRunOrder
      ? [
          line(
            `path in ${v}'s own up -d order`,
            `${s(m.inRunOrder.path)}; ${v} / it ${s(m.inRunOrder.wallOverPath, 'x')}`,
          ),
        ]
      : []),
  ];
}

function paired(title: string, o: BenchResults['haSetup'], patches: Record<string, object> = {}): string[] {
  if (!o) return [];
  if (failed(o)) return [title, `  FAILED: ${o.error}`];
  const m = o.summary;
  return [
    title,
    line('A  operator script', s(m.a)),
    ...variantLines('B', variantB(m)),
    ...Object.entries(m.variants ?? {}).flatMap(([v, vm]) => variantLines(v, vm, patches[v])),
    line('A overhead over its own', s(m.overheadA.seconds)),
    ...breakdownLines(o.runs),
  ];
}

/** Per runbook variant: medians of activity vs idle time, and the activity types that took longest. */
function breakdownLines(runs: RunRecord[]): string[] {
  const variants = [...new Set(runs.filter((r) => r.breakdown).map((r) => r.variant))];
  return variants.flatMap((v) => {
    const mine = runs.filter((r) => r.variant === v && r.breakdown);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const busy = med(mine.map((r) => r.breakdown?.activitySeconds ?? Number.NaN));
    const idle = med(mine.map((r) => r.breakdown?.idleSeconds ?? Number.NaN));
    const top = (mine.at(-1)?.breakdown?.byType ?? [])
      .slice(0, 6)
      .map(
        (t) => `${t.type} ${t.count}x ${t.seconds.toFixed(1)} s${t.retried ? ` (${t.retried} retried)` : ''}`,
      );
    return [
      line(
        `${v} where the time goes`,
        `activities in flight ${busy.toFixed(1)} s, none in flight ${idle.toFixed(1)} s (medians)`,
      ),
      `    ${top.join(', ')}`,
    ];
  });
}

/** Section 4's round trips: Nagle on, off, and how many times faster. */
function roundTripLines(rt: Outcome<SshRoundTrip>): string[] {
  const title = '4. One SSH command and upload on a warm pooled connection (medians), Nagle on -> off';
  if (failed(rt)) return [title, `  FAILED: ${rt.error}`];
  const row = (what: string, on: number, off: number) =>
    line(what, `${on} ms -> ${off} ms (${(on / off).toFixed(1)}x faster)`);
  return [
    `${title} (${rt.host}, n=${rt.samples})`,
    row('exec `true`', rt.nagle.execTrueMs, rt.noDelay.execTrueMs),
    row('exec `docker version`', rt.nagle.dockerVersionMs, rt.noDelay.dockerVersionMs),
    row('upload 2 KiB', rt.nagle.upload2KiBMs, rt.noDelay.upload2KiBMs),
  ];
}

export function table(r: BenchResults): string {
  const blocks: string[][] = [
    [
      `npm run bench — ${r.startedAt} — ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, node ${r.machine.node}`,
    ],
    paired('1. HA setup (1 Webapp, 3 Masters, 3 Coreapps, MySQL)', r.haSetup),
    paired('2. Upgrade 2.29.1 -> 2.29.3 with dbupgrade', r.upgrade, r.settings.upgradeVariants),
  ];
  const ao = r.activityOverhead;
  if (ao)
    blocks.push([
      '3. Per-activity overhead (sequential no-op activities, embedded dev server)',
      ...(failed(ao)
        ? [`  FAILED: ${ao.error}`]
        : [
            `  ${ao.activities} activities in ${ao.totalSeconds.toFixed(2)} s: per activity median ${ao.perActivityMs.median} ms, p99 ${ao.perActivityMs.p99} ms (max ${ao.perActivityMs.max} ms)`,
            `  scheduled -> completed: median ${ao.scheduledToCompletedMs.median} ms, p99 ${ao.scheduledToCompletedMs.p99} ms`,
            ...(ao.breakdown
              ? [
                  `  one step, medians: activity schedule-to-start ${ao.breakdown.activityScheduleToStart} ms (eager dispatch), activity run ${ao.breakdown.activityRun} ms,`,
                  `    workflow task dispatch ${ao.breakdown.workflowTaskDispatch} ms, workflow task run ${ao.breakdown.workflowTaskRun} ms`,
                ]
              : []),
            ...(ao.localPerActivityMs !== undefined
              ? [`  the same chain as local activities: ${ao.localPerActivityMs} ms per step`]
              : []),
            '  (the dev server runs with history.transferProcessorMaxPollRPS=1000: at its default of 20 per',
            '  shard, with the dev server single shard, every step waited ~50 ms for a task-loading token)',
          ]),
    ]);
  const ssh = r.sshReuse;
  if (ssh)
    blocks.push([
      '4. SSH reuse per haSetup run',
      ...(failed(ssh)
        ? [`  FAILED: ${ssh.error}`]
        : [
            `  B: ${s(ssh.handshakes, 'handshakes')}, ${s(ssh.commands, 'commands')}, ${s(ssh.uploads, 'uploads')}; ${ssh.commandsPerHandshake} commands per handshake`,
            `  sshd logins seen by the hosts: B ${s(ssh.sshdLoginsB, '')}, A ${s(ssh.sshdLoginsA, '')}`,
          ]),
    ]);
  const rt = r.sshRoundTrip;
  if (rt) blocks.push(roundTripLines(rt));
  const rounds = r.fleetSizes ?? (r.fleet ? [r.fleet] : []);
  if (rounds.length)
    blocks.push([
      '5. Fleet: one worker process, concurrent runs of a fake runbook',
      ...rounds.flatMap((f) =>
        failed(f)
          ? [`  FAILED: ${f.error}`]
          : [
              `  ${f.runs} runs x ${f.stepsPerRun} activities of ${f.stepMs} ms: all done in ${f.completionSeconds.toFixed(2)} s`,
              `    worker RSS idle ${f.workerRssMiB.idle} MiB, peak ${f.workerRssMiB.peak} MiB; schedule-to-start median ${f.scheduleToStartMs.median} ms, p99 ${f.scheduleToStartMs.p99} ms (max ${f.scheduleToStartMs.max} ms)`,
            ],
      ),
    ]);
  const c = r.crashRecovery;
  if (c)
    blocks.push([
      '6. Worker SIGKILLed mid-step (heartbeat every 1 s, timeout 5 s), a new worker started at once',
      ...(failed(c)
        ? [`  FAILED: ${c.error}`]
        : [
            `  the step ran again ${(c.killToRetryMs / 1000).toFixed(1)} s after the kill, ${(c.pollToRetryMs / 1000).toFixed(1)} s after the new worker polled (attempt ${c.attempt})`,
          ]),
    ]);
  const sc = r.scaling;
  if (sc)
    blocks.push([
      '7. Scaling line: upgrade 2.29.1 -> 2.29.3, A and B (maxUnavailable 1), on two lab sizes',
      ...(failed(sc)
        ? [`  FAILED: ${sc.error}`]
        : [
            ...sc.points.flatMap((p) => [
              line(`${p.topology} (${p.hosts} hosts)  A`, `${s(p.a)}; ${s(p.perHostA, 's/host')}`),
              line('  B', `${s(p.b)}; ${s(p.perHostB, 's/host')}; composeUp ${s(p.composeUpB)}`),
            ]),
            line(
              'each added host adds',
              `A ${sc.addedHostSeconds.a.toFixed(1)} s, B ${sc.addedHostSeconds.b.toFixed(1)} s (medians)`,
            ),
          ]),
    ]);
  const goals = r.goals ?? goalRows(r);
  blocks.push([
    'Goals (issue 15)',
    ...goals.map(
      (g) =>
        `  ${g.met === null ? '  ?' : g.met ? ' ok' : 'MISS'}  ${g.goal.padEnd(46)}${(g.measured ?? 'not measured').padEnd(24)} goal ${g.target}`,
    ),
  ]);
  return blocks
    .filter((b) => b.length)
    .map((b) => b.join('\n'))
    .join('\n\n');
}

const ok = <T extends object>(o: Outcome<T> | undefined): T | undefined => (o && !failed(o) ? o : undefined);

/** Each goal with the figure this run measured (the wall/critical-path ratios use the B variant). */
export function goalRows(r: BenchResults): GoalRow[] {
  const rows: GoalRow[] = [];
  const row = (goal: string, measured: number | undefined, limit: number, unit = 'x') =>
    rows.push({
      goal,
      target: `<= ${limit}${unit === 'x' ? 'x' : ` ${unit}`}`,
      measured: measured === undefined ? null : `${measured.toFixed(2)}${unit === 'x' ? 'x' : ` ${unit}`}`,
      met: measured === undefined ? null : measured <= limit,
    });
  for (const [name, o] of [
    ['haSetup', r.haSetup],
    ['upgrade', r.upgrade],
  ] as const) {
    const m = ok(o)?.summary;
    const b = m ? variantB(m) : undefined;
    row(
      `${name} wall / critical path with compose`,
      b ? b.wall.median / b.criticalPathWithCompose.median : undefined,
      1.25,
    );
    row(`${name} wall / seed script`, b?.ratioToA, 0.5);
  }
  row('per-activity step, median (dev server)', ok(r.activityOverhead)?.perActivityMs.median, 15, 'ms');
  const crash = ok(r.crashRecovery);
  row('worker SIGKILL: step again after new poll', crash ? crash.pollToRetryMs / 1000 : undefined, 10, 's');
  const big = (r.fleetSizes ?? []).map(ok).find((f) => f?.runs === 1000);
  row('fleet 1,000 runs: worker peak RSS', big?.workerRssMiB.peak, 500, 'MiB');
  row('fleet 1,000 runs: schedule-to-start p99', big ? big.scheduleToStartMs.p99 / 1000 : undefined, 1, 's');
  const scaling = ok(r.scaling);
  rows.push({
    goal: 'scaling line, bigger lab cluster (1/3/6)',
    target: 'reported',
    measured: scaling ? perHostLine(scaling) : null,
    met: scaling ? scaling.points.length > 1 : null,
  });
  return rows;
}
