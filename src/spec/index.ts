export * from './approvals';
export * from './cluster';
export * from './common';
export * from './health';
export * from './inputs';
export * from './results';
export * from './validate';
