import type { ApiSpec } from '../src/spec/cluster';
import { HealthBody } from '../src/spec/health';
import { classify } from './failures';
import { WabaApi, type WabaApiDeps } from './waba-api';
import { WabaApiError } from './waba-api-errors';

export interface ApiRequest {
  cluster: string;
  api: ApiSpec;
}

/** Activities that talk to the Webapp's REST API. */
export function wabaApiActivities(deps: WabaApiDeps) {
  return {
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
