// PostgreSQL says its version only to a logged-in session (a MySQL server says it in its greeting):
// the prerequisites probe logs in as the inventory's db.user with db.passwordRef, over a connection
// an app host opens to the database server db.env names (TRUST.md rule 2: the password goes to that
// server only), and asks `SHOW server_version`. Read-only; one short session.
import type { Duplex } from 'node:stream';
import pg from 'pg';

export interface PostgresLogin {
  user: string;
  password: string;
}

/** Always present, readable by any role: the login's own database need not be known. */
const DATABASE = 'postgres';

/**
 * The server's version string (e.g. "15.14 (Debian 15.14-0+deb12u1)") over `channel`, an open
 * connection to the server. pg dials its own socket unless given a stream with a socket's methods:
 * the channel is one already, so `connect` only says so.
 */
export async function postgresVersion(
  channel: Duplex,
  login: PostgresLogin,
  timeoutMs: number,
): Promise<string> {
  const socketLike = Object.assign(channel, {
    connect: () => {
      process.nextTick(() => channel.emit('connect'));
      return channel;
    },
    setNoDelay: () => channel,
    setKeepAlive: () => channel,
  });
  const client = new pg.Client({
    user: login.user,
    password: login.password,
    database: DATABASE,
    stream: () => socketLike,
    ssl: false,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'waba-runbooks prerequisites',
  });
  // pg reports a dropped connection as an 'error' event too: connect() and query() reject with it.
  client.on('error', () => {});
  try {
    await client.connect();
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    return String(res.rows[0]?.server_version ?? '');
  } finally {
    await client.end().catch(() => {});
  }
}
