// The lab's operations, shared by the CLI (scripts/lab) and the tests.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_PASSWORD_FILE, VNAME_CERT_FILE, writeClusterFiles } from './cluster-json';
import { applyLabSettings, DB_PASSWORD_FILE, type Engine, startDatabases, stopDatabases } from './database';
import {
  dockerdPid,
  ensureBridge,
  ensureNetns,
  ensureSshKeys,
  inHost,
  prepareHost,
  removeNetns,
  sshdPid,
  startHost,
  stopHost,
} from './hosts';
import { buildRootfs, loadImages } from './image';
import { BRIDGE, DB_HOST, LAB_DIR, type LabHost, MEDIA_MOUNT, topology, UPSTREAM_DIR } from './paths';
import { run, tryRun } from './run';

export interface LabState {
  engine: Engine;
  unhealthyInterval: number;
  hosts: LabHost[];
}

const STATE_FILE = path.join(LAB_DIR, 'lab.json');

export function labState(): LabState {
  if (!existsSync(STATE_FILE)) throw new Error('the lab is not up: run scripts/lab up');
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
}

export function findHost(name: string): LabHost {
  const host = labState().hosts.find((h) => h.name === name);
  if (!host)
    throw new Error(
      `no lab host named "${name}" (hosts: ${labState()
        .hosts.map((h) => h.name)
        .join(', ')})`,
    );
  return host;
}

const REQUIRED: [string, string][] = [
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['dockerd', 'docker.io'],
  ['docker-compose', 'docker-compose'],
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['mariadbd', 'mariadb-server'],
  ['psql', 'postgresql'],
  ['openssl', 'openssl'],
  ['busybox', 'busybox-static'],
  ['iptables', 'iptables'],
];

/** Say clearly what is missing before touching anything. */
export async function preflight(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('the lab needs Linux (network and mount namespaces)');
  if (process.getuid?.() !== 0)
    throw new Error('the lab needs root (it creates namespaces, bridges and daemons)');
  const missing: string[] = [];
  for (const [cmd, pkg] of REQUIRED) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin'].some((d) =>
      existsSync(path.join(d, cmd)),
    );
    if (!found) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
  if (missing.length) throw new Error(`the lab needs: ${missing.join(', ')}`);
  if (!existsSync(UPSTREAM_DIR))
    throw new Error(`the upstream files are missing: ${UPSTREAM_DIR} (../shared beside the project)`);
  if (!(await tryRun('ip', ['netns', 'list'])))
    throw new Error('`ip netns` does not work here (network namespaces unavailable)');
}

function secret(file: string, make: () => string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, `${make()}\n`, { mode: 0o600 });
}

export interface UpOptions {
  engine?: Engine;
  webs?: number;
  masters?: number;
  cores?: number;
  spares?: number;
  unhealthyInterval?: number;
  log?: (m: string) => void;
}

/** Bring the lab up (idempotent: a running lab is checked and completed, not rebuilt). */
export async function up(opts: UpOptions = {}): Promise<LabState> {
  const log = opts.log ?? console.log;
  await preflight();
  const previous = existsSync(STATE_FILE) ? labState() : undefined;
  const state: LabState = {
    engine: opts.engine ?? previous?.engine ?? 'MYSQL',
    unhealthyInterval: opts.unhealthyInterval ?? previous?.unhealthyInterval ?? 5,
    hosts: previous?.hosts ?? topology(opts.webs, opts.masters, opts.cores, opts.spares),
  };
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  // Secrets are generated here and only referenced by path; the DB password avoids ? { } & ~ ! ( ) ^ =.
  secret(DB_PASSWORD_FILE, () => `lab${randomBytes(12).toString('hex')}`);
  secret(ADMIN_PASSWORD_FILE, () => `Lab.${randomBytes(8).toString('hex')}-Aa1`);
  secret(VNAME_CERT_FILE, () =>
    Buffer.from(`lab verified name ${randomBytes(8).toString('hex')}`).toString('base64'),
  );

  log('building the simulator image (cached)...');
  const [stamp] = await Promise.all([buildRootfs(), ensureSshKeys(), ensureBridge()]);
  log(`network: bridge ${BRIDGE}, database host ${DB_HOST.address}`);
  await ensureNetns(DB_HOST.name, DB_HOST.address);
  await startDatabases();
  await Promise.all((['MYSQL', 'PGSQL'] as const).map((e) => applyLabSettings(e, state.unhealthyInterval)));
  log('databases: MariaDB :3306 and PostgreSQL :5432 up');
  await Promise.all(
    state.hosts.map(async (h) => {
      await ensureNetns(h.name, h.address);
      await prepareHost(h.name, h.address);
      await startHost(h.name);
      await loadImages((args) => inHost(h.name, ['docker', ...args]), stamp);
      log(
        `host ${h.name} ${h.address} (${h.role}${h.spare ? ', spare' : ''}): sshd and dockerd up, images loaded`,
      );
    }),
  );
  writeClusterFiles(state.hosts, state.engine);
  return state;
}

/** Remove everything `up` made (keeps .lab/cache with the image and the CA for a faster next up). */
export async function down(log: (m: string) => void = console.log): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root');
  const hosts = existsSync(STATE_FILE) ? labState().hosts : [];
  await Promise.all(
    hosts.map(async (h) => {
      await stopHost(h.name);
      await removeNetns(h.name);
    }),
  );
  await stopDatabases();
  await removeNetns(DB_HOST.name);
  await tryRun('ip', ['link', 'del', BRIDGE]);
  for (const entry of [
    'hosts',
    'db',
    'nfs',
    'ssh',
    'secrets',
    'cluster.json',
    'spare-hosts.json',
    'lab.json',
  ]) {
    rmSync(path.join(LAB_DIR, entry), { recursive: true, force: true });
  }
  await tryRun('rmdir', [MEDIA_MOUNT]);
  log('lab down: namespaces, bridge, daemons and files removed');
}

/** What `down` must not leave: lab namespaces, the bridge, lab daemons. */
export async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const netns = await run('ip', ['netns', 'list']).catch(() => '');
  for (const line of netns.split('\n'))
    if (line.startsWith('wlab-')) found.push(`netns ${line.split(' ')[0]}`);
  if (await tryRun('ip', ['link', 'show', BRIDGE])) found.push(`bridge ${BRIDGE}`);
  const ps = await run('ps', ['-eo', 'pid=,args=']);
  for (const line of ps.split('\n')) {
    if (line.includes(LAB_DIR) && /dockerd|sshd|mariadbd|postgres|containerd/.test(line))
      found.push(`process ${line.trim().slice(0, 120)}`);
  }
  return found;
}

export function hostStatus(): {
  name: string;
  address: string;
  role: string;
  sshd: boolean;
  dockerd: boolean;
}[] {
  return labState().hosts.map((h) => ({
    name: h.name,
    address: h.address,
    role: h.role,
    sshd: Boolean(sshdPid(h.name)),
    dockerd: Boolean(dockerdPid(h.name)),
  }));
}

/** `docker` on a lab host, as root on that machine would run it. */
export const docker = (host: string, args: string[]) => inHost(host, ['docker', ...args]);

export async function webContainer(host: string): Promise<string> {
  const id = (await docker(host, ['ps', '-q', '--filter', 'label=com.docker.compose.service=waweb']))
    .trim()
    .split('\n')[0];
  if (!id) throw new Error(`no running waweb container on ${host}`);
  return id;
}

export async function seedMedia(host: string, count: number): Promise<void> {
  await docker(host, [
    'exec',
    await webContainer(host),
    '/usr/bin/node',
    '/opt/whatsapp/sim.js',
    'seed-media',
    String(count),
  ]);
}

export { run };
