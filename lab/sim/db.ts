// The simulator's shared state lives in the real database named by db.env (MySQL or PostgreSQL),
// so separate containers on separate hosts coordinate exactly as the real nodes do: through the DB.
import mysql from 'mysql2/promise';
import pg from 'pg';

export const SIM_DATABASE = 'waent_sim';

export interface DbConfig {
  engine: 'MYSQL' | 'PGSQL';
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a write and returns the number of rows it changed. */
  exec(sql: string, params?: unknown[]): Promise<number>;
  /** INSERT or UPDATE by primary key. */
  upsert(table: string, key: string, row: Record<string, unknown>): Promise<void>;
  /** Atomically add one to a counter in `stats`. */
  bump(counter: string): Promise<void>;
  close(): Promise<void>;
}

export function dbConfigFromEnv(env: NodeJS.ProcessEnv): DbConfig {
  const engine = env.WA_DB_ENGINE === 'PGSQL' ? 'PGSQL' : 'MYSQL';
  return {
    engine,
    host: env.WA_DB_HOSTNAME ?? 'db',
    port: Number(env.WA_DB_PORT ?? (engine === 'PGSQL' ? 5432 : 3306)),
    user: env.WA_DB_USERNAME ?? 'root',
    password: env.WA_DB_PASSWORD ?? '',
  };
}

const TABLES = [
  'CREATE TABLE IF NOT EXISTS kv (k VARCHAR(191) PRIMARY KEY, v TEXT)',
  `CREATE TABLE IF NOT EXISTS nodes (id VARCHAR(191) PRIMARY KEY, role VARCHAR(32), version VARCHAR(32),
     last_seen BIGINT, status VARCHAR(32), error_code INT, error_details VARCHAR(255))`,
  'CREATE TABLE IF NOT EXISTS stats (k VARCHAR(64) PRIMARY KEY, n BIGINT)',
  'CREATE TABLE IF NOT EXISTS tokens (token VARCHAR(64) PRIMARY KEY, expires BIGINT)',
  'CREATE TABLE IF NOT EXISTS shard_map (shard INT PRIMARY KEY, node VARCHAR(191), updated BIGINT)',
  'CREATE TABLE IF NOT EXISTS lease (name VARCHAR(64) PRIMARY KEY, holder VARCHAR(191), expires BIGINT)',
];

async function mysqlDb(cfg: DbConfig): Promise<Db> {
  const boot = await mysql.createConnection({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
  });
  await boot.query(`CREATE DATABASE IF NOT EXISTS ${SIM_DATABASE}`);
  await boot.end();
  const pool = mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: SIM_DATABASE,
    connectionLimit: 4,
    connectTimeout: 3000,
  });
  const db: Db = {
    async query<T>(sql: string, params: unknown[] = []) {
      const [rows] = await pool.query(sql, params);
      return rows as T[];
    },
    async exec(sql, params = []) {
      const [result] = await pool.query(sql, params);
      return (result as { affectedRows: number }).affectedRows;
    },
    async upsert(table, key, row) {
      const cols = Object.keys(row);
      const updates = cols.filter((c) => c !== key).map((c) => `${c} = VALUES(${c})`);
      await pool.query(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON DUPLICATE KEY UPDATE ${updates.join(', ')}`,
        Object.values(row),
      );
    },
    async bump(counter) {
      await pool.query('INSERT INTO stats (k, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', [counter]);
    },
    close: () => pool.end(),
  };
  for (const t of TABLES) await db.exec(t);
  return db;
}

async function pgDb(cfg: DbConfig): Promise<Db> {
  const base = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    connectionTimeoutMillis: 3000,
  };
  const boot = new pg.Client({ ...base, database: 'postgres' });
  await boot.connect();
  try {
    const found = await boot.query('SELECT 1 FROM pg_database WHERE datname = $1', [SIM_DATABASE]);
    if (found.rowCount === 0) await boot.query(`CREATE DATABASE ${SIM_DATABASE}`).catch(() => undefined); // a peer may win the race
  } finally {
    await boot.end();
  }
  const pool = new pg.Pool({ ...base, database: SIM_DATABASE, max: 4 });
  pool.on('error', (err) => console.error(`database connection lost: ${err.message}`));
  const numbered = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  const db: Db = {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(numbered(sql), params)).rows as T[];
    },
    async exec(sql, params = []) {
      return (await pool.query(numbered(sql), params)).rowCount ?? 0;
    },
    async upsert(table, key, row) {
      const cols = Object.keys(row);
      const updates = cols.filter((c) => c !== key).map((c) => `${c} = EXCLUDED.${c}`);
      await pool.query(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}`,
        Object.values(row),
      );
    },
    async bump(counter) {
      await pool.query(
        'INSERT INTO stats (k, n) VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET n = stats.n + 1',
        [counter],
      );
    },
    close: () => pool.end(),
  };
  for (const t of TABLES) await db.exec(t);
  return db;
}

export function openDb(cfg: DbConfig): Promise<Db> {
  return cfg.engine === 'PGSQL' ? pgDb(cfg) : mysqlDb(cfg);
}

/** Small typed helpers over the kv and stats tables. */
export async function getKv(db: Db, k: string): Promise<string | undefined> {
  const rows = await db.query<{ v: string }>('SELECT v FROM kv WHERE k = ?', [k]);
  return rows[0]?.v ?? undefined;
}

export async function setKv(db: Db, k: string, v: string): Promise<void> {
  await db.upsert('kv', 'k', { k, v });
}

export async function deleteKv(db: Db, k: string): Promise<void> {
  await db.exec('DELETE FROM kv WHERE k = ?', [k]);
}

export async function readStats(db: Db): Promise<Record<string, number>> {
  const rows = await db.query<{ k: string; n: number | string }>('SELECT k, n FROM stats ORDER BY k');
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}
