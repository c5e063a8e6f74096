// Where things are on disk: the data directory, the worker's artifacts, the inventory, the lab's
// directory, and the project's tools (the Temporal CLI).
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';
import { type Env, setting } from './env';

/** WABA_DATA_DIR, else `.data/` of the project: the dev server's database, the ChatOps replay log. */
export function dataDir(env: Env = process.env): string {
  return path.resolve(setting(env, 'WABA_DATA_DIR') ?? path.join(PROJECT_ROOT, '.data'));
}

/** WABA_ARTIFACTS_DIR, else `.data/artifacts/` of the project: what activities save (backups, logs). */
export function artifactsDir(env: Env = process.env): string {
  return path.resolve(setting(env, 'WABA_ARTIFACTS_DIR') ?? path.join(PROJECT_ROOT, '.data', 'artifacts'));
}

/** WABA_LAB_DIR, else `.lab/` of the project: everything the lab makes. */
export function labDir(env: Env = process.env): string {
  return path.resolve(setting(env, 'WABA_LAB_DIR') ?? path.join(PROJECT_ROOT, '.lab'));
}

/** WABA_INVENTORY: the inventory file or directory the operator named, if any. */
export function inventorySetting(env: Env = process.env): string | undefined {
  const file = setting(env, 'WABA_INVENTORY');
  return file === undefined ? undefined : path.resolve(file);
}

/** Where the Temporal CLI is looked for: TEMPORAL_CLI_PATH, the tools directory (WABA_TOOLS_DIR, else `.tools/`), then PATH. */
export function temporalCliConfig(env: Env = process.env): {
  cliPath: string | undefined;
  toolsDir: string;
  searchPath: string[];
  /** The environment its install script runs in. */
  env: Env;
} {
  return {
    cliPath: setting(env, 'TEMPORAL_CLI_PATH'),
    toolsDir: path.resolve(setting(env, 'WABA_TOOLS_DIR') ?? path.join(PROJECT_ROOT, '.tools')),
    searchPath: (env.PATH ?? '').split(path.delimiter).filter(Boolean),
    env,
  };
}
