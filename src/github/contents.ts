/** ContentsPort over REST: default branch, files (conditional, with absent-file tracking), branch protection. */
import type { ContentsPort, FileContent, GitDataPort } from '../ports/index.js';
import { encodePath, type RequestLayer } from './request.js';

export function contentsPort(http: RequestLayer, git: Pick<GitDataPort, 'readBlob'>): Required<ContentsPort> {
  return {
    getDefaultBranch(repo): Promise<string> {
      const key = `${repo.owner}/${repo.repo}`.toLowerCase();
      const cached = http.defaultBranches.get(key);
      if (cached) return Promise.resolve(cached);
      return http.call('metadata', 'read repository', async () => {
        const res = await http.req('GET /repos/{owner}/{repo}', { ...repo });
        const branch = String(res.data.default_branch);
        http.defaultBranches.set(key, branch);
        return branch;
      });
    },

    /** Conditional (ETag): re-checking an unchanged branch answers 304, free against the rate limit. */
    branchProtection(repo, branch): Promise<{ protected: boolean } | null> {
      return http.call('contents', `read branch ${branch}`, () =>
        http.getOrNull(() =>
          http.conditionalGet(`branch|${repo.owner}/${repo.repo}|${branch}`.toLowerCase(), `GET /repos/{owner}/{repo}/branches/${encodePath(branch)}`, { ...repo }, (res) => ({
            protected: (res.data as { protected?: boolean }).protected === true,
          })),
        ),
      );
    },

    /**
     * Conditional (ETag) per path and ref: an unchanged file answers 304, free against the rate limit.
     * A 404 has no ETag; once a file was found absent, later reads ask its directory listing
     * conditionally instead (304 while the directory is unchanged) and read the file only when it appears.
     */
    readFile(repo, path, ref): Promise<FileContent | null> {
      const key = `contents|${repo.owner}/${repo.repo}|${ref ?? ''}|${path}`.toLowerCase();
      const absentKey = `${http.cacheScope}|absent|${key}`;
      const refParam = ref !== undefined ? { ref } : {};
      return http.call('contents', `read ${path}`, async () => {
        if (http.cache.conditional.get(absentKey)) {
          const slash = path.lastIndexOf('/');
          const dir = slash === -1 ? '' : path.slice(0, slash);
          const route = dir === '' ? 'GET /repos/{owner}/{repo}/contents' : `GET /repos/{owner}/{repo}/contents/${encodePath(dir)}`;
          const present = await http.getOrNull(() =>
            http.conditionalGet(`dir|${key}`, route, { ...repo, ...refParam }, (res) =>
              Array.isArray(res.data) && (res.data as { path?: string; type?: string }[]).some((e) => e.path === path && e.type === 'file'),
            ),
          );
          if (!present) return null;
          http.cache.conditional.delete(absentKey);
        }
        const file = await http.getOrNull(() =>
          http.conditionalGet<FileContent | null>(key, `GET /repos/{owner}/{repo}/contents/${encodePath(path)}`, { ...repo, ...refParam }, async (res) => {
            if (Array.isArray(res.data) || res.data?.type !== 'file') return null;
            const sha = String(res.data.sha);
            // Files over 1 MB come without content: read the blob instead.
            const content = res.data.encoding === 'base64' && typeof res.data.content === 'string'
              ? Buffer.from(res.data.content as string, 'base64').toString('utf8')
              : await git.readBlob(repo, sha);
            return { path: String(res.data.path ?? path), content, sha };
          }),
        );
        if (file === null) http.cache.conditional.set(absentKey, { etag: '', value: true });
        return file;
      });
    },
  };
}
