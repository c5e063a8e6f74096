// This project's configuration: every environment variable it reads, by section, and nothing else
// reads process.env (workflows read none: their inputs carry what they need). Import a section
// directly where start-up time matters (the CLI); this index is for everything else.
// The project's root, for the defaults of the directories (src/project-root.ts works from dist/ too).
export { PROJECT_ROOT } from '../project-root';
export { chatopsConfig, chatopsConfigured, identitiesText } from './chatops';
export { signingConfig, temporalUiUrl } from './cli';
export { codecKeysText, codecServerConfig } from './codec';
export { type Env, processEnv } from './env';
export { notifyWebhookText } from './notify';
export { artifactsDir, dataDir, inventorySetting, labDir, temporalCliConfig } from './paths';
export {
  connectionOptions,
  DEFAULT_ADDRESS,
  DEFAULT_TASK_QUEUE,
  devServerConfig,
  type TemporalConfig,
  temporalConfig,
} from './temporal';
export { healthAddress, logFormat, logLevel, metricsAddress, workflowBundleFile } from './worker';
