import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNBOOKS } from '../../src/client/runbooks';
import { ClusterSpec } from '../../src/spec/cluster';
import { HealthCheckInput } from '../../src/spec/inputs';
import { check } from '../../src/spec/validate';

const example = JSON.parse(readFileSync(path.join(__dirname, '../../examples/health-check.json'), 'utf8'));
const clone = () => structuredClone(example.cluster);

function problems(cluster: unknown): string[] {
  const r = check(ClusterSpec, cluster);
  return r.ok ? [] : r.problems;
}

describe('ClusterSpec', () => {
  it('accepts every example input in examples/ (README copies them) with its runbook schema', () => {
    const dir = path.join(__dirname, '../../examples');
    const runbookOf = (file: string) =>
      file.replace(/\.json$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const spec = RUNBOOKS[runbookOf(file)];
      expect(spec, `a runbook for ${file}`).toBeDefined();
      const r = check(spec?.schema as never, JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      expect(r, file).toMatchObject({ ok: true });
    }
  });

  it('applies defaults: ssh port 22, user root, work dir ~/biz', () => {
    const r = check(ClusterSpec, clone());
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.value.hosts[0]).toMatchObject({ port: 22, user: 'root', sudo: false });
    expect(r.value.workDir).toBe('/root/biz');
  });

  it('normalises a colon-separated fingerprint', () => {
    const c = clone();
    c.api.tls = { pinnedSha256: `${'ab:'.repeat(31)}cd` };
    const r = check(ClusterSpec, c);
    expect(r.ok && r.value.api.tls.pinnedSha256).toBe(`${'AB'.repeat(31)}CD`);
  });

  it('names every bad field by its path', () => {
    const c = clone();
    c.hosts[2].roles = ['web'];
    c.hosts[3].address = 'core1; rm -rf /';
    c.api.passwordRef = 'hunter2';
    c.api.baseUrl = 'http://10.0.0.11:9090';
    const found = problems(c);
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(/^hosts\[2\]\.roles\[0\]: .*webapp.*master.*coreapp/);
    expect(found[1]).toMatch(/^hosts\[3\]\.address: expected a DNS name or IPv4 address/);
    expect(found).toContain('api.baseUrl: the Webapp serves HTTPS only: expected https://...');
    expect(found).toContain('api.passwordRef: expected a secret reference: env:NAME or file:/absolute/path');
  });

  it('never echoes a value given where a secret reference belongs', () => {
    const c = clone();
    c.api.passwordRef = 'MyS3cretPassw0rd';
    expect(problems(c).join('\n')).not.toContain('MyS3cretPassw0rd');
  });

  it('refuses duplicate host names, unknown fields and ambiguous TLS trust', () => {
    const c = clone();
    c.hosts[1].name = 'web1';
    c.api.passwordref = 'env:X';
    c.api.tls = { caFile: '/ca.pem', pinnedSha256: 'ab'.repeat(32) };
    const found = problems(c);
    expect(found).toContain('hosts[1].name: duplicate host name "web1"');
    expect(found.some((p) => p.startsWith('api: ') && p.includes('passwordref'))).toBe(true);
    expect(found).toContain('api.tls: give exactly one of caFile or pinnedSha256');
  });

  it('refuses a host without roles and a cluster without hosts', () => {
    const c = clone();
    c.hosts[0].roles = [];
    expect(problems(c)).toEqual(['hosts[0].roles: a host needs at least one role']);
    expect(problems({ ...clone(), hosts: [] })).toEqual(['hosts: a cluster needs at least one host']);
  });

  it('a missing cluster is named', () => {
    expect(check(HealthCheckInput, {})).toEqual({
      ok: false,
      problems: ['cluster: Invalid input: expected object, received undefined'],
    });
    expect(check(HealthCheckInput, null)).toMatchObject({ ok: false });
  });
});
