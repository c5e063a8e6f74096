import path from 'node:path';
import { labDir, PROJECT_ROOT } from '../src/config';

/** Everything the lab makes lives here (gitignored); `cache/` survives `lab down`. */
export const LAB_DIR = labDir();
export const CACHE_DIR = path.join(LAB_DIR, 'cache');
export const UPSTREAM_DIR = path.resolve(
  PROJECT_ROOT,
  '..',
  'shared',
  'fixtures',
  'upstream',
  'installation',
);

/**
 * The lab's private network: 198.18.0.0/15 is reserved for network benchmarking (RFC 2544), so it is
 * never a real host's address. The bridge lives in the root namespace; each host is a namespace.
 */
export const SUBNET_PREFIX = '198.18.77';
export const BRIDGE = 'wabalab0';
export const BRIDGE_ADDRESS = `${SUBNET_PREFIX}.1`;
export const DB_HOST = { name: 'db', address: `${SUBNET_PREFIX}.2` };
export const MEDIA_MOUNT = '/mnt/waba-lab-media';
export const VERSIONS = ['2.23.4', '2.29.1', '2.29.2', '2.29.3', '2.41.2'] as const;

/** The cluster's HA timing (application settings, seconds). */
export interface LabTiming {
  heartbeatInterval: number;
  unhealthyInterval: number;
}
/** The product's defaults (reference §3.9): what `lab up` sets unless asked otherwise. */
export const PRODUCT_TIMING: LabTiming = { heartbeatInterval: 5, unhealthyInterval: 30 };
/** What the lab tests, CI and the bench ask for, so a takeover takes seconds, not half a minute. */
export const TEST_TIMING: LabTiming = { heartbeatInterval: 1, unhealthyInterval: 5 };
/** `lab up` reads these when no option is given (test/support/lab-setup.ts sets them for the tests). */
export const TIMING_ENV = {
  heartbeatInterval: 'WABA_LAB_HEARTBEAT_INTERVAL',
  unhealthyInterval: 'WABA_LAB_UNHEALTHY_INTERVAL',
} as const;

export type LabRole = 'webapp' | 'master' | 'coreapp';
export interface LabHost {
  name: string;
  address: string;
  role: LabRole;
  /** Spare hosts are marked spare in the inventory: only a Multiconnect expansion starts them. */
  spare: boolean;
}

export const netnsName = (host: string) => `wlab-${host}`;
export const vethName = (host: string) => `wl-${host}`.slice(0, 15);
export const hostDir = (host: string) => path.join(LAB_DIR, 'hosts', host);

/** Default: the seed's HA example (1 web, 2 masters, 2 cores) plus a spare core for Multiconnect. */
export function topology(webs = 1, masters = 2, cores = 2, spares = 1): LabHost[] {
  const hosts: LabHost[] = [];
  let n = 11;
  const add = (prefix: string, role: LabRole, count: number, spare = false, start = 1) => {
    for (let i = start; i < start + count; i++)
      hosts.push({ name: `${prefix}${i}`, address: `${SUBNET_PREFIX}.${n++}`, role, spare });
  };
  add('web', 'webapp', webs);
  add('master', 'master', masters);
  add('core', 'coreapp', cores);
  add('core', 'coreapp', spares, true, cores + 1);
  return hosts;
}
