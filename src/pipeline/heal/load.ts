/** Stage 1 of a heal: load config — the repository's declarations, its ledger, the job's intent journal. */
import { parseRepoFullName, SchemaError, type EnvironmentFile, type HealJob, type RepoConfig } from '../../core/schemas/index.js';
import { intentKeyOf } from '../../intake/types.js';
import type { PipelineContext } from '../context.js';
import { configInvalid } from '../heal-announce.js';
import { loadEnvironmentFile, loadRepoConfig } from '../repo-files.js';
import { StepJournal } from '../resume.js';
import type { Finished, Loaded } from './state.js';

/**
 * `.github/autonomy.yml` from the default branch (invalid: reported and nothing is done) and
 * `.github/environment.json` (invalid: the heal goes on without its declarations).
 */
export async function loadConfig(ctx: PipelineContext, job: HealJob): Promise<Loaded | Finished> {
  const request = job.request;
  const repository = request.repository;
  const repo = parseRepoFullName(repository);
  let config: RepoConfig;
  try {
    config = await loadRepoConfig(ctx.github, repo);
  } catch (err) {
    if (err instanceof SchemaError) return { finished: await configInvalid(ctx, job, repo, err) };
    throw err;
  }
  let envFile: EnvironmentFile | null = null;
  try {
    envFile = await loadEnvironmentFile(ctx.github, repo);
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'environment.json is invalid; heal continues without its declarations');
  }
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const journal = ctx.intents && request.run_id !== undefined && !request.dry_run ? await StepJournal.open(ctx.intents, intentKeyOf(job), ctx.now) : StepJournal.none(ctx.now);
  return { ctx, job, request, repository, repo, config, envFile, ledger, journal };
}
