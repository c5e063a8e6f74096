// The setup files a host needs (seed steps A2-A4): db.env rendered from the spec, and the compose
// file as given, or with the media volume swapped for a host path (edited as YAML, never by regex).
import { createHash } from 'node:crypto';
import { type Document, isMap, isSeq, parseDocument } from 'yaml';

/** The seed: setup fails when the database password contains any of these. */
export const FORBIDDEN_DB_PASSWORD_CHARS = ['?', '{', '}', '&', '~', '!', '(', ')', '^', '='] as const;

export class DbPasswordError extends Error {
  override name = 'DbPasswordError';
}

/**
 * Says the password has a forbidden character, not which one: the message lands in the run's
 * history, and naming the characters a secret holds narrows it for whoever reads that.
 */
export function checkDbPassword(password: string): void {
  if (FORBIDDEN_DB_PASSWORD_CHARS.some((c) => password.includes(c))) {
    throw new DbPasswordError(
      `the database password contains a character the client does not accept (forbidden: ${FORBIDDEN_DB_PASSWORD_CHARS.join(' ')}; which one is not said, the password being secret)`,
    );
  }
  if (/[\r\n]/.test(password)) throw new DbPasswordError('the database password contains a line break');
}

export interface DbEnvInput {
  engine: 'MYSQL' | 'PGSQL';
  host: string;
  port: number;
  user: string;
}

export function renderDbEnv(db: DbEnvInput, password: string): string {
  checkDbPassword(password);
  const lines = [
    '# Rendered by waba-runbooks from the cluster spec (seed step A3).',
    `WA_DB_ENGINE=${db.engine}`,
    `WA_DB_HOSTNAME=${db.host}`,
    `WA_DB_PORT=${db.port}`,
    `WA_DB_USERNAME=${db.user}`,
    `WA_DB_PASSWORD=${password}`,
  ];
  if (db.engine === 'MYSQL') lines.push('WA_DB_CONNECTION_IDLE_TIMEOUT=180000');
  return `${lines.join('\n')}\n`;
}

const MEDIA_SERVICES = ['waweb', 'wacore', 'master'] as const;
const MEDIA_TARGET = '/usr/local/wamedia';

/**
 * Seed step A4: in `waweb`, `wacore` and `master`, mount `hostPath` instead of the named volume
 * `whatsappMedia` at /usr/local/wamedia. Everything else (comments included) is kept.
 */
export function rewriteMediaVolume(composeYaml: string, hostPath: string): string {
  const doc: Document = parseDocument(composeYaml);
  const services = doc.get('services');
  if (!isMap(services)) throw new Error('the compose file has no services map');
  for (const name of MEDIA_SERVICES) {
    const volumes = doc.getIn(['services', name, 'volumes']);
    if (volumes === undefined) continue;
    if (!isSeq(volumes)) throw new Error(`services.${name}.volumes is not a list`);
    let replaced = false;
    volumes.items.forEach((item, i) => {
      const value = String((item as { value?: unknown }).value ?? item);
      const [source, target] = value.split(':');
      if (target === MEDIA_TARGET && source === 'whatsappMedia') {
        volumes.set(i, `${hostPath}:${MEDIA_TARGET}`);
        replaced = true;
      }
    });
    if (!replaced)
      throw new Error(`services.${name}.volumes has no whatsappMedia:${MEDIA_TARGET} entry to replace`);
  }
  return doc.toString();
}

export const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');
