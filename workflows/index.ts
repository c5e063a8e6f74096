// Every workflow type the worker registers. Workflow code only: deterministic, no I/O.
export { clusterLock } from './cluster-lock';
export { collectLogs } from './collect-logs';
export { dbUpgrade } from './db-upgrade';
export { haDrill } from './ha-drill';
export { haSetup } from './ha-setup';
export { healthCheck } from './health-check';
export { mediaChown } from './media-chown';
export { multiconnectExpand } from './multiconnect-expand';
export { preflightCheck } from './preflight-check';
export { settingsRestore } from './settings-restore';
export { uninstall } from './uninstall';
export { upgrade } from './upgrade';
