import type { RepoRef } from '../core/schemas/index.js';
import type { FileContent } from '../ports/index.js';
import { GitHubAdapter, nextLink, type OctokitResponseLike } from './adapter.js';
import type { ConditionalEntry } from './cache.js';
import { isNotModified } from './errors.js';

export interface InstallationRepository {
  fullName: string;
  defaultBranch: string;
  pushedAt: string | null;
  archived: boolean;
}

export interface InstallationReposPage {
  notModified: boolean;
  etag: string | null;
  repositories: InstallationRepository[];
  hasNext: boolean;
}

const header = (res: OctokitResponseLike, name: string): string | null => {
  const v = res.headers[name] ?? res.headers[name.toLowerCase()];
  return v === undefined ? null : String(v);
};

/**
 * The GitHub adapter plus what the scheduled env sync needs to keep its conditional-request state
 * outside the process (src/schedule): export and restore one repository's ETag entries, answer a
 * file from that state without a request, and list the installation's repositories page by page,
 * each page conditional on its own ETag.
 */
export class DurableStateAdapter extends GitHubAdapter {
  /** Requests other than GET made through this adapter (the scheduler's content-creation budget). */
  writeRequests = 0;

  protected override req(route: string, params?: Record<string, unknown>): Promise<OctokitResponseLike> {
    if (!route.startsWith('GET ') && !route.startsWith('HEAD ')) this.writeRequests++;
    return super.req(route, params);
  }

  /**
   * The conditional-request state the cache holds for one repository (ETags of its files, branch
   * refs, directory listings, absent-file markers). Restored after a restart, the next read still goes
   * out with If-None-Match, so a stale entry costs one ordinary 200, never a wrong answer.
   */
  exportConditional(repo: RepoRef): [string, ConditionalEntry][] {
    const needle = `|${repo.owner}/${repo.repo}|`.toLowerCase();
    const prefix = `${this.cacheScope}|`;
    const out: [string, ConditionalEntry][] = [];
    for (const [key, entry] of this.cache.conditional.entries()) {
      if (key.startsWith(prefix) && key.includes(needle)) out.push([key.slice(prefix.length), entry]);
    }
    return out;
  }

  restoreConditional(entries: readonly [string, ConditionalEntry][]): void {
    for (const [key, entry] of entries) this.cache.conditional.set(`${this.cacheScope}|${key}`, entry);
  }

  /**
   * What the restored state says about a file, without asking GitHub: its content, null when it was
   * found absent, undefined when unknown. Only for callers that know from another signal (the
   * repository's `pushed_at`) that nothing was pushed since it was read.
   */
  cachedFile(repo: RepoRef, path: string, ref?: string): FileContent | null | undefined {
    const key = `contents|${repo.owner}/${repo.repo}|${ref ?? ''}|${path}`.toLowerCase();
    if (this.cache.conditional.get(`${this.cacheScope}|absent|${key}`)) return null;
    const hit = this.cache.conditional.get(`${this.cacheScope}|${key}`);
    return hit ? (hit.value as FileContent | null) : undefined;
  }

  /** The default branch learned elsewhere (the installation's repository listing carries it). */
  rememberDefaultBranch(repo: RepoRef, branch: string): void {
    this.defaultBranches.set(`${repo.owner}/${repo.repo}`.toLowerCase(), branch);
  }

  /**
   * One page (100 repositories) of `GET /installation/repositories`, conditional on that page's last
   * ETag: a 304, free against the rate limit, answers `notModified`.
   */
  listInstallationRepositoriesPage(page: number, etag: string | null): Promise<InstallationReposPage> {
    return this.call('metadata', 'list installation repositories', async () => {
      let res: OctokitResponseLike;
      try {
        res = await this.req('GET /installation/repositories', { per_page: 100, page, ...(etag ? { headers: { 'if-none-match': etag } } : {}) });
      } catch (e) {
        if (etag && isNotModified(e)) return { notModified: true, etag, repositories: [], hasNext: false };
        throw e;
      }
      const raw = (res.data?.repositories ?? []) as { full_name: string; default_branch?: string; pushed_at?: string | null; archived?: boolean }[];
      return {
        notModified: false,
        etag: header(res, 'etag'),
        repositories: raw.map((r) => ({ fullName: r.full_name, defaultBranch: r.default_branch ?? 'main', pushedAt: r.pushed_at ?? null, archived: r.archived === true })),
        hasNext: nextLink(header(res, 'link')) !== null,
      };
    });
  }
}
