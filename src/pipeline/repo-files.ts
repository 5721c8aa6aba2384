import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_LEDGER_BRANCH,
  ENVIRONMENT_FILE_PATH,
  EnvironmentFile,
  REPO_CONFIG_PATH,
  RepoConfig,
  SchemaError,
  parseWith,
  type RepoRef,
} from '../core/schemas/index.js';
import type { ContentsPort } from '../ports/index.js';

/** Parses `.github/autonomy.yml` text. Empty or absent means "all defaults". */
export function parseRepoConfig(text: string | null, source = REPO_CONFIG_PATH): RepoConfig {
  if (text === null || text.trim() === '') return RepoConfig.parse({});
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new SchemaError(source, [{ path: '(root)', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  return parseWith(RepoConfig, data ?? {}, source);
}

/** Parses `.github/environment.json` text. */
export function parseEnvironmentFile(text: string, source = ENVIRONMENT_FILE_PATH): EnvironmentFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SchemaError(source, [{ path: '(root)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseWith(EnvironmentFile, data, source);
}

/**
 * Reads the repository's autonomy config from its default branch (where only reviewed changes land).
 * A `ledger.branch` other than the default name is checked against GitHub: the ledger is never
 * committed onto the default branch or a protected branch.
 */
export async function loadRepoConfig(github: ContentsPort, repo: RepoRef, ref?: string): Promise<RepoConfig> {
  const file = await github.readFile(repo, REPO_CONFIG_PATH, ref);
  const config = parseRepoConfig(file?.content ?? null);
  const branch = config.ledger.branch;
  if (branch !== DEFAULT_LEDGER_BRANCH) {
    const refuse = (message: string) => new SchemaError(REPO_CONFIG_PATH, [{ path: 'ledger.branch', message }]);
    if (branch === (await github.getDefaultBranch(repo))) {
      throw refuse(`"${branch}" is the repository's default branch; the ledger needs a branch of its own (e.g. ${DEFAULT_LEDGER_BRANCH})`);
    }
    if ((await github.branchProtection?.(repo, branch))?.protected) {
      throw refuse(`"${branch}" is a protected branch; Living Bridge writes the ledger with compare-and-swap commits, so name an unprotected branch of its own (e.g. ${DEFAULT_LEDGER_BRANCH})`);
    }
  }
  return config;
}

/** Reads `.github/environment.json`; null when the repository declares none. */
export async function loadEnvironmentFile(github: ContentsPort, repo: RepoRef, ref?: string): Promise<EnvironmentFile | null> {
  const file = await github.readFile(repo, ENVIRONMENT_FILE_PATH, ref);
  return file ? parseEnvironmentFile(file.content) : null;
}
