export { createOctokit, LivingBridgeOctokit, MAX_RATE_LIMIT_RETRIES, type CreateOctokitOptions, type ThrottleTuning } from './octokit.js';
export { GitHubAdapter, createGitHubPort, composePorts, wrapProbotOctokit, nextLink, BRIDGE_LABEL, type ComposedGitHubPort, type GitHubAdapterOptions, type OctokitLike, type OctokitResponseLike } from './adapter.js';
export { RequestLayer, type RequestLayerOptions } from './request.js';
export { GitHubPermissionError, GitHubRequestError, isPermissionError, type GitHubPermission } from './errors.js';
export { sealSecret } from './sealed-box.js';
export { mapWorkflowRun, runFromWebhook, type RawWorkflowRun } from './webhook-run.js';
export { GitHubCache, sharedGitHubCache, resetGitHubCache } from './cache.js';
export { DurableStateAdapter, type InstallationRepository, type InstallationReposPage } from './durable-state.js';
export { findRepoInstallation, type AppRequester } from './installation.js';
