export * from './types.js';
export * from './plan.js';
export * from './discovered.js';
export * from './report.js';
