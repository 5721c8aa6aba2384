import { parse as parseYaml } from 'yaml';
import { environmentsFromWorkflow, type EnvironmentResolution } from '../core/governor/environment.js';
import type { RepoRef } from '../core/schemas/index.js';
import type { WorkflowRun } from '../ports/index.js';
import type { PipelineContext } from './context.js';
import { safeMessage } from './heal.js';

/**
 * Resolves the deployment environment(s) of a failed run the way GitHub defines them: the door's
 * own statement first; else the `environment:` of the failed jobs in the workflow file at the run's
 * head_sha (contents API); else, when the file cannot say, the deployments GitHub created for that
 * sha (Deployments API). What cannot be named is `unresolved`, which the Governor treats as the
 * strictest declared level — never as the default.
 */
export async function resolveEnvironment(
  ctx: PipelineContext,
  repo: RepoRef,
  run: WorkflowRun | null,
  requested: string | undefined,
  failedJobNames: string[],
): Promise<EnvironmentResolution> {
  if (requested) return { names: [requested], source: 'request', detail: `named by the ${ctx.door} request` };
  // An incident reported without a run names no environment: the repository's default level applies.
  if (!run) return { names: [], source: 'none', detail: 'no run and no environment given' };
  let fromFile: EnvironmentResolution | null = null;
  try {
    const file = run.path ? await ctx.github.readFile(repo, run.path, run.head_sha) : null;
    fromFile = file
      ? environmentsFromWorkflow(parseYaml(file.content) as unknown, failedJobNames) ?? { names: [], source: 'unresolved', detail: `${run.path} at ${run.head_sha.slice(0, 7)} has no usable jobs:` }
      : { names: [], source: 'unresolved', detail: `${run.path || 'the workflow file'} is not readable at ${run.head_sha.slice(0, 7)}` };
  } catch (err) {
    fromFile = { names: [], source: 'unresolved', detail: `${run.path} at ${run.head_sha.slice(0, 7)} could not be read or parsed (${safeMessage(err)})` };
  }
  if (fromFile.source !== 'unresolved') {
    return { ...fromFile, detail: `${fromFile.detail} (${run.path} at ${run.head_sha.slice(0, 7)})` };
  }
  try {
    const deployments = (await ctx.github.listDeployments?.(repo, run.head_sha)) ?? null;
    const names = [...new Set((deployments ?? []).map((d) => d.environment).filter(Boolean))].sort();
    if (names.length) return { names, source: 'deployments', detail: `deployments GitHub created for ${run.head_sha.slice(0, 7)}; ${fromFile.detail}` };
  } catch (err) {
    ctx.log.warn({ err: safeMessage(err) }, 'could not list the deployments of the run\'s commit');
  }
  return fromFile;
}

/** How an environment was resolved, in one line for decisions, certificates and comments. */
export const resolutionNote = (r: EnvironmentResolution): string =>
  `${r.source}${r.names.length ? ` ${r.names.join(', ')}` : ''}: ${r.detail}`;
