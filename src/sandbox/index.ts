/**
 * The GitHub sandbox: a small GitHub REST stand-in served under /api/v3 (GitHub Enterprise layout),
 * for the demo, end-to-end tests, benchmarks and chaos drills. See docs/sandbox.md.
 */
export { startSandbox, apiRoutes, type Sandbox, type SandboxOptions } from './server.js';
export { SandboxState, createSandboxState, SANDBOX_ADMIN_TOKEN, INSTALLATION_ID, APP_ID, APP_SLUG, MAX_RERUNS } from './state.js';
export type { CreateRepoInput, AddWorkflowInput, CreatePullInput, WebhookEvent, StateOptions, SandboxEffect } from './state.js';
export type { WorkflowRequirements, RunTrigger, RunModel, JobModel, RepoModel, AttemptModel, Permissions, Level, CollaboratorRole } from './model.js';
export { ALL_PERMISSIONS } from './model.js';
export { seedScenario, SCENARIOS, SCENARIO_VALUES, SCENARIO_REQUIREMENTS, SCENARIO_DESCRIPTIONS, SCENARIO_CONFIG, SCENARIO_EXPECTED, isScenario, type ScenarioName, type SeededScenario } from './scenarios.js';
export { signPayload } from './webhooks.js';
export { Chaos } from './chaos.js';
