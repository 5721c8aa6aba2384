import type { AutonomyLevel } from '../schemas/common.js';
import { AUTONOMY_LEVELS } from '../schemas/common.js';
import type { RepoConfig } from '../schemas/repo-config.js';

/**
 * The deployment environment(s) of a failed run, as GitHub defines them, and how they were found:
 * - `request`: the door named it (CLI --environment, Action input, API body);
 * - `workflow`: the `environment:` of the failed jobs in the workflow file at the run's head_sha;
 * - `deployments`: the deployments GitHub created for the run's commit;
 * - `none`: the failed jobs target no environment (the repository's default level applies);
 * - `unresolved`: an environment exists but cannot be named (an expression, an unreadable file):
 *   the strictest level any environment in the config declares applies, never the default.
 */
export interface EnvironmentResolution {
  names: string[];
  source: 'request' | 'workflow' | 'deployments' | 'none' | 'unresolved';
  detail: string;
}

const RANK: Record<AutonomyLevel, number> = Object.fromEntries(AUTONOMY_LEVELS.map((l, i) => [l, i])) as Record<AutonomyLevel, number>;
const strictest = (levels: AutonomyLevel[]): AutonomyLevel => levels.reduce((a, b) => (RANK[b] < RANK[a] ? b : a));

/** GitHub's `environment:` of a job: a name, `{name, url}`, or an expression we cannot evaluate here. */
function environmentOfJob(job: unknown): { name: string } | { expression: string } | null {
  if (!job || typeof job !== 'object') return null;
  const env = (job as { environment?: unknown }).environment;
  const name = typeof env === 'string' ? env : env && typeof env === 'object' ? (env as { name?: unknown }).name : undefined;
  if (name === undefined || name === null) return env === undefined ? null : { expression: JSON.stringify(env) };
  if (typeof name !== 'string' || name.trim() === '') return { expression: JSON.stringify(name) };
  return name.includes('${{') ? { expression: name } : { name: name.trim() };
}

/** A job's name as the REST API reports it: `name:` (unless it is an expression) or its key; matrix jobs add ` (…)`. */
function jobMatches(key: string, job: unknown, failed: string): boolean {
  const declared = job && typeof job === 'object' ? (job as { name?: unknown }).name : undefined;
  const names = [key, ...(typeof declared === 'string' && !declared.includes('${{') ? [declared] : [])];
  return names.some((n) => failed === n || failed.startsWith(`${n} (`));
}

/**
 * The environments of the failed jobs, read from a parsed workflow file. Null when the file says
 * nothing usable (no `jobs:`); `unresolved` when a failed job's environment is an expression or a
 * failed job cannot be matched to the file.
 */
export function environmentsFromWorkflow(workflow: unknown, failedJobNames: string[]): EnvironmentResolution | null {
  const jobs = workflow && typeof workflow === 'object' ? (workflow as { jobs?: unknown }).jobs : undefined;
  if (!jobs || typeof jobs !== 'object' || failedJobNames.length === 0) return null;
  const entries = Object.entries(jobs as Record<string, unknown>);
  const names = new Set<string>();
  for (const failed of failedJobNames) {
    const matched = entries.filter(([key, job]) => jobMatches(key, job, failed));
    if (matched.length === 0) return { names: [], source: 'unresolved', detail: `failed job "${failed}" is not in the workflow file` };
    for (const [key, job] of matched) {
      const env = environmentOfJob(job);
      if (env && 'expression' in env) return { names: [], source: 'unresolved', detail: `job ${key} has environment ${env.expression}, an expression Living Bridge cannot evaluate` };
      if (env) names.add(env.name);
    }
  }
  return names.size
    ? { names: [...names].sort(), source: 'workflow', detail: `environment: of the failed jobs in the workflow file` }
    : { names: [], source: 'none', detail: 'the failed jobs declare no environment' };
}

/** An undeclared environment named like production is never treated more loosely than `suggest`. */
const PRODUCTION_RE = /^prod(uction)?$/i;

/** The autonomy level of one named environment: its own entry, else the default (production: at most suggest). */
export function levelOfEnvironment(config: RepoConfig, name: string | null | undefined): AutonomyLevel {
  if (name) {
    const entry = config.environments[name];
    if (entry) return entry.level;
    if (PRODUCTION_RE.test(name)) return strictest([config.default_level, 'suggest']);
  }
  return config.default_level;
}

/**
 * The level a resolution allows: the strictest of its environments' levels; for an unresolved
 * environment the strictest level any environment of the config declares (and never looser than
 * `suggest`, the production default, when the config declares none).
 */
export function levelForResolution(config: RepoConfig, resolution: EnvironmentResolution): AutonomyLevel {
  if (resolution.source === 'unresolved') {
    const declared = Object.values(config.environments).map((e) => e.level);
    // Nothing declared: no environment is stricter than the default.
    return declared.length ? strictest(declared) : config.default_level;
  }
  if (resolution.names.length === 0) return config.default_level;
  return strictest(resolution.names.map((n) => levelOfEnvironment(config, n)));
}

/** The environment label decisions and certificates carry: the names, or "unresolved". */
export const environmentLabel = (r: EnvironmentResolution): string | null =>
  r.source === 'unresolved' ? 'unresolved' : r.names.length ? r.names.join(',') : null;

/** The one environment a step acts in (environment-scoped secrets), from a label: only a single resolved name. */
export const actingEnvironment = (label: string | null | undefined): string | undefined =>
  label && label !== 'unresolved' && !label.includes(',') ? label : undefined;
