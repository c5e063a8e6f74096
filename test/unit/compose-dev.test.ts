// docker-compose.dev.yml: no obsolete `version:` key, the worker's metrics published (on the host's
// loopback), its data directory on a volume, inventory and secrets mounted read-only. CI also runs
// `docker-compose -f docker-compose.dev.yml config -q` (.ci/run).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/config';

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}
const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.dev.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const worker = compose.services.worker as Service;
const env = worker.environment ?? {};

/** The worker's mounts as {source, target, readOnly}. */
const mounts = (worker.volumes ?? []).map((v) => {
  const [source, target, mode] = v.split(':');
  return { source: source as string, target: target as string, readOnly: mode === 'ro' };
});
const mountAt = (dir: string | undefined) => mounts.find((m) => m.target === dir);

describe('docker-compose.dev.yml', () => {
  it('has no obsolete version key', () => {
    expect(Object.keys(compose)).not.toContain('version');
  });

  it('lets the worker serve metrics on every interface in the container, published on loopback', () => {
    expect(env.WABA_METRICS_ADDRESS).toBe('0.0.0.0:9464');
    expect(worker.ports).toContain('127.0.0.1:9464:9464');
  });

  it('keeps the data directory and the artifacts on a named volume', () => {
    const data = mountAt(env.WABA_DATA_DIR);
    expect(data?.readOnly).toBe(false);
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
    // The artifacts (settings backups, collected logs) are inside it.
    expect(env.WABA_ARTIFACTS_DIR?.startsWith(`${env.WABA_DATA_DIR}/`)).toBe(true);
  });

  it('mounts the inventory and the secrets read-only', () => {
    expect(mountAt(env.WABA_INVENTORY)).toMatchObject({ source: './inventory', readOnly: true });
    expect(mountAt('/run/waba-secrets')).toMatchObject({ source: './secrets', readOnly: true });
  });
});
