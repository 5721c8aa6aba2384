/** Stage 1 of sync: the declared `.github/environment.json`, from the default branch unless allowed otherwise. */
import { ENVIRONMENT_FILE_PATH, SchemaError, parseRepoFullName } from '../../core/schemas/index.js';
import type { PipelineContext } from '../context.js';
import { loadRepoConfig, parseEnvironmentFile } from '../repo-files.js';
import { SyncRefusedError, type Declared, type SyncOptions } from './types.js';

const normalizeRef = (ref: string): string => ref.replace(/^refs\/heads\//, '');

/**
 * Reads the declaration. The repository config deciding where it may come from is always read from
 * the default branch; another ref is refused for an apply unless that config sets
 * `allow_sync_from_non_default_branch` (a dry run from any ref is allowed: it writes nothing). A
 * missing or malformed file throws SchemaError before anything else is read or written.
 */
export async function readDeclaration(ctx: Pick<PipelineContext, 'github'>, opts: SyncOptions): Promise<Declared> {
  const repository = opts.repository;
  const repo = parseRepoFullName(repository);
  const gh = ctx.github;
  const envFilePath = opts.envFilePath ?? ENVIRONMENT_FILE_PATH;
  const notes: string[] = [];
  const defaultBranch = await gh.getDefaultBranch(repo);
  const config = await loadRepoConfig(gh, repo, defaultBranch);
  const ref = opts.ref ? normalizeRef(opts.ref) : defaultBranch;
  if (ref !== defaultBranch && !opts.dryRun && !config.allow_sync_from_non_default_branch) {
    throw new SyncRefusedError(
      `refusing to apply ${envFilePath} from ${ref}: only the default branch (${defaultBranch}) is trusted; ` +
        'run with --dry-run to preview, or set allow_sync_from_non_default_branch: true in .github/autonomy.yml',
    );
  }
  const file = await gh.readFile(repo, envFilePath, ref);
  if (!file) throw new SchemaError(envFilePath, [{ path: '(root)', message: `not found on ${ref}: declare the environment first (see docs/env-sync.md)` }]);
  const declared = parseEnvironmentFile(file.content, envFilePath);
  if (opts.environment !== undefined && !declared.environments[opts.environment]) {
    notes.push(`environment ${opts.environment} is not declared in ${envFilePath}: nothing to sync in it`);
  }
  return { opts, repository, repo, envFilePath, defaultBranch, config, ref, rawText: file.content, declared, notes };
}
