/**
 * What the current run is working on, for log lines and metric tags. Module state in workflow code
 * is per run (the SDK isolates each workflow's globals), so this is this run's context only.
 */
export interface RunContext {
  cluster?: string;
  step?: string;
}

const context: RunContext = {};

export function setRunContext(update: RunContext): void {
  Object.assign(context, update);
}

export function runContext(): RunContext {
  return { ...context };
}
