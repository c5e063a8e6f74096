// Seed section G: `logs` of every service on every host into bounded files on the worker.
import { workflowInfo } from '@temporalio/workflow';
import type { OperableCluster } from '../src/model/cluster';
import { CollectLogsInput } from '../src/model/inputs';
import { inventoryOf } from '../src/model/inventory';
import type { InventoryStamp } from '../src/model/results';
import { defineRunbook } from './lib/define-runbook';
import { detectCompose, longActs } from './lib/hosts';
import { resolveStep, SERVICE_OF_ROLE } from './lib/plan';

export interface CollectLogsResult {
  cluster: string;
  inventory: InventoryStamp;
  files: { host: string; service: string; path: string; bytes: number; errorLines: number }[];
  summary: Record<string, { bytes: number; errorLines: number }>;
}

export const collectLogs = defineRunbook(
  { schema: CollectLogsInput },
  async (run, input): Promise<CollectLogsResult> => {
    const runDir = `${input.cluster}/logs-${workflowInfo().runId}`;
    // Step 1: the cluster, and the services whose logs are wanted.
    const resolved = await run.resolve();
    const cluster = resolved.cluster as OperableCluster;
    const { ref } = resolved;
    const wanted = cluster.hosts.flatMap((h) =>
      h.roles
        .map((r) => SERVICE_OF_ROLE[r])
        .filter((s) => !input.services || input.services.includes(s))
        .map((service) => ({ host: h.name, service })),
    );
    run.showPlan([
      resolveStep(cluster.name, resolved.resolution),
      ...wanted.map((w) => ({
        stage: 'logs',
        host: w.host,
        note: `docker-compose logs ${w.service} (at most ${input.maxBytesPerService} bytes)`,
      })),
    ]);

    // Step 2: preflight of the hosts concerned, then every service's logs in parallel.
    run.progress.stage('logs');
    // Not the media mount's mode: logs are what an operator reads when the cluster is wrong.
    const variants = await detectCompose(
      ref,
      cluster,
      cluster.hosts.filter((h) => wanted.some((w) => w.host === h.name)),
      { media: false },
    );
    const files = await Promise.all(
      wanted.map(async (w) => {
        const f = await longActs.collectServiceLogs({
          cluster: ref,
          host: w.host,
          version: cluster.version,
          variant: variants.get(w.host) ?? 'v1',
          service: w.service,
          since: input.since,
          maxBytes: input.maxBytesPerService,
          runDir,
        });
        run.progress.host(w.host, `${w.service}: ${f.bytes} bytes, ${f.errorLines} error lines`);
        return { host: f.host, service: f.service, path: f.path, bytes: f.bytes, errorLines: f.errorLines };
      }),
    );

    // Step 3: the totals by service.
    const summary: CollectLogsResult['summary'] = {};
    for (const f of files) {
      const s = summary[f.service] ?? { bytes: 0, errorLines: 0 };
      summary[f.service] = { bytes: s.bytes + f.bytes, errorLines: s.errorLines + f.errorLines };
    }
    run.progress.stage('done');
    const errorLines = files.reduce((n, f) => n + f.errorLines, 0);
    return await run.succeeded(
      { cluster: cluster.name, inventory: inventoryOf(resolved.resolution), files, summary },
      `${files.length} log files under ${runDir} on the worker, ${errorLines} error lines`,
    );
  },
);
