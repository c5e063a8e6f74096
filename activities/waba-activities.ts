import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretResolver } from '../src/secrets';
import type { ApiSpec } from '../src/spec/cluster';
import { HealthBody } from '../src/spec/health';
import { classify } from './failures';
import { WabaApi, type WabaApiDeps } from './waba-api';
import { WabaApiError } from './waba-api-errors';

export interface ApiRequest {
  cluster: string;
  api: ApiSpec;
}

export interface RegistrationRequest extends ApiRequest {
  cc: string;
  phoneNumber: string;
  method: 'sms' | 'voice';
  certRef: string;
  pinRef?: string;
}

export interface ShardsRequest extends ApiRequest {
  cc: string;
  phoneNumber: string;
  shards: number;
  certRef?: string;
  pinRef?: string;
}

/** The account fields of a request body, with the certificate and PIN resolved on the worker. */
async function accountBody(
  secrets: SecretResolver,
  r: { cc: string; phoneNumber: string; certRef?: string; pinRef?: string },
): Promise<Record<string, string>> {
  const body: Record<string, string> = { cc: r.cc, phone_number: r.phoneNumber };
  if (r.certRef) body.cert = (await secrets(r.certRef)).trim();
  if (r.pinRef) body.pin = (await secrets(r.pinRef)).trim();
  return body;
}

/** Activities that talk to the Webapp's REST API. */
export function wabaApiActivities(deps: WabaApiDeps) {
  const attempt = async <T>(context: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classify(err, context);
    }
  };

  return {
    /** Log in (first login: set the admin password the spec references). */
    async wabaLogin({
      cluster,
      api,
      firstLogin,
    }: ApiRequest & { firstLogin: boolean }): Promise<{ ok: true }> {
      return attempt(`login to cluster ${cluster} at ${api.baseUrl}`, async () => {
        await new WabaApi(api, deps).token(firstLogin);
        return { ok: true };
      });
    },

    /** POST /v1/account: 201 = already registered, 202 = code sent (reference §3.4). */
    async wabaRegister(r: RegistrationRequest): Promise<{ status: 201 | 202; vname: string | null }> {
      return attempt(`registration of cluster ${r.cluster}`, async () => {
        const body = { ...(await accountBody(deps.secrets, r)), method: r.method };
        const { status, json } = await new WabaApi(r.api, deps).authorized(
          'POST /v1/account',
          'POST',
          '/v1/account',
          body,
        );
        const vname = (json as { account?: { vname?: string }[] } | null)?.account?.[0]?.vname ?? null;
        if (status !== 201 && status !== 202)
          throw new WabaApiError('POST /v1/account', status, null, `unexpected status ${status}`, null);
        return { status, vname };
      });
    },

    /** POST /v1/account/verify with the code an operator received (reference §3.5). */
    async wabaVerify({ cluster, api, code }: ApiRequest & { code: string }): Promise<{ status: number }> {
      return attempt(`verification of cluster ${cluster}`, async () => {
        const { status } = await new WabaApi(api, deps).authorized(
          'POST /v1/account/verify',
          'POST',
          '/v1/account/verify',
          { code },
        );
        return { status };
      });
    },

    /**
     * POST /v1/account/shards (reference §3.6). The docs' own advice for 403 is to retry the same
     * request: done here a bounded number of times before the failure goes to Temporal's retry.
     */
    async wabaSetShards(r: ShardsRequest): Promise<{ status: number; attempts: number }> {
      return attempt(`set shards on cluster ${r.cluster}`, async () => {
        const body = { ...(await accountBody(deps.secrets, r)), shards: r.shards };
        for (let attempts = 1; ; attempts++) {
          try {
            const { status } = await new WabaApi(r.api, deps).authorized(
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
      });
    },

    /** GET /v1/health: the raw per-node health object (no secrets in it). */
    async wabaHealth({ cluster, api }: ApiRequest): Promise<HealthBody> {
      const context = `health of cluster ${cluster} at ${api.baseUrl}`;
      try {
        const { json } = await new WabaApi(api, deps).authorized(context, 'GET', '/v1/health');
        const parsed = HealthBody.safeParse(json);
        if (!parsed.success)
          throw new WabaApiError(context, 502, null, 'health answer without a "health" object', null);
        return parsed.data;
      } catch (err) {
        throw classify(err, context);
      }
    },
  };
}
