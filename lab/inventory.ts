// What `lab up` hands to the worker: the lab's inventory (.lab/inventory.yaml) with two clusters on
// the same hosts, `lab` (MariaDB) and `lab-pg` (PostgreSQL), the spare Coreapps marked spare,
// approver keys for alice, bob and carol, and every secret by reference to a file under .lab/secrets.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../src/inventory/load';
import { DB_PASSWORD_FILE, DB_USER, type Engine, PORTS } from './database';
import { hostPublicKey, SSH_DIR } from './hosts';
import { WEBAPP_CERT_FILE } from './image';
import { DB_HOST, LAB_DIR, type LabHost, UPSTREAM_DIR } from './paths';
import { run } from './run';

export const ADMIN_PASSWORD_FILE = path.join(LAB_DIR, 'secrets', 'admin-password');
/** A stand-in for the verified-name certificate from WhatsApp Manager (base64). */
export const VNAME_CERT_FILE = path.join(LAB_DIR, 'secrets', 'vname-cert');
export const BACKUP_PASSWORD_FILE = path.join(LAB_DIR, 'secrets', 'backup-password');
export const INVENTORY_FILE = path.join(LAB_DIR, 'inventory.yaml');
const APPROVERS_DIR = path.join(LAB_DIR, 'approvers');
export const APPROVERS = ['alice', 'bob', 'carol'] as const;
/** The number the lab's simulated Webapp registers. */
export const LAB_NUMBER = { cc: '1', phoneNumber: '5550100' };

export const CLUSTER_OF_ENGINE: Record<Engine, string> = { MYSQL: 'lab', PGSQL: 'lab-pg' };
const DEFAULT_VERSION = '2.23.4';

/** An approver's private key (`.lab/approvers/<name>`, OpenSSH ed25519); its `.pub` is in the policy. */
export const approverKey = (name: string) => path.join(APPROVERS_DIR, name);
/** The ChatOps endpoint's own key (`WABA_CHATOPS_RELAY_KEY`): the policy's relay `chatops`. */
export const RELAY_KEY = path.join(APPROVERS_DIR, 'chatops-relay');
export const RELAY_NAME = 'chatops';

/** alice, bob and carol each get an ed25519 key pair (kept across `lab up`, like the host keys). */
export async function ensureApproverKeys(): Promise<void> {
  mkdirSync(APPROVERS_DIR, { recursive: true, mode: 0o700 });
  for (const [key, comment] of [
    ...APPROVERS.map((name) => [approverKey(name), `${name}@waba-lab`] as const),
    [RELAY_KEY, 'chatops-relay@waba-lab'] as const,
  ]) {
    if (!existsSync(key))
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
  }
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function hostEntry(h: LabHost) {
  return {
    name: h.name,
    address: h.address,
    roles: [h.role],
    externalHostname: h.address,
    ...(h.spare ? { spare: true } : {}),
  };
}

/** One lab cluster's inventory entry (YAML-ready): every host, spare ones marked. */
function labClusterEntry(hosts: LabHost[], engine: Engine, version = DEFAULT_VERSION) {
  const composeFile = path.join(UPSTREAM_DIR, 'prod-multiconnect-compose.yml');
  const dbUpgradeFile = path.join(UPSTREAM_DIR, 'dbupgrade-compose.yml');
  const web = hosts.find((h) => h.role === 'webapp' && !h.spare);
  return {
    version,
    hosts: hosts.map(hostEntry),
    workDir: '/root/biz',
    api: {
      baseUrl: `https://${web?.address}:9090`,
      adminUser: 'admin',
      passwordRef: `file:${ADMIN_PASSWORD_FILE}`,
      // The Webapp's certificate is self-signed: trusting it as the only CA pins it, names checked.
      tls: { caFile: WEBAPP_CERT_FILE },
    },
    db: {
      engine,
      host: DB_HOST.address,
      port: PORTS[engine],
      user: DB_USER,
      passwordRef: `file:${DB_PASSWORD_FILE}`,
    },
    media: { volume: 'whatsappMedia' },
    compose: {
      file: composeFile,
      sha256: sha256(composeFile),
      dbUpgradeFile,
      dbUpgradeSha256: sha256(dbUpgradeFile),
    },
    ssh: {
      privateKeyRef: `file:${path.join(SSH_DIR, 'id_ed25519')}`,
      knownHosts: Object.fromEntries(hosts.map((h) => [h.name, hostPublicKey(h.name)])),
    },
    registration: { ...LAB_NUMBER, certRef: `file:${VNAME_CERT_FILE}` },
    backup: { passwordRef: `file:${BACKUP_PASSWORD_FILE}` },
    approvals: {
      approvers: APPROVERS.map((name) => ({
        name,
        keys: [readFileSync(`${approverKey(name)}.pub`, 'utf8').trim()],
      })),
      minApprovals: 1,
      allowSelfApproval: false,
      allowPreApproval: true,
      timeout: { default: '1h', min: '1m', max: '1d' },
      // The ChatOps endpoint relays decisions signed with its own key, for these people only.
      relays: [
        { name: RELAY_NAME, key: readFileSync(`${RELAY_KEY}.pub`, 'utf8').trim(), mayActFor: [...APPROVERS] },
      ],
    },
  };
}

export type LabInventoryDoc = { clusters: Record<string, ReturnType<typeof labClusterEntry>> };

/** The lab's inventory document: `lab` (MariaDB) and `lab-pg` (PostgreSQL) on the same hosts. */
export function labInventory(hosts: LabHost[], version = DEFAULT_VERSION): LabInventoryDoc {
  return {
    clusters: {
      [CLUSTER_OF_ENGINE.MYSQL]: labClusterEntry(hosts, 'MYSQL', version),
      [CLUSTER_OF_ENGINE.PGSQL]: labClusterEntry(hosts, 'PGSQL', version),
    },
  };
}

const HEADER = `# The lab's inventory, written by scripts/lab up (lab/README.md). The worker reads it while the
# lab is up (npm start), or with WABA_INVENTORY=${INVENTORY_FILE}. Secrets are files under
# ${path.join(LAB_DIR, 'secrets')}; approver keys under ${APPROVERS_DIR}.
`;

/**
 * Write an inventory document as YAML, checked by the worker's own loader first, then renamed into
 * place: a worker re-reading it never sees half a file.
 */
export function writeInventory(file: string, doc: LabInventoryDoc): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}.yaml`;
  writeFileSync(tmp, HEADER + stringify(doc, { lineWidth: 0 }));
  try {
    loadInventory(tmp); // throws, naming every problem, if the lab wrote something invalid
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The lab's inventory as `lab up` wrote it. */
export const readLabInventory = (): LabInventoryDoc =>
  parse(readFileSync(INVENTORY_FILE, 'utf8')) as LabInventoryDoc;

/** inventory.yaml and an OpenSSH known_hosts for by-hand use. */
export function writeLabFiles(hosts: LabHost[]): void {
  writeInventory(INVENTORY_FILE, labInventory(hosts));
  writeFileSync(
    path.join(SSH_DIR, 'known_hosts'),
    hosts.map((h) => `${h.address} ${hostPublicKey(h.name)}\n`).join(''),
  );
}
