// Every workflow type the worker registers. Workflow code only: deterministic, no I/O.
export { haSetup } from './ha-setup';
export { healthCheck } from './health-check';
export { multiconnectExpand } from './multiconnect-expand';
