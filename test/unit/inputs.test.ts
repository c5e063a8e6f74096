// Runbook inputs: intent only, strict, bounded, errors that name the field and never echo more than
// a clipped, cleaned value; the examples and their JSON Schemas. No server.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkInput, RUNBOOKS } from '../../src/client/runbooks';
import { RUNBOOK_INPUTS } from '../../src/model/inputs';
import { runbookPolicy } from '../../src/model/inventory';
import { SCHEMA_NAMES, schemaFileName } from '../../src/model/json-schema';
import type { RunbookName } from '../../src/model/runbooks';
import { clean, hasUnsafeCharacters, quote } from '../../src/model/validate';
import { SCHEMAS_DIR, schemaText } from '../../src/model/write-schemas';
import { testClusterEntry, testInventory, testInventoryDoc } from '../support/inventory';

const EXAMPLES = path.join(__dirname, '../../examples');
const runbookOf = (file: string) =>
  file.replace(/\.json$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as RunbookName;
const exampleFiles = () => readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
const example = (file: string) => JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8'));

/** The lab's inventory shape (cluster `lab` at 2.23.4, spare core3) as the checks see it resolved. */
function resolvedLab(runbook: RunbookName) {
  const entry = testInventory(testInventoryDoc({ lab: testClusterEntry() })).clusters.get('lab');
  if (!entry) throw new Error('no lab');
  return { cluster: entry.cluster, policy: runbookPolicy(entry.entry, runbook) };
}

const problemsOf = (runbook: string, input: unknown) => {
  const r = checkInput(runbook, input);
  return r.ok ? [] : r.problems;
};

describe('runbook inputs', () => {
  it('every example is a valid input of its runbook, about ten lines, and passes the checks against the lab', () => {
    const files = exampleFiles();
    expect(files.map(runbookOf).sort()).toEqual(Object.keys(RUNBOOKS).sort());
    for (const file of files) {
      const runbook = runbookOf(file);
      const raw = example(file);
      expect(
        readFileSync(path.join(EXAMPLES, file), 'utf8').trim().split('\n').length,
        file,
      ).toBeLessThanOrEqual(12);
      expect(raw.$schema, file).toBe(`./schemas/${schemaFileName(runbook)}`);
      const checked = RUNBOOK_INPUTS[runbook].schema.safeParse(raw);
      expect(checked.success, `${file}: ${JSON.stringify(checked.error?.issues)}`).toBe(true);
      const issues = RUNBOOK_INPUTS[runbook].issues(checked.data as never, resolvedLab(runbook));
      expect(issues, file).toEqual([]);
    }
  });

  it('an inline cluster spec, a policy, secret references, paths and URLs are refused, each named', () => {
    expect(
      problemsOf('healthCheck', { cluster: { name: 'prod', api: { baseUrl: 'https://evil' } } }),
    ).toEqual([
      'cluster: expected the name of a cluster in the worker inventory, e.g. "prod": an inline cluster spec is not accepted (hosts, keys, URLs and secrets live in the inventory)',
    ]);
    expect(
      problemsOf('upgrade', {
        cluster: 'prod',
        toVersion: '2.29.3',
        requestedBy: 'carol',
        approvals: { approvers: ['carol'] },
        backup: { passwordRef: 'env:AWS_SECRET_ACCESS_KEY' },
        mediaDir: '/root/.ssh',
        window: {
          days: ['sun'],
          start: '03:00',
          end: '05:00',
          timeZone: 'Europe/Rome',
          passwordRef: 'env:X',
        },
      }),
    ).toEqual([
      'window.passwordRef: unknown field: secret references live only in the inventory',
      'approvals: unknown field: the approval policy lives in the inventory (clusters.<name>.approvals)',
      'backup: unknown field: the backup password lives in the inventory (clusters.<name>.backup)',
      'mediaDir: unknown field: the media directory lives in the inventory (clusters.<name>.media.containerDir)',
    ]);
  });

  it('every duration and count has bounds; zero and huge values are refused naming the field', () => {
    const base = { cluster: 'prod', toVersion: '2.29.3', requestedBy: 'carol' };
    expect(problemsOf('upgrade', { ...base, timeouts: { health: '0s' } })).toEqual([
      'timeouts.health: expected a duration from 1s to 2h',
    ]);
    expect(problemsOf('upgrade', { ...base, timeouts: { dbUpgrade: '100000000000000000000d' } })).toEqual([
      'timeouts.dbUpgrade: expected a duration like 30s, 15m, 24h',
    ]);
    expect(problemsOf('upgrade', { ...base, maxUnavailable: 1e9 })).toEqual([
      'maxUnavailable: Too big: expected number to be <=16',
    ]);
    expect(problemsOf('upgrade', { ...base, approvalTimeout: '0s' })).toEqual([
      'approvalTimeout: expected a duration from 1m to 90d',
    ]);
    expect(problemsOf('mediaChown', { cluster: 'prod', notBefore: '9999-01-01T00:00:00Z' })).toEqual([
      'notBefore: must be within 90 days of now',
    ]);
    expect(problemsOf('mediaChown', { cluster: 'prod', resumeAfter: '99999d' })).toEqual([
      'resumeAfter: expected a duration from 1s to 30d',
    ]);
    expect(problemsOf('collectLogs', { cluster: 'prod', maxBytesPerService: -1 })).toEqual([
      'maxBytesPerService: Too small: expected number to be >=1024',
    ]);
  });

  it('checks against the resolved cluster: downgrades, more unavailable than hosts, unknown or member hosts', () => {
    const up = (input: object) =>
      RUNBOOK_INPUTS.upgrade.issues(RUNBOOK_INPUTS.upgrade.schema.parse(input), resolvedLab('upgrade'));
    expect(up({ cluster: 'lab', toVersion: '2.23.4', requestedBy: 'carol' })).toEqual([
      {
        path: ['toVersion'],
        message: 'must be newer than v2.23.4, the version cluster lab runs (inventory); no downgrades',
      },
    ]);
    expect(up({ cluster: 'lab', toVersion: '2.29.3', requestedBy: 'carol', maxUnavailable: 6 })).toEqual([
      { path: ['maxUnavailable'], message: '6 is more than the 5 hosts of cluster lab' },
    ]);
    const db = (input: object) =>
      RUNBOOK_INPUTS.dbUpgrade.issues(RUNBOOK_INPUTS.dbUpgrade.schema.parse(input), resolvedLab('dbUpgrade'));
    expect(db({ cluster: 'lab', toVersion: '2.23.3' })[0]?.path).toEqual(['toVersion']);
    expect(db({ cluster: 'lab', toVersion: '2.29.3', host: 'core3' })).toEqual([
      { path: ['host'], message: 'core3 is a spare host of cluster lab, not a member yet' },
    ]);
    const mc = (input: object) =>
      RUNBOOK_INPUTS.multiconnectExpand.issues(
        RUNBOOK_INPUTS.multiconnectExpand.schema.parse(input),
        resolvedLab('multiconnectExpand'),
      );
    expect(mc({ cluster: 'lab', shards: 2, addCoreapps: ['core1', 'core9'], requestedBy: 'carol' })).toEqual([
      {
        path: ['addCoreapps', 0],
        message: 'core1 is already a member of cluster lab (only spare hosts can be added)',
      },
      { path: ['addCoreapps', 1], message: 'core9 is not a spare host of cluster lab in the inventory' },
    ]);
    expect(
      problemsOf('multiconnectExpand', {
        cluster: 'lab',
        shards: 2,
        addCoreapps: ['core3', 'core3'],
        requestedBy: 'c',
      }),
    ).toEqual(['addCoreapps[1]: core3 is listed twice']);
    expect(
      RUNBOOK_INPUTS.haSetup.issues(
        RUNBOOK_INPUTS.haSetup.schema.parse({ cluster: 'lab', requestedBy: 'carol', approvalTimeout: '3d' }),
        resolvedLab('haSetup'),
      ),
    ).toEqual([
      {
        path: ['approvalTimeout'],
        message: 'must be between 1s and 1d (the approval policy of cluster lab)',
      },
    ]);
  });

  it('errors clip and clean what they quote: no control characters, no unbounded values', () => {
    const evil = `core1\u001b[31m\u202e${'x'.repeat(5000)}`;
    const found = problemsOf('haDrill', {
      cluster: 'lab',
      target: evil,
      takeoverSlo: '30s',
      requestedBy: 'carol',
      [evil]: 1,
    });
    expect(found.length).toBeGreaterThan(0);
    for (const p of found) {
      expect(p.length).toBeLessThan(420);
      expect(hasUnsafeCharacters(p)).toBe(false);
    }
    expect(found.some((p) => p.endsWith(': unknown field'))).toBe(true);
    expect(clean('a\u0007b\nc')).toBe('abc');
    expect(quote('x'.repeat(100), 5)).toBe('"xxxxx…"');
  });

  it('an unknown runbook name is quoted clean and short, and prototype keys are no runbooks', () => {
    const names = [
      'health\u001b[31mCheck',
      `upgrade${'x'.repeat(500)}`,
      '\u202eevil',
      'constructor',
      '__proto__',
      'toString',
    ];
    for (const name of names) {
      let message = '';
      try {
        checkInput(name, { cluster: 'lab' });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^unknown runbook ".*"; one of: /);
      expect(hasUnsafeCharacters(message)).toBe(false);
      expect(message.length).toBeLessThan(400);
    }
  });
});

describe('JSON Schemas', () => {
  it('examples/schemas holds every schema as `npm run schemas` writes it (run it after changing a schema)', () => {
    for (const name of SCHEMA_NAMES) {
      const file = path.join(SCHEMAS_DIR, schemaFileName(name));
      expect(readFileSync(file, 'utf8'), `${file} is out of date: npm run schemas`).toBe(schemaText(name));
    }
  });

  it('a schema refuses what zod refuses in shape: unknown keys, a cluster object, a missing field', () => {
    const schema = JSON.parse(schemaText('upgrade'));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['cluster', 'toVersion', 'requestedBy']);
    expect(schema.properties.cluster.type).toBe('string');
    const inventory = JSON.parse(schemaText('inventory'));
    expect(inventory.properties.clusters.additionalProperties.additionalProperties).toBe(false);
  });
});
