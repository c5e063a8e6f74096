// dbUpgrade with exitOnSuccess: false end to end on the lab (MySQL): the job is started as a one-off
// `docker-compose run -d -e EXIT_ON_SUCCESS=FALSE dbupgrade` with the unmodified upstream file, stays
// up after success (the simulator honours the variable), success is read from its log, the job
// container is removed, and with restartApps: false the app containers are left alone.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLabDb } from '../../lab/database';
import { docker, labState, up } from '../../lab/lab';
import { getKv, readStats, setKv } from '../../lab/sim/db';
import type { DbUpgradeResult } from '../../workflows/db-upgrade';
import { testClient } from '../support/temporal';
import type { WorkerProcess } from '../support/worker-process';
import { labUnavailable } from './availability';
import { cli, inputFile, labWorker, setUpHa, TestInventory } from './e2e-support';

const unavailable = await labUnavailable();
const TASK_QUEUE = `waba-lab-dbupgrade-${process.pid}`;
const JOB_HOST = 'master1'; // the default: the first master
const DBUPGRADE = 'label=com.docker.compose.service=dbupgrade';

interface JobSeen {
  /** Successive `status:exitCode` of the container. */
  states: string[];
  env: string[];
  oneoff: string;
}

describe.skipIf(unavailable)('dbUpgrade with exitOnSuccess: false on the lab', () => {
  let worker: WorkerProcess | undefined;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const inventory = new TestInventory('dbupgrade');
  const appHosts = () => labState().hosts.filter((h) => !h.spare);
  const schema = () => withLabDb('MYSQL', (db) => getKv(db, 'schema_version'));
  const dbupgradeRuns = async () => (await withLabDb('MYSQL', readStats)).dbupgrade ?? 0;
  const dbupgradeContainers = async () =>
    (await docker(JOB_HOST, ['ps', '-aq', '--no-trunc', '--filter', DBUPGRADE]))
      .trim()
      .split('\n')
      .filter(Boolean);
  /** Every container on the app hosts: full id, image, start time (a restart or recreate changes them). */
  const appContainers = async () => {
    const all: string[] = [];
    for (const h of appHosts()) {
      const ids = (await docker(h.name, ['ps', '-aq', '--no-trunc'])).trim().split('\n').filter(Boolean);
      if (ids.length === 0) continue;
      const lines = await docker(h.name, [
        'inspect',
        '--format',
        '{{.Id}} {{.Config.Image}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.Running}} {{.State.StartedAt}}',
        ...ids,
      ]);
      for (const l of lines.trim().split('\n')) all.push(`${h.name} ${l}`);
    }
    return all.sort();
  };

  beforeAll(async () => {
    await up({ log: () => {} });
    ({ client, close } = await testClient());
    // The cluster is set up at 2.29.1: the inventory says so, as an operator's would.
    await inventory.setVersion('lab', '2.29.1');
    worker = await labWorker(TASK_QUEUE, inventory);
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await close?.();
  });

  it('2.29.1 -> 2.29.3: one job run with EXIT_ON_SUCCESS=FALSE, success read from its log, job removed, apps untouched', async () => {
    await setUpHa(client, TASK_QUEUE, 'lab');
    expect(await schema()).toBe('2.29.1');
    expect(await dbupgradeContainers()).toEqual([]);
    const appsBefore = await appContainers();
    // web1 waweb, master1/master2 master, core1/core2 wacore, all running on 2.29.1.
    expect(appsBefore).toHaveLength(5);
    for (const c of appsBefore) expect(c).toMatch(/:v2\.29\.1 (waweb|master|wacore) true /);
    const runsBefore = await dbupgradeRuns();

    // A job that lasts a few seconds, so it can be seen running with the variable.
    await withLabDb('MYSQL', (db) => setKv(db, 'dbupgrade_seconds', '6'));
    let result: DbUpgradeResult;
    /** What the job host showed while the run went on, per dbupgrade container: state, env, labels. */
    const seen = new Map<string, JobSeen>();
    const since = Math.floor(Date.now() / 1000) - 1;
    try {
      const started = await cli(
        TASK_QUEUE,
        'start',
        'dbUpgrade',
        '--input',
        inputFile('dbupgrade', {
          cluster: 'lab',
          toVersion: '2.29.3',
          exitOnSuccess: false,
          restartApps: false,
          timeouts: { job: '3m' },
        }),
      );
      expect(started.out).toContain('"workflowId": "lab/dbUpgrade"');
      expect(started.code).toBe(0);
      const id = 'lab/dbUpgrade';

      // Watch the job host while the run goes on: what the job container looks like.
      let done = false;
      const resultP = client.workflow
        .getHandle(id)
        .result()
        .finally(() => {
          done = true;
        });
      const watch = (async () => {
        while (!done) {
          for (const c of await dbupgradeContainers().catch((): string[] => [])) {
            const out = await docker(JOB_HOST, [
              'inspect',
              '--format',
              '{{.State.Status}}:{{.State.ExitCode}}|{{json .Config.Env}}|{{index .Config.Labels "com.docker.compose.oneoff"}}',
              c,
            ]).catch(() => '');
            const [state, env, oneoff] = out.trim().split('|');
            if (!state || !env) continue;
            const entry: JobSeen = seen.get(c) ?? {
              states: [],
              env: JSON.parse(env),
              oneoff: oneoff ?? '',
            };
            if (entry.states.at(-1) !== state) entry.states.push(state);
            seen.set(c, entry);
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      result = (await resultP) as DbUpgradeResult;
      await watch;

      // The job's success was read from its log, not from an exit code: the waitDbUpgrade activity
      // returned the log lines that say the upgrade is complete.
      const history = await client.workflow.getHandle(id).fetchHistory();
      const events = history.events ?? [];
      const waitScheduled = events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitDbUpgrade')
        .map((e) => Number(e.eventId));
      const waitCompleted = events.filter((e) =>
        waitScheduled.includes(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)),
      );
      expect(waitCompleted).toHaveLength(1);
      const payload = waitCompleted[0]?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      const waited = defaultPayloadConverter.fromPayload(payload as never) as {
        exitCode: number;
        lastLines: string[];
      };
      expect(waited.exitCode).toBe(0);
      expect(waited.lastLines.join('\n')).toContain('database upgrade to v2.29.3 complete');
    } finally {
      await withLabDb('MYSQL', (db) => setKv(db, 'dbupgrade_seconds', '1'));
    }

    // The run succeeded and says so.
    expect(result).toMatchObject({
      cluster: 'lab',
      host: JOB_HOST,
      toVersion: '2.29.3',
      exitCode: 0,
      restarted: [],
    });
    // Exactly one job container was seen: a one-off `run`, up, with EXIT_ON_SUCCESS=FALSE; it is the
    // one the run reports.
    expect([...seen.keys()]).toHaveLength(1);
    const [jobId, job] = [...seen.entries()][0] as [string, JobSeen];
    expect(jobId.startsWith(result.container)).toBe(true);
    expect(job.states[0]).toBe('running:0');
    expect(job.states).not.toContain('exited:0');
    // It stayed up after success until the run removed it: the job host's Docker daemon saw it die
    // once, from the SIGKILL of `docker rm -f` (137), not exit 0 by itself; then destroyed.
    const events = (
      await docker(JOB_HOST, [
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.ceil(Date.now() / 1000) + 1),
        '--filter',
        `container=${jobId}`,
        '--format',
        '{{.Action}} {{index .Actor.Attributes "exitCode"}}',
      ])
    )
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(events.filter((e) => e.startsWith('die'))).toEqual(['die 137']);
    expect(events.filter((e) => e.startsWith('start'))).toHaveLength(1);
    expect(events.at(-1)).toBe('destroy');
    expect(job.oneoff).toBe('True');
    expect(job.env).toContain('EXIT_ON_SUCCESS=FALSE');
    expect(job.env).toContain('WA_DB_UPGRADE=1');

    // The schema moved to the new version; the job ran exactly once.
    expect(await schema()).toBe('2.29.3');
    expect((await dbupgradeRuns()) - runsBefore).toBe(1);
    // The job container that stayed up is gone.
    expect(await dbupgradeContainers()).toEqual([]);
    // restartApps: false: the same app containers, same images, not restarted.
    expect(await appContainers()).toEqual(appsBefore);
  });
});
