// Every workflow type the worker registers. Workflow code only: deterministic, no I/O.
export { healthCheck } from './health-check';
