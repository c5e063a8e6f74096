// The one way activities read a secret: by the field of the cluster's inventory entry that holds
// its reference. The field says what the secret is for and, by the rest of the entry, where it
// may go (TRUST.md rule 2): api.passwordRef to api.baseUrl, db.passwordRef into db.env on the
// cluster's hosts and in a login to db.host:db.port (PostgreSQL's version), ssh.privateKeyRef to the cluster's hosts, registration and backup to the API.
import type { ClusterSpec } from '../src/model/cluster';
import { INVENTORY_INCOMPLETE, nonRetryable } from '../src/model/errors';
import type { SecretResolver } from '../src/secrets';

export type SecretField =
  | 'api.passwordRef'
  | 'db.passwordRef'
  | 'ssh.privateKeyRef'
  | 'registration.certRef'
  | 'registration.pinRef'
  | 'backup.passwordRef';

export function secretRefOf(cluster: ClusterSpec, field: SecretField): string | undefined {
  switch (field) {
    case 'api.passwordRef':
      return cluster.api.passwordRef;
    case 'db.passwordRef':
      return cluster.db?.passwordRef;
    case 'ssh.privateKeyRef':
      return cluster.ssh?.privateKeyRef;
    case 'registration.certRef':
      return cluster.registration?.certRef;
    case 'registration.pinRef':
      return cluster.registration?.pinRef;
    case 'backup.passwordRef':
      return cluster.backup?.passwordRef;
  }
}

/** The secret the cluster's entry holds in `field`; a missing field fails naming it. */
export async function clusterSecret(
  secrets: SecretResolver,
  cluster: ClusterSpec,
  field: SecretField,
): Promise<string> {
  const ref = secretRefOf(cluster, field);
  if (!ref)
    throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no ${field} in the inventory`);
  return secrets(ref);
}

/** The secret in `field` when the entry has one (optional ones: the registration PIN). */
export const optionalClusterSecret = async (
  secrets: SecretResolver,
  cluster: ClusterSpec,
  field: SecretField,
): Promise<string | undefined> =>
  secretRefOf(cluster, field) ? clusterSecret(secrets, cluster, field) : undefined;
