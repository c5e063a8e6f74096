import type { Agent } from 'undici';
import { createSecretResolver, type SecretResolver } from '../src/secrets';
import { wabaApiActivities } from './waba-activities';
import { TokenCache } from './waba-api';

export interface ActivityDeps {
  secrets: SecretResolver;
  tokens: TokenCache;
  dispatchers: Map<string, Agent>;
  requestTimeoutMs: number;
}

export function defaultDeps(overrides: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    secrets: createSecretResolver(),
    tokens: new TokenCache(),
    dispatchers: new Map(),
    requestTimeoutMs: 20_000,
    ...overrides,
  };
}

/** The object the worker registers: every activity, closed over its dependencies. */
export function createActivities(deps: ActivityDeps = defaultDeps()) {
  return {
    ...wabaApiActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
