/**
 * GitDataPort over REST: refs, commits, trees and blobs (immutable objects cached by sha), pull
 * requests, and `proposeFile` (one file on a proposal branch, one pull request).
 */
import { RefConflictError, type GitDataPort, type GitTreeEntry } from '../ports/index.js';
import { gitBlobId } from './cache.js';
import { githubMessage, isNotFound, statusOf } from './errors.js';
import { PER_PAGE, encodePath, type RequestLayer } from './request.js';
import type { RepoRef } from '../core/schemas/index.js';

/** Files inlined into a tree call up to this size; larger ones become blobs first. */
const INLINE_CONTENT_MAX = 256 * 1024;

export type GitData = Required<Omit<GitDataPort, 'cacheScope'>>;

export function gitDataPort(http: RequestLayer): GitData {
  const treeListing = async (repo: RepoRef, treeish: string): Promise<{ sha: string; entries: { path: string; sha: string }[] }> => {
    const res = await http.req('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { ...repo, tree_sha: treeish, recursive: '1' });
    if (res.data.truncated) throw new Error(`tree ${treeish} of ${repo.owner}/${repo.repo} is too large to list in one request (GitHub truncated it)`);
    const entries = (res.data.tree as { path: string; type: string; sha: string }[]).filter((e) => e.type === 'blob').map((e) => ({ path: e.path, sha: e.sha }));
    return { sha: String(res.data.sha ?? treeish), entries };
  };

  const getCommitTree = (repo: RepoRef, commitSha: string): Promise<string> => {
    const cached = http.cache.commits.get(commitSha);
    if (cached) return Promise.resolve(cached);
    return http.call('contents', 'read commit', async () => {
      const res = await http.req('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...repo, commit_sha: commitSha });
      const tree = String(res.data.tree.sha);
      http.cache.commits.set(commitSha, tree);
      return tree;
    });
  };

  const createBlob = (repo: RepoRef, content: string): Promise<string> =>
    http.call('contents', 'create blob', async () => {
      const res = await http.req('POST /repos/{owner}/{repo}/git/blobs', { ...repo, content, encoding: 'utf-8' });
      const sha = String(res.data.sha);
      http.cache.blobs.set(sha, content);
      return sha;
    });

  return {
    /** Conditional (ETag): a branch that did not move answers 304, free against the rate limit. */
    getBranchHead(repo, branch): Promise<string | null> {
      const key = `ref|${repo.owner}/${repo.repo}|${branch}`.toLowerCase();
      return http.call('contents', `read branch ${branch}`, async () => {
        try {
          return await http.conditionalGet(key, `GET /repos/{owner}/{repo}/git/ref/heads/${encodePath(branch)}`, { ...repo }, (res) => String(res.data.object.sha));
        } catch (e) {
          // 404: no such branch; 409: the repository is empty.
          if (isNotFound(e) || statusOf(e) === 409) return null;
          throw e;
        }
      });
    },

    /** Commits never change: their tree is cached by commit sha. */
    getCommitTree,

    /** Trees never change: listings are cached by tree sha. */
    listTree(repo, treeSha) {
      const cached = http.cache.trees.get(treeSha);
      if (cached) return Promise.resolve(cached.entries.map((e) => ({ ...e })));
      return http.call('contents', 'read tree', async () => {
        const { entries } = await treeListing(repo, treeSha);
        http.cache.trees.set(treeSha, { tree: treeSha, entries });
        return entries.map((e) => ({ ...e }));
      });
    },

    /** One request instead of two: the trees endpoint resolves a commit sha to its tree. */
    readCommitTree(repo, commitSha) {
      const tree = http.cache.commits.get(commitSha);
      const listed = tree ? http.cache.trees.get(tree) : undefined;
      if (tree && listed) return Promise.resolve({ tree, entries: listed.entries.map((e) => ({ ...e })) });
      return http.call('contents', 'read tree', async () => {
        const res = await treeListing(repo, commitSha);
        // The answer names the tree it listed; should a server echo the commit sha instead, ask the commit.
        const treeSha = res.sha !== commitSha ? res.sha : await getCommitTree(repo, commitSha);
        http.cache.commits.set(commitSha, treeSha);
        http.cache.trees.set(treeSha, { tree: treeSha, entries: res.entries });
        return { tree: treeSha, entries: res.entries.map((e) => ({ ...e })) };
      });
    },

    /** Blobs never change: contents are cached by blob sha. */
    readBlob(repo, blobSha) {
      const cached = http.cache.blobs.get(blobSha);
      if (cached !== undefined) return Promise.resolve(cached);
      return http.call('contents', 'read blob', async () => {
        const res = await http.req('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', { ...repo, file_sha: blobSha });
        const raw = String(res.data.content ?? '');
        const content = res.data.encoding === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
        http.cache.blobs.set(blobSha, content);
        return content;
      });
    },

    createBlob,

    /**
     * Entries with `content` up to 256 KiB are written by the tree call itself (GitHub creates their
     * blobs), saving one request per file; larger ones become blobs first.
     */
    createTree(repo, baseTree, entries: GitTreeEntry[]) {
      return http.call('contents', 'create tree', async () => {
        const tree: Record<string, unknown>[] = [];
        for (const e of entries) {
          if (e.content === undefined) {
            tree.push({ path: e.path, mode: e.mode, type: e.type, sha: e.sha });
          } else if (Buffer.byteLength(e.content, 'utf8') <= INLINE_CONTENT_MAX) {
            tree.push({ path: e.path, mode: e.mode, type: e.type, content: e.content });
            // GitHub stores the bytes as given: its blob id is git's, computable here.
            http.cache.blobs.set(gitBlobId(e.content), e.content);
          } else {
            tree.push({ path: e.path, mode: e.mode, type: e.type, sha: await createBlob(repo, e.content) });
          }
        }
        const res = await http.req('POST /repos/{owner}/{repo}/git/trees', { ...repo, ...(baseTree ? { base_tree: baseTree } : {}), tree });
        return String(res.data.sha);
      });
    },

    createCommit(repo, message, tree, parents) {
      return http.call('contents', 'create commit', async () => {
        const res = await http.req('POST /repos/{owner}/{repo}/git/commits', { ...repo, message, tree, parents });
        const sha = String(res.data.sha);
        http.cache.commits.set(sha, tree);
        return sha;
      });
    },

    createBranch(repo, branch, commitSha) {
      return http.call('contents', `create branch ${branch}`, async () => {
        try {
          await http.req('POST /repos/{owner}/{repo}/git/refs', { ...repo, ref: `refs/heads/${branch}`, sha: commitSha });
        } catch (e) {
          if (statusOf(e) === 422 && /already exists/i.test(githubMessage(e))) throw new RefConflictError(`refs/heads/${branch}`);
          throw e;
        }
      });
    },

    updateBranch(repo, branch, commitSha) {
      return http.call('contents', `update branch ${branch}`, async () => {
        try {
          await http.req(`PATCH /repos/{owner}/{repo}/git/refs/heads/${encodePath(branch)}`, { ...repo, sha: commitSha, force: false });
        } catch (e) {
          const status = statusOf(e);
          const msg = githubMessage(e);
          if ((status === 422 && /fast.forward|reference update failed|cannot lock ref/i.test(msg)) || status === 409) {
            throw new RefConflictError(`refs/heads/${branch}`);
          }
          throw e;
        }
      });
    },

    createPullRequest(repo, pr) {
      return http.call('pull_requests', `open pull request from ${pr.head}`, async () => {
        const res = await http.req('POST /repos/{owner}/{repo}/pulls', { ...repo, title: pr.title, body: pr.body, head: pr.head, base: pr.base });
        return { number: res.data.number as number, html_url: res.data.html_url as string };
      });
    },

    findOpenPullRequest(repo, head, base) {
      return http.call('pull_requests', `find pull request from ${head}`, async () => {
        const res = await http.req('GET /repos/{owner}/{repo}/pulls', { ...repo, head: head.includes(':') ? head : `${repo.owner}:${head}`, base, state: 'open', per_page: PER_PAGE });
        const pr = (res.data as { number: number; html_url: string }[])[0];
        return pr ? { number: pr.number, html_url: pr.html_url } : null;
      });
    },
  };
}
