/**
 * Content-addressed git objects with real git SHA-1 hashing (`<type> <len>\0<payload>`), so blob,
 * tree and commit SHAs match what `git hash-object` would compute for the same content.
 */
import { createHash } from 'node:crypto';
import { SandboxHttpError } from './util.js';

export type Mode = '100644' | '100755' | '040000' | '160000' | '120000';
export interface TreeEntry { path: string; mode: Mode; type: 'blob' | 'tree' | 'commit'; sha: string }
export interface GitIdentity { name: string; email: string; date: string }
export interface BlobObject { type: 'blob'; sha: string; content: Buffer }
export interface TreeObject { type: 'tree'; sha: string; entries: TreeEntry[] }
export interface CommitObject { type: 'commit'; sha: string; tree: string; parents: string[]; message: string; author: GitIdentity; committer: GitIdentity }
export type GitObject = BlobObject | TreeObject | CommitObject;

function hashObject(type: string, payload: Buffer): string {
  return createHash('sha1').update(Buffer.concat([Buffer.from(`${type} ${payload.length}\0`), payload])).digest('hex');
}

/** Git orders tree entries by name, comparing directories as if their name ended with "/". */
function gitSortKey(e: TreeEntry): string {
  return e.type === 'tree' ? `${e.path}/` : e.path;
}

function gitDate(iso: string): string {
  return `${Math.floor(Date.parse(iso) / 1000)} +0000`;
}

export interface FlatEntry { mode: Mode; type: 'blob' | 'commit'; sha: string }

export class GitStore {
  private readonly objects = new Map<string, GitObject>();

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  has(sha: string): boolean {
    return this.objects.has(sha);
  }

  blob(sha: string): BlobObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === 'blob' ? o : undefined;
  }

  tree(sha: string): TreeObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === 'tree' ? o : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === 'commit' ? o : undefined;
  }

  putBlob(content: Buffer): BlobObject {
    const sha = hashObject('blob', content);
    const existing = this.blob(sha);
    if (existing) return existing;
    const o: BlobObject = { type: 'blob', sha, content };
    this.objects.set(sha, o);
    return o;
  }

  putTree(entries: TreeEntry[]): TreeObject {
    const sorted = [...entries].sort((a, b) => (gitSortKey(a) < gitSortKey(b) ? -1 : gitSortKey(a) > gitSortKey(b) ? 1 : 0));
    const parts = sorted.map((e) =>
      Buffer.concat([Buffer.from(`${e.mode === '040000' ? '40000' : e.mode} ${e.path}\0`), Buffer.from(e.sha, 'hex')]),
    );
    const sha = hashObject('tree', Buffer.concat(parts));
    const o: TreeObject = { type: 'tree', sha, entries: sorted };
    this.objects.set(sha, o);
    return o;
  }

  putCommit(c: Omit<CommitObject, 'type' | 'sha'>): CommitObject {
    const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`),
      `author ${c.author.name} <${c.author.email}> ${gitDate(c.author.date)}`,
      `committer ${c.committer.name} <${c.committer.email}> ${gitDate(c.committer.date)}`, '', c.message];
    const sha = hashObject('commit', Buffer.from(lines.join('\n')));
    const o: CommitObject = { type: 'commit', sha, ...c };
    this.objects.set(sha, o);
    return o;
  }

  /** All files below a tree, keyed by full path. */
  flatten(treeSha: string, prefix = '', out = new Map<string, FlatEntry>()): Map<string, FlatEntry> {
    const t = this.tree(treeSha);
    if (!t) throw new SandboxHttpError(422, 'Invalid tree info', {});
    for (const e of t.entries) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') this.flatten(e.sha, p, out);
      else out.set(p, { mode: e.mode, type: e.type, sha: e.sha });
    }
    return out;
  }

  /** Builds nested trees from a flat path map and returns the root tree. */
  buildTree(flat: Map<string, FlatEntry>): TreeObject {
    const here: TreeEntry[] = [];
    const dirs = new Map<string, Map<string, FlatEntry>>();
    for (const [path, e] of flat) {
      const slash = path.indexOf('/');
      if (slash < 0) here.push({ path, ...e });
      else {
        const dir = path.slice(0, slash);
        if (!dirs.has(dir)) dirs.set(dir, new Map());
        dirs.get(dir)!.set(path.slice(slash + 1), e);
      }
    }
    for (const [dir, sub] of dirs) here.push({ path: dir, mode: '040000', type: 'tree', sha: this.buildTree(sub).sha });
    return this.putTree(here);
  }

  /** Is `ancestor` reachable from `sha` through parent links (or equal to it)? */
  isAncestor(ancestor: string, sha: string): boolean {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length) {
      const s = stack.pop()!;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commit(s)?.parents ?? []));
    }
    return false;
  }

  /** The blob at `path` in a commit, or undefined. */
  fileAt(commitSha: string, path: string): { sha: string; content: Buffer; mode: Mode } | undefined {
    const c = this.commit(commitSha);
    if (!c) return undefined;
    const e = this.flatten(c.tree).get(path);
    if (!e || e.type !== 'blob') return undefined;
    const b = this.blob(e.sha);
    return b ? { sha: b.sha, content: b.content, mode: e.mode } : undefined;
  }

  /** The tree at a directory path in a commit ('' = root). */
  treeAt(commitSha: string, dirPath: string): TreeObject | undefined {
    const c = this.commit(commitSha);
    if (!c) return undefined;
    let t = this.tree(c.tree);
    for (const part of dirPath.split('/').filter(Boolean)) {
      const e = t?.entries.find((x) => x.path === part && x.type === 'tree');
      t = e ? this.tree(e.sha) : undefined;
    }
    return t;
  }
}
