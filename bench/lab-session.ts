// The lab for the bench: 1 Webapp, 3 Masters, 3 Coreapps on MySQL, no spares (the scaling section
// also 6 Coreapps); a clean slate before every repetition; down at the end. The caller holds /tmp/waba-lab.lock (the lab is shared).
import path from 'node:path';
import { DB_PASSWORD_FILE, DB_USER, PORTS } from '../lab/database';
import { SSH_DIR } from '../lab/hosts';
import { WEBAPP_CERT_FILE } from '../lab/image';
import {
  ADMIN_PASSWORD_FILE,
  BACKUP_PASSWORD_FILE,
  LAB_NUMBER,
  readLabInventory,
  VNAME_CERT_FILE,
  writeInventory,
} from '../lab/inventory';
import { down, labState, up } from '../lab/lab';
import { cleanSlate } from '../lab/operator';
import { DB_HOST, type LabHost, TEST_TIMING, topology, UPSTREAM_DIR } from '../lab/paths';
import { PROJECT_ROOT } from '../src/config';
import { onCleanup } from './cleanup';

export interface BenchTopology {
  webs: number;
  masters: number;
  cores: number;
  spares: number;
}

export const TOPOLOGY: BenchTopology = { webs: 1, masters: 3, cores: 3, spares: 0 };

/** "1/3/3": Webapps/Masters/Coreapps, as the issues and the README write a cluster's size. */
export const topologyName = (t: BenchTopology) => `${t.webs}/${t.masters}/${t.cores}`;

const sameHosts = (a: LabHost[], b: LabHost[]) => JSON.stringify(a) === JSON.stringify(b);

let downRegistered = false;

export async function bringUpLab(
  log: (m: string) => void,
  size: BenchTopology = TOPOLOGY,
): Promise<LabHost[]> {
  const wanted = topology(size.webs, size.masters, size.cores, size.spares);
  let existing: LabHost[] | undefined;
  try {
    existing = labState().hosts;
  } catch {
    existing = undefined; // no lab up
  }
  if (existing && !sameHosts(existing, wanted)) {
    log('a lab with another topology is up: taking it down first');
    await down(log);
  }
  if (!downRegistered) onCleanup('the lab', () => down(log));
  downRegistered = true;
  // Takeovers in seconds, as in the tests (the product's 30 s unhealthy_interval is lab up's default).
  const state = await up({ engine: 'MYSQL', ...size, ...TEST_TIMING, log: () => {} });
  return state.hosts;
}

/** Every repetition starts here: no container, volume or setup file on any host, a fresh database. */
export const cleanLab = () => cleanSlate('MYSQL');

/** The bench worker's inventory: the lab's, its `lab` cluster at the version a section starts from. */
export const BENCH_INVENTORY = path.join(PROJECT_ROOT, '.data', 'bench', 'inventory.yaml');

/** Write the bench inventory with cluster `lab` at `version` (each runbooks worker reads it afresh). */
export function benchInventory(version: string): string {
  const doc = readLabInventory();
  const lab = doc.clusters.lab;
  if (!lab) throw new Error('the lab inventory has no lab cluster');
  lab.version = version;
  writeInventory(BENCH_INVENTORY, doc);
  return BENCH_INVENTORY;
}

export const registration = LAB_NUMBER;

/** Read the verification code "sent by SMS" straight from the lab database (a few ms). */
function smsCodeCommand(): string {
  return `MYSQL_PWD="$(cat ${DB_PASSWORD_FILE})" mariadb --no-defaults -h ${DB_HOST.address} -P ${PORTS.MYSQL} -u ${DB_USER} -N -B -e "SELECT v FROM waent_sim.kv WHERE k = 'sms_code'"`;
}

/** The environment the seed-*.sh scripts read: addresses per role and the lab's files. */
export function seedScriptEnv(hosts: LabHost[], version: string): Record<string, string> {
  const of = (role: LabHost['role']) =>
    hosts
      .filter((h) => h.role === role && !h.spare)
      .map((h) => h.address)
      .join(' ');
  const web = hosts.find((h) => h.role === 'webapp') as LabHost;
  return {
    WEB_HOSTS: of('webapp'),
    MASTER_HOSTS: of('master'),
    CORE_HOSTS: of('coreapp'),
    WA_API_VERSION: version,
    UPSTREAM_DIR,
    DB_HOSTNAME: DB_HOST.address,
    DB_PORT: String(PORTS.MYSQL),
    DB_USERNAME: DB_USER,
    DB_PASSWORD_FILE,
    SSH_KEY: path.join(SSH_DIR, 'id_ed25519'),
    KNOWN_HOSTS: path.join(SSH_DIR, 'known_hosts'),
    API_URL: `https://${web.address}:9090`,
    API_CACERT: WEBAPP_CERT_FILE,
    ADMIN_PASSWORD_FILE,
    BACKUP_PASSWORD_FILE,
    REG_CC: registration.cc,
    REG_PHONE: registration.phoneNumber,
    REG_CERT_FILE: VNAME_CERT_FILE,
    SMS_CODE_COMMAND: smsCodeCommand(),
  };
}
