// Inventories for tests: the seed's HA cluster (web1, master1, master2, core1, core2) with spare
// Coreapps core3 and core4, an approval policy of alice and bob (carol, who requests, is none), secrets by `env:`
// reference. Built as raw documents (what a file holds) and validated by the worker's own loader.
import { type Inventory, inventoryOfDocuments } from '../../src/inventory/load';
import { InventoryStore } from '../../src/inventory/store';
import { testKey } from './keys';

/** A pinned host key line in known_hosts form: `ssh-ed25519 AAAA<base64 filler>`. */
export function knownHostKey(name: string): string {
  return `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(`fake host key of ${name}`.padEnd(32, '.')).toString('base64')}`;
}

/** The public key line of `name`'s test key pair (test/support/keys.ts): real, and it signs. */
export const approverKeyLine = (name: string): string => testKey(name).publicLine;

export interface TestHost {
  name: string;
  address: string;
  roles: ('webapp' | 'master' | 'coreapp')[];
  externalHostname?: string;
  spare?: boolean;
  port?: number;
  user?: string;
  sudo?: boolean;
}

/** The five hosts of the seed's HA cluster; EXTERNAL_HOSTNAME is what /v1/health names them by. */
export const SEED_HOSTS: TestHost[] = [
  { name: 'web1', address: '10.0.0.11', roles: ['webapp'], externalHostname: 'your-webapp1-hostname' },
  { name: 'master1', address: '10.0.0.21', roles: ['master'], externalHostname: 'your-master1-hostname' },
  { name: 'master2', address: '10.0.0.22', roles: ['master'], externalHostname: 'your-master2-hostname' },
  { name: 'core1', address: '10.0.0.31', roles: ['coreapp'], externalHostname: 'your-coreapp1-hostname' },
  { name: 'core2', address: '10.0.0.32', roles: ['coreapp'], externalHostname: 'your-coreapp2-hostname' },
];

/** A spare Coreapp host, e.g. `spareHost('core3')` (reported as your-coreapp3-hostname). */
export function spareHost(name: string): TestHost {
  const n = /\d+$/.exec(name)?.[0] ?? '9';
  return {
    name,
    address: `10.0.0.${30 + Number(n)}`,
    roles: ['coreapp'],
    externalHostname: `your-coreapp${n}-hostname`,
    spare: true,
  };
}

export interface TestClusterOptions {
  version?: string;
  engine?: 'MYSQL' | 'PGSQL';
  hosts?: TestHost[];
}

// biome-ignore lint/suspicious/noExplicitAny: a raw inventory document, validated by the loader.
export type RawEntry = Record<string, any>;

/** One cluster's inventory entry as a file would hold it. */
export function testClusterEntry(opts: TestClusterOptions = {}): RawEntry {
  const hosts = opts.hosts ?? [...SEED_HOSTS, spareHost('core3'), spareHost('core4')];
  const pg = opts.engine === 'PGSQL';
  return {
    version: opts.version ?? '2.23.4',
    hosts: hosts.map((h) => ({ ...h, roles: [...h.roles] })),
    api: {
      baseUrl: 'https://10.0.0.11:9090',
      passwordRef: 'env:WABA_ADMIN_PASSWORD',
      tls: { pinnedSha256: 'AB'.repeat(32) },
    },
    db: {
      engine: pg ? 'PGSQL' : 'MYSQL',
      host: '10.0.0.5',
      port: pg ? 5432 : 3306,
      user: 'waba',
      passwordRef: 'env:DB_PASSWORD',
    },
    compose: { file: '/tmp/x.yml' },
    ssh: {
      privateKeyRef: 'env:SSH_KEY',
      knownHosts: Object.fromEntries(hosts.map((h) => [h.name, knownHostKey(h.name)])),
    },
    registration: { cc: '39', phoneNumber: '3331234567', certRef: 'env:CERT' },
    backup: { passwordRef: 'env:BACKUP_PASSWORD' },
    approvals: {
      approvers: ['alice', 'bob'].map((name) => ({ name, keys: [approverKeyLine(name)] })),
      // carol asks for runs (her signed starts authenticate her) but does not approve.
      requesters: [{ name: 'carol', keys: [approverKeyLine('carol')] }],
      minApprovals: 1,
      allowSelfApproval: false,
      allowPreApproval: true,
      timeout: { default: '1h', min: '1s', max: '1d' },
    },
  };
}

/** A document of the given clusters: `{ clusters: { <name>: <entry> } }`. */
export const testInventoryDoc = (clusters: Record<string, RawEntry>) => ({ clusters });

/** Validated by the worker's loader; throws naming every problem. */
export const testInventory = (doc: unknown, file = 'test-inventory.yaml'): Inventory =>
  inventoryOfDocuments(file, [{ file, doc }]);

/** An in-memory store of the given clusters (default: `lab` as {@link testClusterEntry} makes it). */
export const testInventoryStore = (clusters: Record<string, RawEntry> = { lab: testClusterEntry() }) =>
  InventoryStore.of(testInventory(testInventoryDoc(clusters)));
