// Command line of `npm run bench`.

const SECTIONS = ['activities', 'crash', 'fleet', 'ssh', 'ha', 'upgrade', 'scaling'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchArgs {
  reps: number;
  /** Concurrent runs of each fleet round (the largest is `fleet` in the results, every one `fleetSizes`). */
  fleetRuns: number[];
  activities: number;
  /** Repetitions of A and B on each topology of the scaling section. */
  scalingReps: number;
  sections: Section[];
}

export const USAGE = `usage: npm run bench -- [--reps N] [--scaling-reps N] [--fleet N] [--activities N] [--only ${SECTIONS.join(',')}]
  --reps N        repetitions of A and of B (and B2) for HA setup and upgrade (default 3)
  --scaling-reps N  repetitions of A and of B on each lab size of the scaling section (default 2)
  --fleet N,N     concurrent runs in each round of the fleet section (default 100,300,1000)
  --activities N  sequential no-op activities in the overhead section (default 200)
  --only LIST     run only these sections (SSH reuse comes with "ha"; "ssh": the round trips)
Run it under the lab lock: flock -w 3000 /tmp/waba-lab.lock npm run bench`;

function whole(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}\n${USAGE}`);
  return n;
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    reps: 3,
    fleetRuns: [100, 300, 1000],
    activities: 200,
    scalingReps: 2,
    sections: [...SECTIONS],
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--reps') args.reps = whole(flag, value, 1);
    else if (flag === '--scaling-reps') args.scalingReps = whole(flag, value, 1);
    else if (flag === '--fleet') args.fleetRuns = (value ?? '').split(',').map((n) => whole(flag, n, 1));
    else if (flag === '--activities') args.activities = whole(flag, value, 2);
    else if (flag === '--only') {
      const list = (value ?? '').split(',');
      const bad = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
      if (bad.length) throw new Error(`unknown section(s) ${bad.join(', ')}\n${USAGE}`);
      args.sections = list as Section[];
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
    i++;
  }
  return args;
}
