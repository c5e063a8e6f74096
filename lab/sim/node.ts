// Master and Coreapp behaviour: heartbeats, the master lease, shard assignment, takeover.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, setKv } from './db';
import type { NodeIdentity } from './identity';
import { isRegistered, restoredAt, schemaCheck, settings, shardCount } from './state';

const LEASE = 'primary_master';

interface NodeRow {
  id: string;
  role: string;
  last_seen: number | string;
}

async function writeRow(
  db: Db,
  me: NodeIdentity,
  status: string | null,
  error?: { code: number; details: string },
) {
  await db.upsert('nodes', 'id', {
    id: me.id,
    role: me.role,
    version: me.version,
    last_seen: Date.now(),
    status,
    error_code: error?.code ?? null,
    error_details: error?.details ?? null,
  });
}

/** An app node newer than the schema refuses to serve, and says why (once). */
function refuse(me: NodeIdentity, schema: string | undefined, log: (m: string) => void): void {
  if (me.lastStatus !== 'uninitialized') {
    log(
      `database schema v${schema ?? 'none'} is older than this node (v${me.version}): run the dbupgrade job of v${me.version}`,
    );
  }
  me.lastStatus = 'uninitialized';
}

const NOT_INSTANTIATED = {
  code: 1011,
  details: 'Wacore is not instantiated. Please check wacore log for details.',
};

const STOPPED_BY_RESTORE = {
  code: 1011,
  details: 'Settings were restored: the application stopped. Restart this Coreapp (docker restart).',
};

/** One tick of a master: renew or take the lease; the primary initialises, migrates and assigns shards. */
async function masterTick(db: Db, me: NodeIdentity, engine: string, log: (m: string) => void): Promise<void> {
  const { unhealthy_interval } = await settings(db);
  const now = Date.now();
  if ((await db.query('SELECT name FROM lease WHERE name = ?', [LEASE])).length === 0) {
    await db.exec('INSERT INTO lease (name, holder, expires) VALUES (?, NULL, 0)', [LEASE]).catch(() => 0); // a peer may win
  }
  const took = await db.exec(
    'UPDATE lease SET holder = ?, expires = ? WHERE name = ? AND (holder = ? OR holder IS NULL OR expires < ?)',
    [me.id, now + unhealthy_interval * 1000, LEASE, me.id, now],
  );
  const primary = took === 1;
  if (primary !== me.primary) log(primary ? 'became primary_master' : 'is secondary_master');
  me.primary = primary;
  me.role = 'master';

  let schema = await schemaCheck(db, me.version);
  if (primary && schema.schema === undefined) {
    await setKv(db, 'schema_version', me.version);
    log(`initialised a new database at schema v${me.version}`);
    schema = await schemaCheck(db, me.version);
  } else if (!schema.ok && schema.schema !== undefined && engine === 'PGSQL') {
    // On PostgreSQL a master of a newer version upgrades the schema itself (no dbupgrade job).
    await setKv(db, 'schema_version', me.version);
    log(`upgraded the database schema from v${schema.schema} to v${me.version}`);
    schema = await schemaCheck(db, me.version);
  }
  if (!schema.ok) {
    refuse(me, schema.schema, log);
    await writeRow(db, me, 'uninitialized');
    return;
  }
  me.lastStatus = undefined;
  const registered = await isRegistered(db);
  if (primary) {
    await writeRow(db, me, registered ? 'disconnected' : 'unregistered');
    if (registered) await assignShards(db, unhealthy_interval, log);
    // Forget nodes gone for long (a host cut off stays visible, as an error, for a good while).
    await db.exec('DELETE FROM nodes WHERE last_seen < ?', [now - 20 * unhealthy_interval * 1000]);
  } else {
    await writeRow(db, me, registered ? 'disconnected' : null, registered ? undefined : NOT_INSTANTIATED);
  }
}

/** The primary master keeps exactly one healthy Coreapp on each shard, promoting standbys. */
async function assignShards(db: Db, unhealthySeconds: number, log: (m: string) => void): Promise<void> {
  const shards = await shardCount(db);
  const freshAfter = Date.now() - unhealthySeconds * 1000;
  const coreapps = await db.query<NodeRow>(
    "SELECT id, role, last_seen FROM nodes WHERE role = 'coreapp' AND status IS NOT NULL AND status <> 'uninitialized' ORDER BY id",
  );
  const healthy = new Set(coreapps.filter((c) => Number(c.last_seen) >= freshAfter).map((c) => c.id));
  const map = await db.query<{ shard: number; node: string }>(
    'SELECT shard, node FROM shard_map ORDER BY shard',
  );
  await db.exec('DELETE FROM shard_map WHERE shard >= ?', [shards]);
  const taken = new Set(map.filter((m) => m.shard < shards && healthy.has(m.node)).map((m) => m.node));
  for (let shard = 0; shard < shards; shard++) {
    const current = map.find((m) => m.shard === shard)?.node;
    if (current && healthy.has(current)) continue;
    const standby = [...healthy].find((id) => !taken.has(id));
    if (!standby) {
      if (current) await db.exec('DELETE FROM shard_map WHERE shard = ?', [shard]);
      continue;
    }
    taken.add(standby);
    await db.upsert('shard_map', 'shard', { shard, node: standby, updated: Date.now() });
    log(
      current
        ? `shard ${shard}: ${current} stopped answering, promoted ${standby}`
        : `shard ${shard}: assigned ${standby}`,
    );
  }
}

async function coreappTick(db: Db, me: NodeIdentity, log: (m: string) => void): Promise<void> {
  const schema = await schemaCheck(db, me.version);
  if (!schema.ok) {
    refuse(me, schema.schema, log);
    await writeRow(db, me, 'uninitialized');
    return;
  }
  if (!(await isRegistered(db))) {
    await writeRow(db, me, null, NOT_INSTANTIATED);
    return;
  }
  if ((await restoredAt(db)) > me.startedAt) {
    if (me.lastStatus !== 'stopped') log('settings were restored: stopped until this Coreapp is restarted');
    me.lastStatus = 'stopped';
    await db.exec('DELETE FROM shard_map WHERE node = ?', [me.id]);
    await writeRow(db, me, null, STOPPED_BY_RESTORE);
    return;
  }
  const mine = await db.query<{ shard: number }>('SELECT shard FROM shard_map WHERE node = ?', [me.id]);
  const status = mine.length > 0 ? 'connected' : 'disconnected';
  if (status !== me.lastStatus)
    log(status === 'connected' ? `connected (shard ${mine[0]?.shard})` : 'standby (disconnected)');
  me.lastStatus = status;
  await writeRow(db, me, status);
}

/** Run until `stop` resolves; then release what this node holds so peers take over at once. */
export async function runNode(
  db: Db,
  me: NodeIdentity,
  engine: string,
  stop: Promise<void>,
  log: (m: string) => void,
) {
  let stopping = false;
  void stop.then(() => {
    stopping = true;
  });
  let lastError = '';
  while (!stopping) {
    try {
      if (me.role === 'coreapp') await coreappTick(db, me, log);
      else await masterTick(db, me, engine, log);
      lastError = '';
    } catch (err) {
      const msg = `database unavailable: ${(err as Error).message}`;
      if (msg !== lastError) log(msg);
      lastError = msg;
    }
    const { heartbeat_interval } = await settings(db).catch(() => ({ heartbeat_interval: 1 }));
    await Promise.race([sleep(Math.min(1000, heartbeat_interval * 1000)), stop]);
  }
  await db.exec('DELETE FROM shard_map WHERE node = ?', [me.id]).catch(() => 0);
  await db
    .exec('UPDATE lease SET holder = NULL, expires = 0 WHERE name = ? AND holder = ?', [LEASE, me.id])
    .catch(() => 0);
  await db.exec('DELETE FROM nodes WHERE id = ?', [me.id]).catch(() => 0);
}
