// Simulator images: one root filesystem (node, busybox, the bundled simulator, the upstream command
// paths), imported with `docker import` and tagged exactly like the real images for every version.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../src/config';
import { selfSignedCertArgs } from '../test/support/certs';
import { CACHE_DIR, SUBNET_PREFIX, VERSIONS } from './paths';
import { run } from './run';

const IMAGE_DIR = path.join(CACHE_DIR, 'image');
const TLS_DIR = path.join(CACHE_DIR, 'tls');
const ROOTFS_TAR = path.join(IMAGE_DIR, 'rootfs.tar');
const IMAGE_STAMP = path.join(IMAGE_DIR, 'stamp');
/**
 * The Webapp's self-signed certificate, as the product makes one. The worker trusts exactly this
 * certificate (the inventory's api.tls.caFile), with host name checking on: its SANs name every
 * address and host name a lab Webapp can have.
 */
export const WEBAPP_CERT_FILE = path.join(TLS_DIR, 'webapp-self-signed.pem');
const WEBAPP_KEY_FILE = path.join(TLS_DIR, 'webapp-self-signed.key');

async function ensureCertificate(): Promise<void> {
  // Before the self-signed certificate the lab had its own CA; those files are no longer used.
  for (const old of ['ca', 'tls/cert.pem', 'tls/key.pem', 'tls/req.csr', 'tls/ext.cnf'])
    rmSync(path.join(CACHE_DIR, old), { recursive: true, force: true });
  if (existsSync(WEBAPP_CERT_FILE) && existsSync(WEBAPP_KEY_FILE)) return;
  mkdirSync(TLS_DIR, { recursive: true });
  const ips = Array.from({ length: 40 }, (_, i) => `IP:${SUBNET_PREFIX}.${i + 10}`);
  const names = [
    'localhost',
    ...['web', 'master', 'core'].flatMap((p) => Array.from({ length: 9 }, (_, i) => `${p}${i + 1}`)),
  ];
  await run(
    'openssl',
    selfSignedCertArgs({
      keyFile: WEBAPP_KEY_FILE,
      certFile: WEBAPP_CERT_FILE,
      days: 3650,
      commonName: 'waba-lab-webapp',
      altNames: [...names.map((n) => `DNS:${n}`), ...ips],
    }),
  );
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await run('ldd', [binary]);
  return [...out.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1] as string);
}

const LAUNCH = `#!/bin/sh
# Simulator: the real script starts the WhatsApp Business API node; this one starts the simulator.
exec /usr/bin/node /opt/whatsapp/sim.js "$@"
`;
const WAIT = `#!/bin/sh
# Simulator: the real script waits for the database, then runs its argument. The simulator waits
# for the database itself, so this only runs the argument.
exec "$@"
`;

/** Build the root filesystem tarball (cached by content). Returns its stamp. */
export async function buildRootfs(): Promise<string> {
  await ensureCertificate();
  const rootfs = path.join(IMAGE_DIR, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  const at = (p: string) => path.join(rootfs, p);
  for (const d of [
    'bin',
    'usr/bin',
    'etc',
    'tmp',
    'opt/whatsapp/bin',
    'opt/whatsapp/lab-tls',
    'usr/local/wamedia',
    'root',
  ]) {
    mkdirSync(at(d), { recursive: true });
  }
  chmodSync(at('tmp'), 0o1777);
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'lab/sim/main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: at('opt/whatsapp/sim.js'),
    external: ['pg-native'],
    logLevel: 'warning',
  });
  const node = process.execPath;
  copyFileSync(node, at('usr/bin/node'));
  chmodSync(at('usr/bin/node'), 0o755);
  for (const lib of await sharedLibraries(node)) {
    mkdirSync(path.dirname(at(lib)), { recursive: true });
    copyFileSync(lib, at(lib));
  }
  copyFileSync('/bin/busybox', at('bin/busybox'));
  chmodSync(at('bin/busybox'), 0o755);
  for (const applet of (await run('/bin/busybox', ['--list'])).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') symlinkSync('busybox', at(`bin/${applet}`));
  }
  writeFileSync(
    at('etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nwauser:x:1000:1000:media writer:/tmp:/bin/sh\n',
  );
  writeFileSync(at('etc/group'), 'root:x:0:\nwauser:x:1000:\n');
  writeFileSync(at('opt/whatsapp/bin/launch_within_docker.sh'), LAUNCH, { mode: 0o755 });
  writeFileSync(at('opt/whatsapp/bin/wait_on_mysql.sh'), WAIT, { mode: 0o755 });
  writeFileSync(at('opt/whatsapp/bin/wait_on_postgres.sh'), WAIT, { mode: 0o755 });
  copyFileSync(WEBAPP_CERT_FILE, at('opt/whatsapp/lab-tls/cert.pem'));
  copyFileSync(WEBAPP_KEY_FILE, at('opt/whatsapp/lab-tls/key.pem'));

  const stamp = createHash('sha256')
    .update(readFileSync(at('opt/whatsapp/sim.js')))
    .update(readFileSync(WEBAPP_CERT_FILE))
    .update(LAUNCH + WAIT)
    .digest('hex')
    .slice(0, 16);
  if (!existsSync(ROOTFS_TAR) || !existsSync(IMAGE_STAMP) || readFileSync(IMAGE_STAMP, 'utf8') !== stamp) {
    await run('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', ROOTFS_TAR, '.']);
    writeFileSync(IMAGE_STAMP, stamp);
  }
  rmSync(rootfs, { recursive: true, force: true });
  return stamp;
}

const imageTags = () =>
  VERSIONS.flatMap((v) => [
    { tag: `docker.whatsapp.biz/web:v${v}`, kind: 'web', version: v },
    { tag: `docker.whatsapp.biz/coreapp:v${v}`, kind: 'coreapp', version: v },
  ]);

/** Load the images into one host's Docker daemon (skipped when that daemon already has this stamp). */
export async function loadImages(
  docker: (args: string[], input?: string) => Promise<string>,
  stamp: string,
): Promise<void> {
  const base = `waba-lab/sim-base:${stamp}`;
  const have = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  const missing = imageTags().filter((t) => !have.includes(t.tag));
  if (have.includes(base) && missing.length === 0) {
    const label = await docker([
      'image',
      'inspect',
      '--format',
      '{{index .Config.Labels "waba-lab.stamp"}}',
      imageTags()[0]?.tag ?? '',
    ]);
    if (label.trim() === stamp) return;
  }
  if (!have.includes(base)) {
    await docker([
      'import',
      '--change',
      'CMD ["/opt/whatsapp/bin/launch_within_docker.sh"]',
      '--change',
      'ENV PATH=/bin:/usr/bin',
      ROOTFS_TAR,
      base,
    ]);
  }
  const holder = (await docker(['create', base])).trim();
  try {
    for (const t of imageTags()) {
      await docker([
        'commit',
        '--change',
        `ENV WA_SIM_IMAGE=${t.kind}`,
        '--change',
        `ENV WA_SIM_VERSION=${t.version}`,
        '--change',
        `LABEL waba-lab.stamp=${stamp}`,
        '--change',
        'CMD ["/opt/whatsapp/bin/launch_within_docker.sh"]',
        holder,
        t.tag,
      ]);
    }
  } finally {
    await docker(['rm', holder]);
  }
}
