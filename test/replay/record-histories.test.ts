// Records the histories the replay test guards. Runs only with RECORD_HISTORIES=1:
//   RECORD_HISTORIES=1 npx vitest run test/replay/record-histories.test.ts
// Re-record only on purpose (a workflow change that is meant to break old histories needs patched()).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { resolveTemporalCli } from '../../src/devserver';
import seed from '../fixtures/seed-health.json';
import { withWorker } from '../support/temporal';

const recording = process.env.RECORD_HISTORIES === '1';
const input = (baseUrl: string) => ({
  cluster: {
    name: 'prod',
    hosts: [{ name: 'web1', address: '10.0.0.11', roles: ['webapp'] }],
    api: { baseUrl, passwordRef: 'env:WABA_ADMIN_PASSWORD', tls: { pinnedSha256: 'AB'.repeat(32) } },
  },
});

describe.runIf(recording)('record histories', () => {
  it('healthCheck: success and invalid input', async () => {
    const activities = { wabaHealth: async () => ({ health: seed['A9-ha-registered'].health }) };
    await withWorker(activities, async ({ client, taskQueue }) => {
      const ok = await client.workflow.start('healthCheck', {
        taskQueue,
        workflowId: 'prod/healthCheck/recorded',
        args: [input('https://10.0.0.11:9090')],
      });
      await ok.result();
      const bad = await client.workflow.start('healthCheck', {
        taskQueue,
        workflowId: 'prod/healthCheck/recorded-invalid',
        args: [input('http://10.0.0.11:9090')],
      });
      await expect(bad.result()).rejects.toThrow();
      for (const [handle, file] of [
        [ok, 'health-check-ha-connected.json'],
        [bad, 'health-check-invalid-input.json'],
      ] as const) {
        // The CLI writes the standard JSON history format that historyFromJSON reads.
        const cli = resolveTemporalCli()?.path ?? 'temporal';
        const args = ['workflow', 'show', '--address', inject('temporalAddress'), '-w', handle.workflowId];
        const json = execFileSync(cli, [...args, '--output', 'json'], { encoding: 'utf8' });
        writeFileSync(path.join(__dirname, '../histories', file), json);
      }
    });
  });
});
