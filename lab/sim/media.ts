// Media volume behaviour: 2.29.1 and 2.29.2 write media owned by a non-root user (the regression
// the 2.29.3 `chown -R root` migration fixes, seed section E).
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const MEDIA_DIR = process.env.WA_SIM_MEDIA_DIR ?? '/usr/local/wamedia';
const MEDIA_SUBDIRS = ['incoming', 'outgoing', 'shared'] as const;
const REGRESSION_VERSIONS = new Set(['2.29.1', '2.29.2']);
const NON_ROOT = 1000;

export function prepareMedia(version: string, log: (m: string) => void): void {
  for (const sub of MEDIA_SUBDIRS) mkdirSync(path.join(MEDIA_DIR, sub), { recursive: true, mode: 0o755 });
  if (REGRESSION_VERSIONS.has(version)) {
    for (const sub of MEDIA_SUBDIRS) {
      const file = path.join(MEDIA_DIR, sub, `written-by-v${version}.bin`);
      writeFileSync(file, 'media');
      chownSync(file, NON_ROOT, NON_ROOT);
    }
    log(`v${version} writes media files owned by uid ${NON_ROOT}`);
  }
}

/** `sim seed-media N`: N files per media folder, owned by the non-root user, so a chown takes a while. */
export function seedMedia(count: number): void {
  for (const sub of MEDIA_SUBDIRS) {
    const dir = path.join(MEDIA_DIR, sub, 'seeded');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chownSync(dir, NON_ROOT, NON_ROOT);
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, `m${i}.bin`);
      writeFileSync(file, 'x');
      chownSync(file, NON_ROOT, NON_ROOT);
    }
  }
}
