/** Engines act: one module per action, each `execute...(port, plan)` returning a report with fingerprints. */
export * from './fingerprint.js';
export * from './report.js';
export * from './create-secret.js';
export * from './rerun.js';
export * from './escalate.js';
export * from './regenerate-config.js';
export * from './rollback.js';
export * from './registry.js';
