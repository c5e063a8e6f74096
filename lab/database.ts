// The lab's database host: real MariaDB (WA_DB_ENGINE=MYSQL) and real PostgreSQL (PGSQL) in their
// own network namespace, reachable from every lab host and its containers.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DB_HOST, LAB_DIR, type LabTiming, netnsName } from './paths';
import { alive, run } from './run';
import { type Db, type DbConfig, openDb, SIM_DATABASE, setKv } from './sim/db';

const DB_DIR = path.join(LAB_DIR, 'db');
export const DB_USER = 'waba';
export const DB_PASSWORD_FILE = path.join(LAB_DIR, 'secrets', 'db-password');
export const PORTS = { MYSQL: 3306, PGSQL: 5432 } as const;
export type Engine = keyof typeof PORTS;

const MYSQL_SOCKET = path.join(DB_DIR, 'mysqld.sock');
const MYSQL_PID = path.join(DB_DIR, 'mysqld.pid');
const PG_DATA = path.join(DB_DIR, 'pg');
const PG_SOCKET_DIR = path.join(DB_DIR, 'pgsock');

export function dbPassword(): string {
  return readFileSync(DB_PASSWORD_FILE, 'utf8').trim();
}

export function labDbConfig(engine: Engine): DbConfig {
  return { engine, host: DB_HOST.address, port: PORTS[engine], user: DB_USER, password: dbPassword() };
}

function pgBin(tool: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return `/usr/lib/postgresql/${versions[0]}/bin/${tool}`;
}

function spawnInDbHost(argv: string[], logFile: string): void {
  const log = openSync(logFile, 'a');
  const child = spawn('nsenter', [`--net=/var/run/netns/${netnsName(DB_HOST.name)}`, '--', ...argv], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
}

async function until(what: string, check: () => Promise<boolean>, tries = 120): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what} (logs in ${DB_DIR})`);
}

function pidIn(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
  return Number.isInteger(pid) && alive(pid) ? pid : undefined;
}

/** SQL as the database servers' administrators, over their local sockets. */
const mariadbAdmin = (q: string) =>
  run('mariadb', ['--no-defaults', `--socket=${MYSQL_SOCKET}`, '-u', 'root', '-e', q]);
const postgresAdmin = (q: string) =>
  run('psql', [
    '-h',
    PG_SOCKET_DIR,
    '-p',
    String(PORTS.PGSQL),
    '-U',
    'postgres',
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-qAtc',
    q,
  ]);

const mysqlPid = () => pidIn(MYSQL_PID);
const postgresPid = () => pidIn(path.join(PG_DATA, 'postmaster.pid'));

async function startMariadb(password: string): Promise<void> {
  const data = path.join(DB_DIR, 'mysql');
  if (!existsSync(path.join(data, 'mysql'))) {
    mkdirSync(data, { recursive: true });
    await run('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=root',
      '--skip-test-db',
      '--auth-root-authentication-method=socket',
    ]);
  }
  if (!mysqlPid()) {
    spawnInDbHost(
      [
        'mariadbd',
        '--no-defaults',
        `--datadir=${data}`,
        '--user=root',
        `--bind-address=${DB_HOST.address}`,
        `--port=${PORTS.MYSQL}`,
        `--socket=${MYSQL_SOCKET}`,
        `--pid-file=${MYSQL_PID}`,
        '--skip-name-resolve',
        '--max-connections=500',
        `--log-error=${path.join(DB_DIR, 'mysqld.err')}`,
      ],
      path.join(DB_DIR, 'mysqld.log'),
    );
  }
  const sql = mariadbAdmin;
  await until('MariaDB', () =>
    sql('SELECT 1').then(
      () => true,
      () => false,
    ),
  );
  await sql(
    `CREATE USER IF NOT EXISTS '${DB_USER}'@'%' IDENTIFIED BY '${password}'; ALTER USER '${DB_USER}'@'%' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'%'; FLUSH PRIVILEGES;`,
  );
}

async function startPostgres(password: string): Promise<void> {
  const asPostgres = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
  if (!existsSync(path.join(PG_DATA, 'PG_VERSION'))) {
    mkdirSync(PG_DATA, { recursive: true });
    mkdirSync(PG_SOCKET_DIR, { recursive: true });
    await run('chown', ['postgres:postgres', PG_DATA, PG_SOCKET_DIR]);
    await run(
      asPostgres[0] as string,
      [
        ...asPostgres.slice(1),
        pgBin('initdb'),
        '-D',
        PG_DATA,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ],
      { env: { ...process.env, LC_ALL: 'C' } },
    );
    const conf = path.join(PG_DATA, 'postgresql.conf');
    writeFileSync(
      conf,
      `${readFileSync(conf, 'utf8')}\nlisten_addresses = '${DB_HOST.address}'\nport = ${PORTS.PGSQL}\nunix_socket_directories = '${PG_SOCKET_DIR}'\nmax_connections = 300\n`,
    );
    const hba = path.join(PG_DATA, 'pg_hba.conf');
    writeFileSync(hba, `${readFileSync(hba, 'utf8')}\nhost all all 0.0.0.0/0 scram-sha-256\n`);
  }
  if (!postgresPid())
    spawnInDbHost([...asPostgres, pgBin('postgres'), '-D', PG_DATA], path.join(DB_DIR, 'postgres.log'));
  const sql = postgresAdmin;
  await until('PostgreSQL', () =>
    sql('SELECT 1').then(
      () => true,
      () => false,
    ),
  );
  await sql(
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN CREATE ROLE ${DB_USER} LOGIN CREATEDB; END IF; END $$`,
  );
  await sql(`ALTER ROLE ${DB_USER} WITH LOGIN CREATEDB PASSWORD '${password}'`);
}

export async function startDatabases(): Promise<void> {
  mkdirSync(DB_DIR, { recursive: true });
  const password = dbPassword();
  await Promise.all([startMariadb(password), startPostgres(password)]);
}

export async function stopDatabases(): Promise<void> {
  const pids = [mysqlPid(), postgresPid()].filter((p): p is number => p !== undefined);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 60 && pids.some(alive); i++) await sleep(250);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export async function withLabDb<T>(engine: Engine, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(labDbConfig(engine));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The cluster's HA timing, as `PATCH /v1/settings/application` would set it. */
export async function applyLabSettings(engine: Engine, timing: LabTiming): Promise<void> {
  await withLabDb(engine, (db) =>
    setKv(
      db,
      'settings',
      JSON.stringify({
        heartbeat_interval: timing.heartbeatInterval,
        unhealthy_interval: timing.unhealthyInterval,
        callback_persist: true,
      }),
    ),
  );
}

/** Before a command talks to the lab database: say which server is down instead of ECONNREFUSED. */
export function requireDatabase(engine: Engine): void {
  if (!existsSync(DB_PASSWORD_FILE))
    throw new Error('the lab is not up (no database password): run scripts/lab up');
  const [running, name] = engine === 'MYSQL' ? [mysqlPid(), 'MariaDB'] : [postgresPid(), 'PostgreSQL'];
  if (!running) throw new Error(`the lab's ${name} (${engine}) is not running: scripts/lab up starts it`);
}

/** Forget the simulated cluster's state (registration, nodes, stats) on one engine. */
export async function resetDatabase(engine: Engine): Promise<void> {
  if (engine === 'MYSQL') {
    await mariadbAdmin(`DROP DATABASE IF EXISTS ${SIM_DATABASE}`);
  } else {
    await postgresAdmin(`DROP DATABASE IF EXISTS ${SIM_DATABASE} WITH (FORCE)`);
  }
}
