// What an operator does by hand today: plain OpenSSH `ssh`/`scp` and `docker-compose` on each host,
// and HTTPS calls to the Webapp. Used by the lab's faithfulness test, never by the runbooks.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { shellCommand } from '../src/model/shell';
import { SSH_DIR } from './hosts';
import { WEBAPP_CERT_FILE } from './image';
import { run } from './run';

const sshOptions = () => [
  '-i',
  path.join(SSH_DIR, 'id_ed25519'),
  '-o',
  `UserKnownHostsFile=${path.join(SSH_DIR, 'known_hosts')}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'ConnectTimeout=5',
];

export const ssh = (address: string, command: string) =>
  run('ssh', [...sshOptions(), `root@${address}`, command]);

export async function scp(address: string, files: string[], remoteDir: string): Promise<void> {
  await ssh(address, shellCommand(['mkdir', '-p', remoteDir]));
  await run('scp', ['-q', ...sshOptions(), ...files, `root@${address}:${remoteDir}/`]);
}

/** `EXTERNAL_HOSTNAME=<host> WA_API_VERSION=<v> docker-compose -f <file> <args>`, in the remote work dir. */
export function compose(address: string, file: string, version: string, args: string[]): Promise<string> {
  const cmd = shellCommand(['docker-compose', '-f', file, ...args], {
    EXTERNAL_HOSTNAME: address,
    WA_API_VERSION: version,
  });
  return ssh(address, `cd ~/biz && ${cmd}`);
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are read field by field in the tests.
type Json = any;

export class WebappClient {
  private readonly agent: Agent;
  private token = '';
  constructor(private readonly baseUrl: string) {
    this.agent = new Agent({ connect: { ca: readFileSync(WEBAPP_CERT_FILE) } });
  }

  async call(
    method: string,
    p: string,
    body?: unknown,
    auth?: string,
  ): Promise<{ status: number; json: Json }> {
    const res = await request(`${this.baseUrl}${p}`, {
      method: method as 'GET',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json', authorization: auth ?? `Bearer ${this.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? JSON.parse(text) : null };
  }

  /** First login with the default password sets the new one (reference §3.1). */
  async login(password: string): Promise<void> {
    const basic = (pw: string) => `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`;
    let res = await this.call('POST', '/v1/users/login', undefined, basic(password));
    if (res.status !== 200)
      res = await this.call('POST', '/v1/users/login', { new_password: password }, basic('secret'));
    if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.json)}`);
    this.token = res.json.users[0].token;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Seed step A3: a db.env pointing at the lab's database for the engine, named db.env for scp. */
function writeDbEnv(engine: 'MYSQL' | 'PGSQL', host: string, port: number, password: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `waba-lab-${engine}-`));
  const file = path.join(dir, 'db.env');
  writeFileSync(
    file,
    `WA_DB_ENGINE=${engine}\nWA_DB_HOSTNAME=${host}\nWA_DB_PORT=${port}\nWA_DB_USERNAME=waba\nWA_DB_PASSWORD=${password}\n`,
  );
  return file;
}

/** No container, volume or setup file of an earlier run on any host, a fresh simulated DB state. */
export async function cleanSlate(engine: 'MYSQL' | 'PGSQL'): Promise<void> {
  const { labState, labTiming } = await import('./lab');
  const { resetDatabase, applyLabSettings } = await import('./database');
  const state = labState();
  await Promise.all(
    state.hosts.map((h) =>
      ssh(
        h.address,
        'ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f $ids >/dev/null; docker volume prune -f >/dev/null; docker network prune -f >/dev/null; rm -rf ~/biz ~/biz-*',
      ),
    ),
  );
  await resetDatabase(engine);
  await applyLabSettings(engine, labTiming(state));
}

/**
 * Start over as an operator would on fresh machines: a clean slate, then the upstream files plus
 * db.env in ~/biz everywhere.
 */
export async function freshStart(engine: 'MYSQL' | 'PGSQL'): Promise<void> {
  const { labState } = await import('./lab');
  const { dbPassword, PORTS } = await import('./database');
  const { DB_HOST, UPSTREAM_DIR } = await import('./paths');
  await cleanSlate(engine);
  const dbEnv = writeDbEnv(engine, DB_HOST.address, PORTS[engine], dbPassword());
  const files = ['prod-multiconnect-compose.yml', 'dbupgrade-compose.yml'].map((f) =>
    path.join(UPSTREAM_DIR, f),
  );
  await Promise.all(labState().hosts.map((h) => scp(h.address, [...files, dbEnv], 'biz')));
}

/** Seed step A5 by hand: waweb on Webapp hosts, then masters, then Coreapps (spares left alone). */
export async function startClusterByHand(version: string): Promise<void> {
  const { labState } = await import('./lab');
  const hosts = labState().hosts.filter((h) => !h.spare);
  const service = { webapp: 'waweb', master: 'master', coreapp: 'wacore' } as const;
  for (const role of ['webapp', 'master', 'coreapp'] as const) {
    await Promise.all(
      hosts
        .filter((h) => h.role === role)
        .map((h) =>
          compose(h.address, 'prod-multiconnect-compose.yml', version, ['up', '-d', service[role]]),
        ),
    );
  }
}

/** Seed step A8 by hand: request the code, read it from the lab's "SMS", verify. */
export async function registerByHand(client: WebappClient, engine: 'MYSQL' | 'PGSQL'): Promise<void> {
  const { withLabDb } = await import('./database');
  const { getKv } = await import('./sim/db');
  const res = await client.call('POST', '/v1/account', {
    cc: '1',
    phone_number: '5550100',
    method: 'sms',
    cert: 'TEFCQ0VSVA==',
  });
  if (res.status === 201) return;
  if (res.status !== 202)
    throw new Error(`POST /v1/account answered ${res.status}: ${JSON.stringify(res.json)}`);
  const code = await withLabDb(engine, (db) => getKv(db, 'sms_code'));
  const verify = await client.call('POST', '/v1/account/verify', { code });
  if (verify.status !== 201)
    throw new Error(`verify answered ${verify.status}: ${JSON.stringify(verify.json)}`);
}
