/**
 * An in-memory GitDataPort for tests: content-addressed blobs (real git blob ids), flat trees,
 * commits with parents, and refs that only move by fast-forward (like GitHub's `force: false`).
 * Every call yields to the event loop first, so concurrent writers genuinely interleave.
 */
import { createHash } from 'node:crypto';
import { RefConflictError, type GitDataPort, type GitTreeEntry } from '../../src/ports/index.js';
import type { RepoRef } from '../../src/core/schemas/index.js';

interface Commit { tree: string; parents: string[]; message: string }

const sha1 = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex');
const blobSha = (content: string): string => {
  const body = Buffer.from(content, 'utf8');
  return sha1(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body]));
};
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class MemoryGit implements GitDataPort {
  readonly blobs = new Map<string, string>();
  readonly trees = new Map<string, Map<string, string>>();
  readonly commits = new Map<string, Commit>();
  readonly refs = new Map<string, string>();
  readonly pulls: { number: number; html_url: string; head: string; base: string; title: string; body: string }[] = [];
  /** Calls per method name, and blob reads per path-less sha. */
  readonly calls: Record<string, number> = {};
  readonly blobReads: string[] = [];
  /** Runs before a ref moves (tests use it to sneak in a competing commit). */
  beforeRefUpdate: ((branch: string) => Promise<void> | void) | null = null;
  private counter = 0;

  private async enter(name: string): Promise<void> {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
    await tick();
  }

  async getBranchHead(_repo: RepoRef, branch: string): Promise<string | null> {
    await this.enter('getBranchHead');
    return this.refs.get(branch) ?? null;
  }

  async getCommitTree(_repo: RepoRef, commitSha: string): Promise<string> {
    await this.enter('getCommitTree');
    const c = this.commits.get(commitSha);
    if (!c) throw Object.assign(new Error(`no commit ${commitSha}`), { status: 404 });
    return c.tree;
  }

  async listTree(_repo: RepoRef, treeSha: string): Promise<{ path: string; sha: string }[]> {
    await this.enter('listTree');
    const t = this.trees.get(treeSha);
    if (!t) throw Object.assign(new Error(`no tree ${treeSha}`), { status: 404 });
    return [...t].map(([path, sha]) => ({ path, sha }));
  }

  /** GitHub's trees endpoint takes a commit sha: the tree and its listing in one call. */
  async readCommitTree(_repo: RepoRef, commitSha: string): Promise<{ tree: string; entries: { path: string; sha: string }[] }> {
    await this.enter('readCommitTree');
    const c = this.commits.get(commitSha);
    const t = c && this.trees.get(c.tree);
    if (!c || !t) throw Object.assign(new Error(`no commit ${commitSha}`), { status: 404 });
    return { tree: c.tree, entries: [...t].map(([path, sha]) => ({ path, sha })) };
  }

  async readBlob(_repo: RepoRef, sha: string): Promise<string> {
    await this.enter('readBlob');
    this.blobReads.push(sha);
    const b = this.blobs.get(sha);
    if (b === undefined) throw Object.assign(new Error(`no blob ${sha}`), { status: 404 });
    return b;
  }

  async createBlob(_repo: RepoRef, content: string): Promise<string> {
    await this.enter('createBlob');
    const sha = blobSha(content);
    this.blobs.set(sha, content);
    return sha;
  }

  async createTree(_repo: RepoRef, baseTree: string | null, entries: GitTreeEntry[]): Promise<string> {
    await this.enter('createTree');
    const base = baseTree === null ? new Map<string, string>() : this.trees.get(baseTree);
    if (!base) throw Object.assign(new Error(`no tree ${baseTree}`), { status: 422 });
    const tree = new Map(base);
    for (const e of entries) {
      if (e.content !== undefined) {
        // Like GitHub's `content` tree entries: the tree call writes the blob itself.
        const sha = blobSha(e.content);
        this.blobs.set(sha, e.content);
        tree.set(e.path, sha);
      } else if (e.sha === null) tree.delete(e.path);
      else {
        if (!this.blobs.has(e.sha)) throw Object.assign(new Error(`no blob ${e.sha}`), { status: 422 });
        tree.set(e.path, e.sha);
      }
    }
    const sorted = new Map([...tree].sort(([a], [b]) => a.localeCompare(b)));
    const sha = sha1(`tree ${JSON.stringify([...sorted])}`);
    this.trees.set(sha, sorted);
    return sha;
  }

  async createCommit(_repo: RepoRef, message: string, tree: string, parents: string[]): Promise<string> {
    await this.enter('createCommit');
    if (!this.trees.has(tree)) throw Object.assign(new Error(`no tree ${tree}`), { status: 422 });
    const sha = sha1(`commit ${tree} ${parents.join(',')} ${message} ${this.counter++}`);
    this.commits.set(sha, { tree, parents, message });
    return sha;
  }

  async createBranch(_repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    await this.enter('createBranch');
    await this.beforeRefUpdate?.(branch);
    if (this.refs.has(branch)) throw new RefConflictError(`refs/heads/${branch}`);
    this.refs.set(branch, commitSha);
  }

  async updateBranch(_repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    await this.enter('updateBranch');
    await this.beforeRefUpdate?.(branch);
    const current = this.refs.get(branch);
    if (current === undefined) throw Object.assign(new Error('Reference does not exist'), { status: 422 });
    if (!this.isAncestor(current, commitSha)) throw new RefConflictError(`refs/heads/${branch}`);
    this.refs.set(branch, commitSha);
  }

  async createPullRequest(_repo: RepoRef, pr: { title: string; body: string; head: string; base: string }): Promise<{ number: number; html_url: string }> {
    await this.enter('createPullRequest');
    const number = this.pulls.length + 1;
    const created = { ...pr, number, html_url: `https://github.test/pull/${number}` };
    this.pulls.push(created);
    return { number, html_url: created.html_url };
  }

  async findOpenPullRequest(_repo: RepoRef, head: string, base: string): Promise<{ number: number; html_url: string } | null> {
    await this.enter('findOpenPullRequest');
    const pr = this.pulls.find((p) => p.head === head && p.base === base);
    return pr ? { number: pr.number, html_url: pr.html_url } : null;
  }

  /** Is `ancestor` reachable from `sha` through parents? */
  isAncestor(ancestor: string, sha: string): boolean {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length) {
      const s = stack.pop() as string;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commits.get(s)?.parents ?? []));
    }
    return false;
  }

  // ---- test helpers (synchronous, bypassing the port) ----

  /** Files on a branch: path -> content. */
  filesOf(branch: string): Record<string, string> {
    const head = this.refs.get(branch);
    if (!head) return {};
    const tree = this.trees.get(this.commits.get(head)?.tree ?? '') ?? new Map<string, string>();
    return Object.fromEntries([...tree].map(([p, sha]) => [p, this.blobs.get(sha) ?? '']));
  }

  /** Commits a file change directly on a branch (simulates a hand edit or another writer). */
  putFile(branch: string, path: string, content: string): string {
    const head = this.refs.get(branch);
    const base = head ? this.trees.get(this.commits.get(head)?.tree ?? '') : new Map<string, string>();
    const tree = new Map(base);
    const bsha = blobSha(content);
    this.blobs.set(bsha, content);
    tree.set(path, bsha);
    const tsha = sha1(`tree ${JSON.stringify([...tree].sort(([a], [b]) => a.localeCompare(b)))}`);
    this.trees.set(tsha, tree);
    const csha = sha1(`commit ${tsha} ${head ?? ''} hand edit ${this.counter++}`);
    this.commits.set(csha, { tree: tsha, parents: head ? [head] : [], message: 'hand edit' });
    this.refs.set(branch, csha);
    return csha;
  }

  /** Number of commits reachable from a branch. */
  historyLength(branch: string): number {
    let n = 0;
    let s = this.refs.get(branch);
    while (s) {
      n++;
      s = this.commits.get(s)?.parents[0];
    }
    return n;
  }
}
