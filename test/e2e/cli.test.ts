// The operator CLI (bin/waba-runbooks) as a person runs it: `start` checks the input file before it
// connects (so a bad file is reported while the server is down), and `list` shows only open runbook
// runs, sorted by cluster, against the suite's dev server.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRunbook } from '../../src/client/runbooks';
import { PROJECT_ROOT } from '../../src/config';
import { freePort } from '../../src/free-port';
import { WabaCluster, WabaRunbook } from '../../workflows/api';
import { haSetupInput, multiconnectInput, until } from '../support/fake-cluster';
import { testClient } from '../support/temporal';

const execFileAsync = promisify(execFile);

async function cli(address: string, ...args: string[]): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  const env = { ...process.env, TEMPORAL_ADDRESS: address, WABA_TASK_QUEUE: `cli-test-${process.pid}` };
  try {
    const { stdout, stderr } = await execFileAsync(path.join(PROJECT_ROOT, 'bin/waba-runbooks'), args, {
      env,
      timeout: 45_000,
    });
    return { code: 0, out: stdout + stderr, ms: Date.now() - started };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr, ms: Date.now() - started };
  }
}

function inputFile(name: string, content: unknown): string {
  const file = path.join(os.tmpdir(), `waba-cli-test-${process.pid}-${name}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('waba-runbooks start: the input is checked before any connection', () => {
  let down: string;
  beforeAll(async () => {
    // A port nothing listens on: the Temporal server is "down".
    down = `127.0.0.1:${await freePort()}`;
  });

  it('an invalid input names the field (exit 2) while the server is down', async () => {
    const bad = { ...haSetupInput(), cluster: 'lab;reboot', api: { baseUrl: 'https://evil' } };
    const r = await cli(down, 'start', 'haSetup', '--input', inputFile('bad', bad));
    expect(r.out).toContain('invalid haSetup input:');
    expect(r.out).toContain('cluster: expected the name of a cluster in the worker inventory');
    expect(r.out).toContain('api: unknown field: the API URL and its TLS trust live in the inventory');
    expect(r.out).not.toMatch(/connect|ECONNREFUSED|transport/i);
    expect(r.code).toBe(2);
  });

  it('a file that is not JSON, a missing file and an unknown runbook: exit 2, no connection', async () => {
    const notJson = await cli(down, 'start', 'haSetup', '--input', inputFile('not-json', '{"cluster": '));
    expect(notJson.code).toBe(2);
    expect(notJson.out).toMatch(/cannot read .*not-json\.json as JSON/);
    const missing = await cli(down, 'start', 'haSetup', '--input', '/nonexistent/input.json');
    expect(missing.code).toBe(2);
    expect(missing.out).toContain('cannot read /nonexistent/input.json: no such file (ENOENT)');
    const unknown = await cli(down, 'start', 'haSetupp', '--input', inputFile('ok', haSetupInput()));
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('unknown runbook "haSetupp"; one of: ');
  });

  it('a valid input gets as far as the connection, which fails (exit 1): the server really is down', async () => {
    const r = await cli(down, 'start', 'haSetup', '--input', inputFile('valid', haSetupInput()));
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('invalid haSetup input');
    // The error names the address it tried and the setting it came from.
    expect(r.out).toContain(`cannot reach the Temporal server at ${down} (from TEMPORAL_ADDRESS)`);
    const flag = await cli(down, '--address', down, 'status', 'lab/haSetup');
    expect(flag.code).toBe(1);
    expect(flag.out).toContain(`cannot reach the Temporal server at ${down} (from --address)`);
  });
});

describe('waba-runbooks schema and inventory check: no server needed', () => {
  let down: string;
  beforeAll(async () => {
    down = `127.0.0.1:${await freePort()}`;
  });

  it('schema prints the JSON Schema of a runbook input or of the inventory', async () => {
    const r = await cli(down, 'schema', 'upgrade');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out);
    expect(schema.title).toBe('waba-runbooks upgrade input');
    expect(schema.required).toEqual(['cluster', 'toVersion', 'requestedBy']);
    expect(JSON.parse((await cli(down, 'schema', 'inventory')).out).title).toBe('waba-runbooks inventory');
    const unknown = await cli(down, 'schema', 'upgrad');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('schema of what? one of: healthCheck, haSetup');
  });

  it('inventory check validates a file: a valid one is described, an invalid one is refused naming every problem', async () => {
    const example = path.join(PROJECT_ROOT, 'examples/inventory.yaml');
    const ok = await cli(down, 'inventory', 'check', example, '-o', 'text');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('valid, 1 cluster(s)');
    expect(ok.out).toContain('spare: core3 (coreapp)');
    const json = JSON.parse((await cli(down, 'inventory', 'check', example, '-o', 'json')).out);
    expect(json.clusters[0].name).toBe('prod');
    const bad = inputFile(
      'bad-inventory',
      JSON.stringify({ clusters: { prod: { hosts: [], api: { baseUrl: 'https://u:p@x' } } } }),
    );
    const refused = await cli(down, 'inventory', 'check', bad);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('clusters.prod.hosts: a cluster needs at least one host');
    expect(refused.out).toContain('clusters.prod.api.baseUrl: credentials are not allowed in a URL');
    expect(refused.out).toContain('clusters.prod.api.passwordRef: Invalid input');
  });
});

describe('waba-runbooks list', () => {
  let client: Client;
  let close: () => Promise<void>;
  const handles: WorkflowHandle[] = [];
  beforeAll(async () => {
    ({ client, close } = await testClient());
  });
  afterAll(async () => {
    for (const h of handles) await h.terminate('test over').catch(() => undefined);
    await close?.();
  });

  it('shows only open runbook runs, sorted by cluster, with their runbook and id', async () => {
    const tag = randomUUID().slice(0, 8);
    const [a, b] = [`cli-a-${tag}`, `cli-b-${tag}`];
    // Nobody polls this queue: the runs stay open.
    const taskQueue = `cli-list-${tag}`;
    const track = (id: string) => handles.push(client.workflow.getHandle(id));
    // Started in an order that is not the sorted one.
    track((await startRunbook(client, taskQueue, 'haSetup', haSetupInput({}, b))).workflowId);
    track((await startRunbook(client, taskQueue, 'multiconnectExpand', multiconnectInput({}, a))).workflowId);
    track((await startRunbook(client, taskQueue, 'haSetup', haSetupInput({}, a))).workflowId);
    // Not a runbook, though it carries the cluster's search attributes: never listed.
    const other = await client.workflow.start('notARunbook', {
      taskQueue,
      workflowId: `${a}/notARunbook`,
      typedSearchAttributes: [
        { key: WabaCluster, value: a },
        { key: WabaRunbook, value: 'notARunbook' },
      ],
    });
    handles.push(other);
    // A finished runbook run is not listed either.
    const done = await startRunbook(client, taskQueue, 'collectLogs', { cluster: a });
    await client.workflow.getHandle(done.workflowId).terminate('finished');

    await until(
      'the runs in visibility',
      async () => {
        let n = 0;
        for await (const _ of client.workflow.list({ query: `WabaCluster IN ('${a}', '${b}')` })) n++;
        return n;
      },
      (n) => n >= 5,
    );
    const r = await cli(inject('temporalAddress'), 'list', '-o', 'text');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^CLUSTER +RUNBOOK +WORKFLOW ID +STEP$/);
    const rows = lines.slice(1).map((l) => l.split(/ {2,}/));
    const mine = rows.filter((row) => row[0] === a || row[0] === b).map((row) => row.slice(0, 3));
    expect(mine).toEqual([
      [a, 'haSetup', `${a}/haSetup`],
      [a, 'multiconnectExpand', `${a}/multiconnectExpand`],
      [b, 'haSetup', `${b}/haSetup`],
    ]);
    // Sorted by cluster as a whole, and nothing but runbooks.
    const clusters = rows.map((row) => row[0] as string);
    expect(clusters).toEqual([...clusters].sort());
    expect(rows.some((row) => row[1] === 'notARunbook')).toBe(false);
    // The same as JSON, for scripts: one object per run.
    const json = JSON.parse((await cli(inject('temporalAddress'), 'list', '-o', 'json')).out) as {
      cluster: string;
      runbook: string;
      workflowId: string;
    }[];
    expect(json.filter((x) => x.cluster === a || x.cluster === b).map((x) => x.workflowId)).toEqual([
      `${a}/haSetup`,
      `${a}/multiconnectExpand`,
      `${b}/haSetup`,
    ]);
  });
});
