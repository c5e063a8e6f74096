// Finding what the lab runs, even when its pid files are gone: the processes of each lab host (by
// the host's /run bind mount, its network namespace or its containers' cgroup), the simulator, the
// database servers; and the cgroups dockerd made (--cgroup-parent /waba-lab-<host>).
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAB_DIR, netnsName } from './paths';
import { alive } from './run';

export interface LabProcess {
  pid: number;
  /** The lab host it belongs to, when known (the database host's processes have none). */
  host?: string;
  args: string;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP_PREFIX = 'waba-lab-';
/** `<lab dir name>/hosts/<host>/run`, as a mount's root appears in /proc/<pid>/mountinfo. */
const HOST_RUN = new RegExp(
  `/${path.basename(LAB_DIR).replace(/\./g, '\\.')}/hosts/([^/]+)/run(?://deleted)?$`,
);
const DAEMON = /^(\S*\/)?(dockerd|containerd\S*|sshd|mariadbd|postgres)\b|^sshd: /;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function link(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}

/** Network namespace identities of the lab's hosts (and the database host), while they exist. */
function labNetns(): Map<string, string> {
  const byInode = new Map<string, string>();
  const dir = '/var/run/netns';
  if (!existsSync(dir)) return byInode;
  for (const ns of readdirSync(dir)) {
    if (!ns.startsWith(netnsName(''))) continue;
    try {
      byInode.set(`net:[${statSync(path.join(dir, ns)).ino}]`, ns.slice(netnsName('').length));
    } catch {
      // removed meanwhile
    }
  }
  return byInode;
}

function hostOf(pid: number, netns: Map<string, string>): string | undefined {
  for (const line of read(`/proc/${pid}/mountinfo`).split('\n')) {
    const [, , , root, mountPoint] = line.split(' ');
    if (mountPoint === '/run' && root) {
      const m = HOST_RUN.exec(root);
      if (m) return m[1];
    }
  }
  const cg = /:\/waba-lab-([^/\s]+)/.exec(read(`/proc/${pid}/cgroup`));
  if (cg) return cg[1];
  return netns.get(link(`/proc/${pid}/ns/net`));
}

/** Every process the lab started, with the lab host it belongs to (`host` filters to one host). */
export function labProcesses(host?: string): LabProcess[] {
  const netns = labNetns();
  const found: LabProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const args = read(`/proc/${pid}/cmdline`).split('\0').join(' ').trim();
    if (!args) continue; // kernel thread or gone
    const owner = hostOf(pid, netns);
    const cwd = link(`/proc/${pid}/cwd`);
    const isLab =
      owner !== undefined ||
      args.includes('/opt/whatsapp/sim.js') ||
      (DAEMON.test(args) && (args.includes(LAB_DIR) || cwd.startsWith(LAB_DIR)));
    if (!isLab || (host !== undefined && owner !== host)) continue;
    found.push({ pid, host: owner === 'db' ? undefined : owner, args: args.slice(0, 160) });
  }
  return found;
}

/** SIGKILL by pid and wait (bounded) until they are gone; returns those still alive. */
export async function killAll(pids: number[]): Promise<number[]> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(250);
  return pids.filter(alive);
}

/** The cgroups dockerd made for a host's containers (every v1 controller, or v2), deepest first. */
export function labCgroups(host?: string): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  const roots = new Set<string>([CGROUP_ROOT]);
  for (const d of readdirSync(CGROUP_ROOT)) {
    try {
      const real = realpathSync(path.join(CGROUP_ROOT, d));
      if (statSync(real).isDirectory()) roots.add(real);
    } catch {
      // not a directory
    }
  }
  const dirs = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) walk(path.join(dir, e.name));
    dirs.add(dir);
  };
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (name === `${CGROUP_PREFIX}${host}` || (host === undefined && name.startsWith(CGROUP_PREFIX)))
        walk(path.join(root, name));
    }
  }
  return [...dirs];
}

/** Kill what is left in a host's cgroups (all hosts' when no host is given) and remove them. */
export async function removeCgroups(host?: string): Promise<void> {
  const dirs = labCgroups(host);
  const pids = dirs.flatMap((d) =>
    read(path.join(d, 'cgroup.procs')).split('\n').filter(Boolean).map(Number),
  );
  await killAll([...new Set(pids)]);
  for (const dir of dirs) {
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(dir); // a cgroup directory goes with rmdir once no process is in it
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        await sleep(250);
      }
    }
  }
}
