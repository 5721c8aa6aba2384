/**
 * The App-level lookups doors need: which installation of this App covers a repository. Known here
 * so that no REST path lives outside src/github.
 */
import type { RepoRef } from '../core/schemas/index.js';

/** Any App-authenticated client with `request(route, params)` (Probot's `await probot.auth()`). */
export interface AppRequester {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}

/** The installation id of this App on `repo` (GET /repos/{owner}/{repo}/installation; 404 when not installed). */
export async function findRepoInstallation(app: AppRequester, repo: RepoRef): Promise<number> {
  const { data } = await app.request('GET /repos/{owner}/{repo}/installation', { owner: repo.owner, repo: repo.repo });
  const id = (data as { id?: unknown } | null)?.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new Error(`GitHub answered no installation id for ${repo.owner}/${repo.repo}`);
  return id;
}
