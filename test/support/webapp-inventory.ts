// An inventory of one cluster, `lab`, whose Webapp API is a FakeWebapp on loopback (healthCheck runs
// against it with no SSH or database): for tests that run a whole worker process or image.
import { stringify } from 'yaml';
import { testClusterEntry, testInventoryDoc } from './inventory';

/** The admin password the FakeWebapp wants; the worker reads it from WABA_ADMIN_PASSWORD. */
export const WEBAPP_PASSWORD = 'Worker-Test-Pa55word';

/** The inventory's YAML: the Webapp at `url`, trusted through the CA in `caFile` (as the worker sees it). */
export function webappInventoryYaml(url: string, caFile: string): string {
  const entry = testClusterEntry({ hosts: [{ name: 'web1', address: '127.0.0.1', roles: ['webapp'] }] });
  entry.api = { baseUrl: url, passwordRef: 'env:WABA_ADMIN_PASSWORD', tls: { caFile } };
  for (const k of ['db', 'compose', 'ssh', 'registration', 'backup', 'approvals']) delete entry[k];
  return stringify(testInventoryDoc({ lab: entry }));
}
