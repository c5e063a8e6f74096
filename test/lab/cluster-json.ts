// What `lab up` hands to the runbooks: a ClusterSpec for the HA hosts and the spare hosts.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterSpecInput, HostSpec } from '../../src/spec/cluster';
import { ClusterSpec } from '../../src/spec/cluster';
import { check } from '../../src/spec/validate';
import { DB_PASSWORD_FILE, DB_USER, type Engine, PORTS } from './database';
import { hostPublicKey, SSH_DIR } from './hosts';
import { WEBAPP_CERT_FILE } from './image';
import { DB_HOST, LAB_DIR, type LabHost, UPSTREAM_DIR } from './paths';

export const ADMIN_PASSWORD_FILE = path.join(LAB_DIR, 'secrets', 'admin-password');
/** A stand-in for the verified-name certificate from WhatsApp Manager (base64). */
export const VNAME_CERT_FILE = path.join(LAB_DIR, 'secrets', 'vname-cert');
export const CLUSTER_JSON = path.join(LAB_DIR, 'cluster.json');
export const SPARE_HOSTS_JSON = path.join(LAB_DIR, 'spare-hosts.json');

function hostSpec(h: LabHost): HostInput {
  return {
    name: h.name,
    address: h.address,
    port: 22,
    user: 'root',
    roles: [h.role],
    externalHostname: h.address,
  };
}
type HostInput = Omit<HostSpec, 'sudo'> & { sudo?: boolean };

export function labCluster(hosts: LabHost[], engine: Engine, version = '2.23.4'): ClusterSpecInput {
  const composeFile = path.join(UPSTREAM_DIR, 'prod-multiconnect-compose.yml');
  const ha = hosts.filter((h) => !h.spare);
  const cluster: ClusterSpecInput = {
    name: engine === 'MYSQL' ? 'lab' : 'lab-pg',
    version,
    hosts: ha.map(hostSpec),
    workDir: '/root/biz',
    api: {
      baseUrl: `https://${ha.find((h) => h.role === 'webapp')?.address}:9090`,
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
      sha256: createHash('sha256').update(readFileSync(composeFile)).digest('hex'),
    },
    ssh: {
      privateKeyRef: `file:${path.join(SSH_DIR, 'id_ed25519')}`,
      knownHosts: Object.fromEntries(hosts.map((h) => [h.name, hostPublicKey(h.name)])),
    },
  };
  const checked = check(ClusterSpec, cluster);
  if (!checked.ok) throw new Error(`the lab made an invalid ClusterSpec: ${checked.problems.join('; ')}`);
  return cluster;
}

/** cluster.json (HA hosts), spare-hosts.json, and an OpenSSH known_hosts for by-hand use. */
export function writeClusterFiles(hosts: LabHost[], engine: Engine): void {
  writeFileSync(CLUSTER_JSON, `${JSON.stringify(labCluster(hosts, engine), null, 2)}\n`);
  writeFileSync(SPARE_HOSTS_JSON, `${JSON.stringify(hosts.filter((h) => h.spare).map(hostSpec), null, 2)}\n`);
  writeFileSync(
    path.join(SSH_DIR, 'known_hosts'),
    hosts.map((h) => `${h.address} ${hostPublicKey(h.name)}\n`).join(''),
  );
}
