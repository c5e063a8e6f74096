import type { Agent } from 'undici';
import { artifactsDir } from '../src/config/paths';
import type { InventoryStore } from '../src/inventory/store';
import { createSecretResolver, type SecretResolver } from '../src/secrets';
import { clusterLockActivities } from './cluster-lock';
import { hostActivities } from './host-activities';
import { hostKeyActivities } from './host-keys';
import { inventoryActivities } from './inventory';
import { lifecycleActivities } from './lifecycle-activities';
import { type NotifyConfig, notifyActivities, notifyConfigFromEnv } from './notify';
import { prerequisiteActivities } from './prerequisite-activities';
import { scheduleActivities } from './schedules';
import { settingsActivities } from './settings-activities';
import { SshPool } from './ssh';
import { wabaApiActivities } from './waba-activities';
import { TokenCache } from './waba-api';

export interface ActivityDeps {
  /** The clusters this worker may touch (WABA_INVENTORY; docs/configuration.md#the-inventory). */
  inventory: InventoryStore;
  secrets: SecretResolver;
  tokens: TokenCache;
  dispatchers: Map<string, Agent>;
  requestTimeoutMs: number;
  ssh: SshPool;
  /** Backups and collected logs on the worker (WABA_ARTIFACTS_DIR, default .data/artifacts). */
  artifactsDir: string;
  /** The chat webhook (WABA_NOTIFY_WEBHOOK_URL[_FILE]); undefined: notifications are not sent. */
  notify: NotifyConfig | undefined;
}

/** `inventory`: the store the worker loaded at start (it refuses to start on an invalid one). */
export function defaultDeps(
  inventory: InventoryStore,
  overrides: Partial<Omit<ActivityDeps, 'inventory'>> = {},
): ActivityDeps {
  const secrets = overrides.secrets ?? createSecretResolver();
  return {
    inventory,
    secrets,
    ssh: new SshPool(secrets),
    tokens: new TokenCache(),
    dispatchers: new Map(),
    requestTimeoutMs: 20_000,
    artifactsDir: artifactsDir(),
    notify: 'notify' in overrides ? overrides.notify : notifyConfigFromEnv(),
    ...overrides,
  };
}

/** The object the worker registers: every activity, closed over its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...inventoryActivities(deps),
    ...wabaApiActivities(deps),
    ...hostKeyActivities(deps),
    ...hostActivities(deps),
    ...prerequisiteActivities(deps),
    ...lifecycleActivities(deps),
    ...settingsActivities(deps),
    ...notifyActivities(deps),
    ...clusterLockActivities(),
    ...scheduleActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
