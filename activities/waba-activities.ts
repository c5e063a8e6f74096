import { setTimeout as sleep } from 'node:timers/promises';
import type { InventoryStore } from '../src/inventory/store';
import type { ClusterSpec } from '../src/model/cluster';
import { INVALID_INPUT, INVENTORY_INCOMPLETE, nonRetryable } from '../src/model/errors';
import { HealthBody } from '../src/model/health';
import type { HealthWaitRequest, HealthWaitResult } from '../src/model/health-condition';
import type { SecretResolver } from '../src/secrets';
import { clusterSecret, optionalClusterSecret } from './cluster-secrets';
import { classify } from './failures';
import { waitHealth } from './health-wait';
import { activityPollDeps } from './poll';
import { beating, type ClusterRequest, specOf } from './remote';
import { WabaApi, type WabaApiDeps } from './waba-api';
import { WabaApiError } from './waba-api-errors';

export interface WabaActivityDeps extends WabaApiDeps {
  inventory: InventoryStore;
}

/** The account fields of a request body: the inventory's number, certificate and PIN (worker-side). */
async function accountBody(
  secrets: SecretResolver,
  cluster: ClusterSpec,
  withCert: boolean,
): Promise<Record<string, string>> {
  const reg = cluster.registration;
  if (!reg)
    throw nonRetryable(INVENTORY_INCOMPLETE, `cluster ${cluster.name} has no registration in the inventory`);
  const body: Record<string, string> = { cc: reg.cc, phone_number: reg.phoneNumber };
  if (withCert) body.cert = (await clusterSecret(secrets, cluster, 'registration.certRef')).trim();
  const pin = await optionalClusterSecret(secrets, cluster, 'registration.pinRef');
  if (pin) body.pin = pin.trim();
  return body;
}

/** Activities that talk to the Webapp's REST API, at the URL of the cluster's inventory entry. */
export function wabaApiActivities(deps: WabaActivityDeps) {
  /** The run's cluster from the inventory, then `fn` (heartbeating); every error classified with `context`. */
  const attempt = async <T>(
    ref: ClusterRequest['cluster'],
    context: (cluster: ClusterSpec) => string,
    fn: (cluster: ClusterSpec) => Promise<T>,
  ): Promise<T> => {
    const cluster = specOf(deps.inventory, ref);
    try {
      return await beating(context(cluster), () => fn(cluster));
    } catch (err) {
      throw classify(err, context(cluster));
    }
  };

  const healthContext = (c: ClusterSpec) => `health of cluster ${c.name} at ${c.api.baseUrl}`;
  /** One GET /v1/health (token cache and connection of the cluster reused). */
  const readHealth = async (c: ClusterSpec): Promise<HealthBody> => {
    const context = healthContext(c);
    const { json } = await new WabaApi(c, deps).authorized(context, 'GET', '/v1/health');
    const parsed = HealthBody.safeParse(json);
    if (!parsed.success)
      throw new WabaApiError(context, 502, null, 'health answer without a "health" object', null);
    return parsed.data;
  };

  return {
    /** Log in (first login: set the admin password the inventory references). */
    async wabaLogin({
      cluster,
      firstLogin,
    }: ClusterRequest & { firstLogin: boolean }): Promise<{ ok: true }> {
      return attempt(
        cluster,
        (c) => `login to cluster ${c.name} at ${c.api.baseUrl}`,
        async (c) => {
          await new WabaApi(c, deps).token(firstLogin);
          return { ok: true };
        },
      );
    },

    /** POST /v1/account: 201 = already registered, 202 = code sent (reference §3.4). */
    async wabaRegister(
      r: ClusterRequest & { method: 'sms' | 'voice' },
    ): Promise<{ status: 201 | 202; vname: string | null }> {
      return attempt(
        r.cluster,
        (c) => `registration of cluster ${c.name}`,
        async (c) => {
          const body = { ...(await accountBody(deps.secrets, c, true)), method: r.method };
          const { status, json } = await new WabaApi(c, deps).authorized(
            'POST /v1/account',
            'POST',
            '/v1/account',
            body,
          );
          const vname = (json as { account?: { vname?: string }[] } | null)?.account?.[0]?.vname ?? null;
          if (status !== 201 && status !== 202)
            throw new WabaApiError('POST /v1/account', status, null, `unexpected status ${status}`, null);
          return { status, vname };
        },
      );
    },

    /** POST /v1/account/verify with the code an operator received (reference §3.5). */
    async wabaVerify({ cluster, code }: ClusterRequest & { code: string }): Promise<{ status: number }> {
      return attempt(
        cluster,
        (c) => `verification of cluster ${c.name}`,
        async (c) => {
          if (!/^\d{3,8}$/.test(code))
            throw nonRetryable(INVALID_INPUT, 'a verification code is 3 to 8 digits');
          const { status } = await new WabaApi(c, deps).authorized(
            'POST /v1/account/verify',
            'POST',
            '/v1/account/verify',
            { code },
          );
          return { status };
        },
      );
    },

    /**
     * POST /v1/account/shards (reference §3.6). The docs' own advice for 403 is to retry the same
     * request: done here a bounded number of times before the failure goes to Temporal's retry.
     */
    async wabaSetShards(
      r: ClusterRequest & { shards: number },
    ): Promise<{ status: number; attempts: number }> {
      return attempt(
        r.cluster,
        (c) => `set shards on cluster ${c.name}`,
        async (c) => {
          if (![1, 2, 4, 8, 16, 32].includes(r.shards))
            throw nonRetryable(INVALID_INPUT, 'shards is one of 1, 2, 4, 8, 16, 32');
          const body = { ...(await accountBody(deps.secrets, c, true)), shards: r.shards };
          for (let attempts = 1; ; attempts++) {
            try {
              const { status } = await new WabaApi(c, deps).authorized(
                'POST /v1/account/shards',
                'POST',
                '/v1/account/shards',
                body,
              );
              return { status, attempts };
            } catch (err) {
              if (!(err instanceof WabaApiError) || err.status !== 403 || attempts >= 5) throw err;
              await sleep(1000 * attempts);
            }
          }
        },
      );
    },

    /** GET /v1/health: the raw per-node health object (no secrets in it). */
    async wabaHealth({ cluster }: ClusterRequest): Promise<HealthBody> {
      return attempt(cluster, healthContext, readHealth);
    },

    /**
     * A health gate: GET /v1/health at the poll schedule (src/model/poll.ts) until the condition holds,
     * heartbeating with the last reading; HealthGateFailed once `until` has passed (activities/health-wait.ts).
     * Each poll reads the inventory (a changed entry fails at once) and classifies its errors, as wabaHealth.
     */
    async waitWabaHealth(r: HealthWaitRequest): Promise<HealthWaitResult> {
      const poll = async () => {
        const c = specOf(deps.inventory, r.cluster);
        try {
          return await readHealth(c);
        } catch (err) {
          throw classify(err, healthContext(c));
        }
      };
      return waitHealth(r, poll, activityPollDeps());
    },
  };
}
