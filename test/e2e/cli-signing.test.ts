// The CLI's offline signing commands as an approver runs them, with no Temporal server: `sign
// preapprove` prints an approval given in advance that the run's own check accepts, and `audit
// --history` verifies a recorded run's decisions against an inventory file, and fails on a tampered
// copy. Keys are made by the real ssh-keygen.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PROJECT_ROOT } from '../../src/config';
import { freePort } from '../../src/free-port';
import { checkPreApproval, policyKeys } from '../../src/model/decision-check';
import { testClusterEntry, testInventoryDoc } from '../support/inventory';

const execFileAsync = promisify(execFile);
const HISTORY = path.join(__dirname, '../histories/upgrade-with-children.json');
const RECORDED_ID = 'lab/upgrade/recorded';

describe('waba-runbooks sign and audit, offline', () => {
  let dir: string;
  let down: string;
  const cli = async (...args: string[]) => {
    const env = { ...process.env, TEMPORAL_ADDRESS: down, SSH_AUTH_SOCK: '', WABA_INVENTORY: '' };
    try {
      const { stdout, stderr } = await execFileAsync(path.join(PROJECT_ROOT, 'bin/waba-runbooks'), args, {
        env,
        timeout: 45_000,
      });
      return { code: 0, out: stdout, err: stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, out: err.stdout, err: err.stderr };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'waba-cli-signing-'));
    down = `127.0.0.1:${await freePort()}`;
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'alice',
      '-f',
      path.join(dir, 'alice'),
    ]);
    // The recorded run's cluster, with the test keys it was signed with.
    writeFileSync(path.join(dir, 'inventory.yaml'), stringify(testInventoryDoc({ lab: testClusterEntry() })));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sign preapprove prints an entry the run accepts for that plan only, signed by the key file', async () => {
    const plan = 'ab'.repeat(32);
    const r = await cli(
      'sign',
      'preapprove',
      '--cluster',
      'prod',
      '--runbook',
      'upgrade',
      '--gate',
      'upgrade',
      '--plan',
      plan,
      '--reason',
      'CHG-1234 approved by the CAB',
      '--as',
      'alice',
      '--valid',
      '7d',
      '--key',
      path.join(dir, 'alice'),
    );
    expect(r.code, r.err).toBe(0);
    const entry = JSON.parse(r.out);
    expect(entry).toMatchObject({
      gate: 'upgrade',
      by: 'alice',
      plan,
      reason: 'CHG-1234 approved by the CAB',
    });
    expect(Date.parse(entry.validUntil) - Date.parse(entry.at)).toBe(7 * 86_400_000);
    const alice = readFileSync(path.join(dir, 'alice.pub'), 'utf8').trim();
    const keys = policyKeys({ keys: { alice: [alice] }, requesters: {}, relays: [] });
    const now = Date.now();
    expect(checkPreApproval(entry, { cluster: 'prod', runbook: 'upgrade', plan, now, keys }).ok).toBe(true);
    // The same entry for another plan, another cluster, or once expired, does not count.
    expect(
      checkPreApproval(entry, { cluster: 'prod', runbook: 'upgrade', plan: 'cd'.repeat(32), now, keys }).ok,
    ).toBe(false);
    expect(checkPreApproval(entry, { cluster: 'lab', runbook: 'upgrade', plan, now, keys }).ok).toBe(false);
    expect(
      checkPreApproval(entry, { cluster: 'prod', runbook: 'upgrade', plan, now: now + 8 * 86_400_000, keys })
        .ok,
    ).toBe(false);
  });

  it('sign preapprove refuses more than 30 days, a bad plan hash and a missing key, before signing', async () => {
    const base = ['sign', 'preapprove', '--cluster', 'prod', '--runbook', 'upgrade', '--gate', 'upgrade'];
    const common = ['--reason', 'CHG-1', '--as', 'alice', '--key', path.join(dir, 'alice')];
    const long = await cli(...base, '--plan', 'ab'.repeat(32), ...common, '--valid', '31d');
    expect(long.code).toBe(2);
    expect(long.err).toContain(`--valid must be a duration of at most 30d, got "31d"`);
    const badPlan = await cli(...base, '--plan', 'not-a-hash', ...common);
    expect(badPlan.code).toBe(2);
    expect(badPlan.err).toMatch(/plan/);
    const noKey = await cli(
      ...base,
      '--plan',
      'ab'.repeat(32),
      ...common.slice(0, 4),
      '--key',
      path.join(dir, 'nobody'),
    );
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain(path.join(dir, 'nobody'));
    for (const r of [long, badPlan, noKey]) expect(r.out).toBe('');
  });

  it('audit --history verifies a recorded run against the inventory, and fails on a tampered copy', async () => {
    const inventory = path.join(dir, 'inventory.yaml');
    const ok = await cli('-o', 'text', 'audit', RECORDED_ID, '--history', HISTORY, '--inventory', inventory);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toMatch(/ok {3}\S+ start by carol \(input\) key SHA256:/);
    expect(ok.out).toMatch(/ok {3}\S+ approve upgrade by alice \(update\) plan [0-9a-f]{12}/);
    expect(ok.out).toContain('every decision verifies');

    // alice's decision said to have been signed a second later: her signature no longer holds.
    const history = readFileSync(HISTORY, 'utf8');
    const json = JSON.parse(history) as {
      events: {
        workflowExecutionUpdateAcceptedEventAttributes?: {
          acceptedRequest: { input: { args: { payloads: { data: string }[] } } };
        };
      }[];
    };
    const payload = json.events
      .flatMap(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.args.payloads ?? [],
      )
      .find((p) => Buffer.from(p.data, 'base64').toString().includes('"by":"alice"'));
    if (!payload) throw new Error("no Update carrying alice's approval in the recorded history");
    const decision = JSON.parse(Buffer.from(payload.data, 'base64').toString()) as { at: string };
    decision.at = new Date(Date.parse(decision.at) + 1000).toISOString();
    payload.data = Buffer.from(JSON.stringify(decision)).toString('base64');
    const copy = path.join(dir, 'tampered.json');
    writeFileSync(copy, JSON.stringify(json));
    const bad = await cli('-o', 'text', 'audit', RECORDED_ID, '--history', copy, '--inventory', inventory);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/FAIL \S+ approve upgrade by alice \(update\).*does not match this decision/);
    expect(bad.out).toContain('NOT every decision verifies');

    // Against an inventory that lists other keys for the cluster, nothing verifies.
    const other = path.join(dir, 'other-keys.yaml');
    const entry = testClusterEntry();
    const alice = readFileSync(path.join(dir, 'alice.pub'), 'utf8').trim();
    for (const a of entry.approvals.approvers) a.keys = a.name === 'alice' ? [alice] : a.keys;
    writeFileSync(other, stringify(testInventoryDoc({ lab: entry })));
    const wrongKeys = await cli(
      '-o',
      'text',
      'audit',
      RECORDED_ID,
      '--history',
      HISTORY,
      '--inventory',
      other,
    );
    expect(wrongKeys.code).toBe(1);
    expect(wrongKeys.out).toMatch(/FAIL \S+ approve upgrade by alice \(update\).*not listed for that person/);
  });
});
