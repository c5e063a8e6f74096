// The lab's operations, shared by the CLI (scripts/lab) and the tests.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
import {
  ADMIN_PASSWORD_FILE,
  BACKUP_PASSWORD_FILE,
  ensureApproverKeys,
  INVENTORY_FILE,
  VNAME_CERT_FILE,
  writeLabFiles,
} from './inventory';
import { killAll, labCgroups, labProcesses, removeCgroups } from './lab-processes';
import {
  BRIDGE,
  DB_HOST,
  LAB_DIR,
  type LabHost,
  type LabTiming,
  MEDIA_MOUNT,
  netnsName,
  PRODUCT_TIMING,
  TIMING_ENV,
  topology,
  UPSTREAM_DIR,
  vethName,
} from './paths';
import { run, tryRun } from './run';

export interface LabState extends LabTiming {
  engine: Engine;
  hosts: LabHost[];
}

const STATE_FILE = path.join(LAB_DIR, 'lab.json');

export const labIsUp = () => existsSync(STATE_FILE);

export function labState(): LabState {
  if (!labIsUp()) throw new Error('the lab is not up: run scripts/lab up first');
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as Omit<LabState, 'heartbeatInterval'> &
    Partial<LabTiming>;
  return { ...state, heartbeatInterval: state.heartbeatInterval ?? heartbeatFor(state.unhealthyInterval) };
}

export const labTiming = ({ heartbeatInterval, unhealthyInterval }: LabTiming): LabTiming => ({
  heartbeatInterval,
  unhealthyInterval,
});

const hostList = (hosts: LabHost[]) => hosts.map((h) => (h.spare ? `${h.name} (spare)` : h.name)).join(', ');

/** A lab host by name, or an error that names the lab's hosts. */
export function findHost(name: string | undefined): LabHost {
  const hosts = labState().hosts;
  const host = hosts.find((h) => h.name === name);
  if (!host)
    throw new Error(
      name
        ? `no lab host named "${name}" (hosts: ${hostList(hosts)})`
        : `name a lab host (${hostList(hosts)})`,
    );
  return host;
}

/** The lab's namespaces, daemons and secrets belong to root; say so before anything fails with EPERM. */
export function requireRoot(what: string): void {
  if (process.platform !== 'linux') throw new Error(`${what} needs Linux (network and mount namespaces)`);
  if (process.getuid?.() !== 0)
    throw new Error(`${what} needs root (the lab's namespaces, daemons and secrets are root's): use sudo`);
}

const onPath = (cmd: string) =>
  ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin'].some((d) => existsSync(path.join(d, cmd)));

export async function requireNetns(what: string): Promise<void> {
  if (!onPath('ip')) throw new Error(`${what} needs the ip command (apt-get install iproute2)`);
  if (!(await tryRun('ip', ['netns', 'list'])))
    throw new Error(`${what}: \`ip netns\` does not work here (network namespaces unavailable)`);
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
export async function preflight(what = 'the lab'): Promise<void> {
  requireRoot(what);
  const missing = REQUIRED.filter(([cmd]) => !onPath(cmd)).map(
    ([cmd, pkg]) => `${cmd} (apt-get install ${pkg})`,
  );
  if (missing.length) throw new Error(`${what} needs: ${missing.join(', ')}`);
  if (!existsSync(UPSTREAM_DIR))
    throw new Error(`the upstream files are missing: ${UPSTREAM_DIR} (../shared beside the project)`);
  await requireNetns(what);
}

function secret(file: string, make: () => string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, `${make()}\n`, { mode: 0o600 });
}

export interface UpOptions extends Partial<LabTiming> {
  engine?: Engine;
  webs?: number;
  masters?: number;
  cores?: number;
  spares?: number;
  log?: (m: string) => void;
}

function secondsFromEnv(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a whole number of seconds, not ${value}`);
  return n;
}

/** Heartbeats at a sixth of unhealthy_interval, like the product's 5 s / 30 s: 1 s to 5 s. */
const heartbeatFor = (unhealthy: number) =>
  Math.min(PRODUCT_TIMING.heartbeatInterval, Math.max(1, Math.floor(unhealthy / 6)));

/** Options, then the environment (how the tests ask), then the running lab's, then the product's. */
export function resolveTiming(opts: Partial<LabTiming>, previous?: LabTiming): LabTiming {
  const unhealthyInterval =
    opts.unhealthyInterval ??
    secondsFromEnv(TIMING_ENV.unhealthyInterval) ??
    previous?.unhealthyInterval ??
    PRODUCT_TIMING.unhealthyInterval;
  const heartbeatInterval =
    opts.heartbeatInterval ??
    secondsFromEnv(TIMING_ENV.heartbeatInterval) ??
    (previous?.unhealthyInterval === unhealthyInterval ? previous.heartbeatInterval : undefined) ??
    heartbeatFor(unhealthyInterval);
  if (unhealthyInterval < 2 || heartbeatInterval < 1 || heartbeatInterval >= unhealthyInterval)
    throw new Error(
      `the unhealthy interval (${unhealthyInterval} s) must be at least 2 s and longer than the heartbeat interval (${heartbeatInterval} s, at least 1 s)`,
    );
  return { heartbeatInterval, unhealthyInterval };
}

/** Bring the lab up (idempotent: a running lab is checked and completed, not rebuilt). */
export async function up(opts: UpOptions = {}): Promise<LabState> {
  const log = opts.log ?? console.log;
  await preflight('scripts/lab up');
  const previous = labIsUp() ? labState() : undefined;
  const hosts = topology(opts.webs, opts.masters, opts.cores, opts.spares);
  if (previous && JSON.stringify(previous.hosts) !== JSON.stringify(hosts))
    throw new Error(
      `the lab is up with another topology (${hostList(previous.hosts)}; asked for ${hostList(hosts)}): run scripts/lab down first`,
    );
  const state: LabState = {
    engine: opts.engine ?? previous?.engine ?? 'MYSQL',
    ...resolveTiming(opts, previous),
    hosts,
  };
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  // Secrets are generated here and only referenced by path; the DB password avoids ? { } & ~ ! ( ) ^ =.
  secret(DB_PASSWORD_FILE, () => `lab${randomBytes(12).toString('hex')}`);
  secret(ADMIN_PASSWORD_FILE, () => `Lab.${randomBytes(8).toString('hex')}-Aa1`);
  secret(VNAME_CERT_FILE, () =>
    Buffer.from(`lab verified name ${randomBytes(8).toString('hex')}`).toString('base64'),
  );
  secret(BACKUP_PASSWORD_FILE, () => `backup-${randomBytes(8).toString('hex')}`);

  log('building the simulator image (cached)...');
  const [stamp] = await Promise.all([buildRootfs(), ensureSshKeys(), ensureApproverKeys(), ensureBridge()]);
  log(`network: bridge ${BRIDGE}, database host ${DB_HOST.address}`);
  await ensureNetns(DB_HOST.name, DB_HOST.address);
  await startDatabases();
  await Promise.all((['MYSQL', 'PGSQL'] as const).map((e) => applyLabSettings(e, labTiming(state))));
  log(
    `databases: MariaDB :3306 and PostgreSQL :5432 up; heartbeat_interval ${state.heartbeatInterval} s, unhealthy_interval ${state.unhealthyInterval} s`,
  );
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
  writeLabFiles(state.hosts);
  log(
    `inventory: ${path.relative(process.cwd(), INVENTORY_FILE) || INVENTORY_FILE} (clusters lab and lab-pg)`,
  );
  return state;
}

async function netnsList(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']).catch(() => '');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((ns) => ns.startsWith(netnsName('')));
}

/** Every lab host anything is left of: the state's, and those with a namespace, files, processes or cgroups. */
async function hostsToStop(): Promise<string[]> {
  const names = new Set<string>();
  try {
    for (const h of labState().hosts) names.add(h.name);
  } catch {
    // no (readable) state: find the hosts from what they left
  }
  for (const ns of await netnsList()) names.add(ns.slice(netnsName('').length));
  const hostsDir = path.join(LAB_DIR, 'hosts');
  if (existsSync(hostsDir)) for (const h of readdirSync(hostsDir)) names.add(h);
  for (const p of labProcesses()) if (p.host) names.add(p.host);
  for (const d of labCgroups()) {
    const m = /\/waba-lab-([^/]+)$/.exec(d);
    if (m?.[1]) names.add(m[1]);
  }
  names.delete(DB_HOST.name);
  return [...names];
}

/**
 * Remove everything `up` made: daemons and every process they left, cgroups, namespaces, links and
 * files. `.lab/cache` (the image tarball and the Webapp certificate) stays for a faster next `up`
 * unless `purge`. Throws, naming them, if anything is left.
 */
export async function down(
  log: (m: string) => void = console.log,
  opts: { purge?: boolean } = {},
): Promise<void> {
  requireRoot('scripts/lab down');
  const hosts = await hostsToStop();
  const stopped = await Promise.allSettled(
    hosts.map(async (h) => {
      await stopHost(h);
      await removeNetns(h);
    }),
  );
  await stopDatabases();
  // Whatever is still there (a daemon whose pid file is gone, a simulator orphaned by a killed dockerd).
  await killAll(labProcesses().map((p) => p.pid));
  await removeCgroups();
  await removeNetns(DB_HOST.name);
  await tryRun('ip', ['link', 'del', BRIDGE]);
  const keep = opts.purge ? [] : ['cache'];
  if (existsSync(LAB_DIR))
    for (const entry of readdirSync(LAB_DIR))
      if (!keep.includes(entry)) rmSync(path.join(LAB_DIR, entry), { recursive: true, force: true });
  if (opts.purge) rmSync(LAB_DIR, { recursive: true, force: true });
  await tryRun('rmdir', [MEDIA_MOUNT]);
  const left = await leftovers(opts);
  const failed = stopped.flatMap((r) =>
    r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : [],
  );
  if (left.length > 0) throw new Error(`lab down left things behind: ${[...left, ...failed].join('; ')}`);
  log(
    `lab down: ${hosts.length} hosts, databases, namespaces, bridge, cgroups and files removed${opts.purge ? ' (cache too)' : '; .lab/cache kept (down --purge removes it)'}`,
  );
}

/** What `down` must not leave: lab namespaces and links, lab processes, dockerd's cgroups, files. */
async function leftovers(opts: { purge?: boolean } = {}): Promise<string[]> {
  const found = (await netnsList()).map((ns) => `netns ${ns}`);
  const links = await run('ip', ['-o', 'link', 'show']).catch(() => '');
  for (const line of links.split('\n')) {
    const name = line.split(': ')[1]?.split('@')[0];
    if (name && (name === BRIDGE || name.startsWith(vethName('')))) found.push(`link ${name}`);
  }
  for (const p of labProcesses()) found.push(`process ${p.pid} (${p.host ?? 'lab'}): ${p.args}`);
  for (const d of labCgroups()) found.push(`cgroup ${d}`);
  if (existsSync(MEDIA_MOUNT)) found.push(`directory ${MEDIA_MOUNT}`);
  if (existsSync(LAB_DIR))
    for (const e of readdirSync(LAB_DIR))
      if (opts.purge || e !== 'cache') found.push(`file ${path.join(LAB_DIR, e)}`);
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
