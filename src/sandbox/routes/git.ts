/** Git data API (blobs, trees, commits, refs with fast-forward checks) and the contents API. */
import { afterBranchMoved } from '../promotion.js';
import type { FlatEntry, GitIdentity, Mode } from '../git.js';
import type { RepoModel } from '../model.js';
import type { RouteContext, RouteDef } from '../router.js';
import { created, noContent, ok } from '../router.js';
import { commitShape, refShape } from '../shapes.js';
import { SandboxHttpError, notFound, requireString, validationFailed } from '../util.js';

const G = '/repos/{owner}/{repo}/git';
const MODES: Mode[] = ['100644', '100755', '040000', '160000', '120000'];

const base64Wrapped = (b: Buffer): string => (b.toString('base64').match(/.{1,60}/g) ?? ['']).join('\n') + '\n';

function treeResponse(ctx: RouteContext, sha: string, recursive: boolean): Record<string, unknown> {
  const { repo, state } = ctx;
  const api = `${state.apiUrl}/repos/${repo.fullName}/git`;
  const entries: Record<string, unknown>[] = [];
  const walk = (treeSha: string, prefix: string): void => {
    for (const e of repo.git.tree(treeSha)!.entries) {
      const path = prefix ? `${prefix}/${e.path}` : e.path;
      entries.push({
        path, mode: e.mode, type: e.type, sha: e.sha,
        ...(e.type === 'blob' ? { size: repo.git.blob(e.sha)?.content.length ?? 0, url: `${api}/blobs/${e.sha}` } : { url: `${api}/trees/${e.sha}` }),
      });
      if (recursive && e.type === 'tree') walk(e.sha, path);
    }
  };
  walk(sha, '');
  return { sha, url: `${api}/trees/${sha}`, tree: entries, truncated: false };
}

function identity(ctx: RouteContext, v: unknown): GitIdentity {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  return {
    name: typeof o.name === 'string' ? o.name : (ctx.actor?.login ?? 'Sandbox'),
    email: typeof o.email === 'string' ? o.email : `${ctx.actor?.login ?? 'sandbox'}@users.noreply.sandbox`,
    date: typeof o.date === 'string' ? new Date(o.date).toISOString().replace(/\.\d{3}Z$/, 'Z') : ctx.state.timestamp(),
  };
}

function normalizeRef(ref: string): string {
  return ref.startsWith('refs/') ? ref : `refs/${ref}`;
}

/** Resolves a branch name, `heads/x`, `refs/heads/x`, a tag or a commit sha to a commit sha. */
export function resolveCommitish(repo: RepoModel, ref: string | null): string | undefined {
  if (!ref) return repo.refs.get(`refs/heads/${repo.defaultBranch}`);
  for (const candidate of [ref, `refs/${ref}`, `refs/heads/${ref}`, `refs/tags/${ref}`]) {
    const sha = repo.refs.get(candidate);
    if (sha) return sha;
  }
  return repo.git.commit(ref) ? ref : undefined;
}

function contentEntry(ctx: RouteContext, path: string, sha: string, type: 'file' | 'dir', size: number, ref: string): Record<string, unknown> {
  const { repo, state } = ctx;
  const url = `${state.apiUrl}/repos/${repo.fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const gitUrl = `${state.apiUrl}/repos/${repo.fullName}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
  const htmlUrl = `${state.url}/${repo.fullName}/${type === 'file' ? 'blob' : 'tree'}/${ref}/${path}`;
  return {
    type, size, name: path.split('/').pop() ?? path, path, sha, url, git_url: gitUrl, html_url: htmlUrl,
    download_url: type === 'file' ? `${state.url}/raw/${repo.fullName}/${ref}/${path}` : null, _links: { self: url, git: gitUrl, html: htmlUrl },
  };
}

function getContents(ctx: RouteContext, path: string): ReturnType<RouteDef['handler']> {
  const { repo } = ctx;
  const refName = ctx.query.get('ref') ?? repo.defaultBranch;
  const sha = resolveCommitish(repo, refName);
  if (!sha) throw new SandboxHttpError(404, `No commit found for the ref ${refName}`);
  const file = path ? repo.git.fileAt(sha, path) : undefined;
  if (file) return ok({ ...contentEntry(ctx, path, file.sha, 'file', file.content.length, refName), encoding: 'base64', content: base64Wrapped(file.content) });
  const tree = repo.git.treeAt(sha, path);
  if (!tree) throw notFound();
  return ok(tree.entries.map((e) => {
    const p = path ? `${path}/${e.path}` : e.path;
    return contentEntry(ctx, p, e.sha, e.type === 'tree' ? 'dir' : 'file', e.type === 'blob' ? (repo.git.blob(e.sha)?.content.length ?? 0) : 0, refName);
  }));
}

/** Commits a single-file change on a branch for the contents API; checks `sha` like GitHub (422 missing, 409 mismatch). */
function writeContents(ctx: RouteContext, path: string, content: Buffer | null): { status: number; body: unknown } {
  const { repo, state } = ctx;
  const message = requireString(ctx.body, 'message');
  const branch = typeof ctx.body.branch === 'string' ? ctx.body.branch : repo.defaultBranch;
  const head = repo.refs.get(`refs/heads/${branch}`);
  if (!head) throw new SandboxHttpError(404, `Branch ${branch} not found`);
  const current = repo.git.fileAt(head, path);
  const given = typeof ctx.body.sha === 'string' ? ctx.body.sha : undefined;
  if (current && !given) throw new SandboxHttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
  if (current && given !== current.sha) throw new SandboxHttpError(409, `${path} does not match ${given}`);
  if (!current && content === null) throw notFound();
  const flat = new Map<string, FlatEntry>(repo.git.flatten(repo.git.commit(head)!.tree));
  let blobSha: string | null = null;
  if (content === null) flat.delete(path);
  else {
    blobSha = repo.git.putBlob(content).sha;
    flat.set(path, { mode: current?.mode ?? '100644', type: 'blob', sha: blobSha });
  }
  const tree = repo.git.buildTree(flat);
  const author = identity(ctx, ctx.body.author ?? ctx.body.committer);
  const commit = repo.git.putCommit({ tree: tree.sha, parents: [head], message, author, committer: identity(ctx, ctx.body.committer ?? ctx.body.author) });
  repo.refs.set(`refs/heads/${branch}`, commit.sha);
  repo.pushed_at = state.timestamp();
  afterBranchMoved(state, repo, `refs/heads/${branch}`);
  const body = {
    content: content === null ? null : contentEntry(ctx, path, blobSha!, 'file', content.length, branch),
    commit: commitShape(state, repo, commit),
  };
  return { status: content !== null && !current ? 201 : 200, body };
}

export const gitRoutes: RouteDef[] = [
  {
    method: 'POST', path: `${G}/blobs`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const content = requireString(ctx.body, 'content');
      const encoding = ctx.body.encoding === 'base64' ? 'base64' : 'utf-8';
      const blob = ctx.repo.git.putBlob(Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
      return created({ sha: blob.sha, url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/git/blobs/${blob.sha}` });
    },
  },
  {
    method: 'GET', path: `${G}/blobs/{file_sha}`, perm: ['contents', 'read'],
    handler: (ctx) => {
      const b = ctx.repo.git.blob(ctx.params.file_sha!);
      if (!b) throw notFound();
      return ok({ sha: b.sha, node_id: `B_${b.sha}`, size: b.content.length, url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/git/blobs/${b.sha}`, content: base64Wrapped(b.content), encoding: 'base64' });
    },
  },
  {
    method: 'POST', path: `${G}/trees`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const { git } = ctx.repo;
      if (!Array.isArray(ctx.body.tree)) throw new SandboxHttpError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.');
      let flat = new Map<string, FlatEntry>();
      if (typeof ctx.body.base_tree === 'string') {
        if (!git.tree(ctx.body.base_tree)) throw new SandboxHttpError(422, 'Invalid tree info', { errors: ['base_tree is not a valid tree oid'] });
        flat = git.flatten(ctx.body.base_tree);
      }
      for (const raw of ctx.body.tree as Record<string, unknown>[]) {
        const path = typeof raw.path === 'string' ? raw.path.replace(/^\/+|\/+$/g, '') : '';
        const mode = raw.mode as Mode;
        if (!path || !MODES.includes(mode)) throw new SandboxHttpError(422, 'Invalid tree info', { errors: [`tree.path and tree.mode are required (got ${JSON.stringify(raw.path)}, ${JSON.stringify(raw.mode)})`] });
        for (const k of [...flat.keys()]) if (k === path || k.startsWith(`${path}/`)) flat.delete(k);
        if (raw.sha === null) continue;
        if (typeof raw.content === 'string') {
          flat.set(path, { mode, type: 'blob', sha: git.putBlob(Buffer.from(raw.content)).sha });
        } else if (typeof raw.sha === 'string') {
          const obj = git.get(raw.sha);
          if (raw.type === 'tree' || obj?.type === 'tree') {
            if (obj?.type !== 'tree') throw new SandboxHttpError(422, 'Invalid tree info', { errors: [`tree.sha ${raw.sha} is not a valid tree`] });
            for (const [p, e] of git.flatten(raw.sha)) flat.set(`${path}/${p}`, e);
          } else if (raw.type === 'commit') {
            flat.set(path, { mode: '160000', type: 'commit', sha: raw.sha });
          } else {
            if (obj?.type !== 'blob') throw new SandboxHttpError(422, 'Invalid tree info', { errors: [`tree.sha ${raw.sha} is not a valid blob`] });
            flat.set(path, { mode, type: 'blob', sha: raw.sha });
          }
        } else {
          throw new SandboxHttpError(422, 'Invalid tree info', { errors: ['tree.sha or tree.content is required'] });
        }
      }
      const tree = git.buildTree(flat);
      return created(treeResponse(ctx, tree.sha, false));
    },
  },
  {
    method: 'GET', path: `${G}/trees/{tree_sha}`, perm: ['contents', 'read'],
    handler: (ctx) => {
      const ref = ctx.params.tree_sha!;
      let sha = ctx.repo.git.tree(ref) ? ref : undefined;
      const commit = sha ? undefined : resolveCommitish(ctx.repo, ref);
      if (commit) sha = ctx.repo.git.commit(commit)?.tree;
      if (!sha) throw notFound();
      const rec = ctx.query.get('recursive');
      return ok(treeResponse(ctx, sha, !!rec && rec !== '0' && rec !== 'false'));
    },
  },
  {
    method: 'POST', path: `${G}/commits`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const { git } = ctx.repo;
      const message = requireString(ctx.body, 'message');
      const tree = requireString(ctx.body, 'tree');
      if (!git.tree(tree)) throw new SandboxHttpError(422, 'Tree SHA does not exist');
      const parents = Array.isArray(ctx.body.parents) ? (ctx.body.parents as unknown[]).map(String) : [];
      for (const p of parents) if (!git.commit(p)) throw new SandboxHttpError(422, 'Parent SHA does not exist or is not a commit object');
      const author = identity(ctx, ctx.body.author);
      const commit = git.putCommit({ tree, parents, message, author, committer: ctx.body.committer ? identity(ctx, ctx.body.committer) : author });
      return created(commitShape(ctx.state, ctx.repo, commit));
    },
  },
  {
    method: 'GET', path: `${G}/commits/{commit_sha}`, perm: ['contents', 'read'],
    handler: (ctx) => {
      const c = ctx.repo.git.commit(ctx.params.commit_sha!);
      if (!c) throw notFound();
      return ok(commitShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'GET', path: `${G}/ref/{ref+}`, perm: ['contents', 'read'],
    handler: (ctx) => {
      const ref = normalizeRef(ctx.params.ref!);
      const sha = ctx.repo.refs.get(ref);
      if (!sha) throw notFound();
      return ok(refShape(ctx.state, ctx.repo, ref, sha));
    },
  },
  {
    method: 'GET', path: `${G}/matching-refs/{ref+}`, perm: ['contents', 'read'],
    handler: (ctx) => {
      const prefix = normalizeRef(ctx.params.ref!);
      const refs = [...ctx.repo.refs].filter(([r]) => r.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b));
      return ok(refs.map(([r, sha]) => refShape(ctx.state, ctx.repo, r, sha)));
    },
  },
  {
    method: 'POST', path: `${G}/refs`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const ref = requireString(ctx.body, 'ref');
      const sha = requireString(ctx.body, 'sha');
      if (!ref.startsWith('refs/') || ref.split('/').length < 3) throw new SandboxHttpError(422, `${ref} is not a valid ref name.`);
      if (ctx.repo.refs.has(ref)) throw new SandboxHttpError(422, 'Reference already exists');
      if (!ctx.repo.git.commit(sha)) throw new SandboxHttpError(422, 'Object does not exist');
      ctx.repo.refs.set(ref, sha);
      // Creating a branch is a push on GitHub: the repository's pushed_at moves.
      if (ref.startsWith('refs/heads/')) ctx.repo.pushed_at = ctx.state.timestamp();
      afterBranchMoved(ctx.state, ctx.repo, ref);
      return created(refShape(ctx.state, ctx.repo, ref, sha));
    },
  },
  {
    method: 'PATCH', path: `${G}/refs/{ref+}`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const ref = normalizeRef(ctx.params.ref!);
      const sha = requireString(ctx.body, 'sha');
      const current = ctx.repo.refs.get(ref);
      if (!current) throw new SandboxHttpError(422, 'Reference does not exist');
      if (!ctx.repo.git.commit(sha)) throw new SandboxHttpError(422, 'Object does not exist');
      if (ctx.body.force !== true && !ctx.repo.git.isAncestor(current, sha)) throw new SandboxHttpError(422, 'Update is not a fast forward');
      ctx.repo.refs.set(ref, sha);
      ctx.repo.pushed_at = ctx.state.timestamp();
      afterBranchMoved(ctx.state, ctx.repo, ref);
      return ok(refShape(ctx.state, ctx.repo, ref, sha));
    },
  },
  {
    method: 'DELETE', path: `${G}/refs/{ref+}`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const ref = normalizeRef(ctx.params.ref!);
      if (!ctx.repo.refs.delete(ref)) throw new SandboxHttpError(422, 'Reference does not exist');
      return noContent();
    },
  },
  { method: 'GET', path: '/repos/{owner}/{repo}/contents', perm: ['contents', 'read'], handler: (ctx) => getContents(ctx, '') },
  { method: 'GET', path: '/repos/{owner}/{repo}/contents/{path+}', perm: ['contents', 'read'], handler: (ctx) => getContents(ctx, ctx.params.path!.replace(/\/+$/, '')) },
  {
    method: 'PUT', path: '/repos/{owner}/{repo}/contents/{path+}', perm: ['contents', 'write'],
    handler: (ctx) => {
      const content = requireString(ctx.body, 'content');
      return writeContents(ctx, ctx.params.path!, Buffer.from(content, 'base64'));
    },
  },
  {
    method: 'DELETE', path: '/repos/{owner}/{repo}/contents/{path+}', perm: ['contents', 'write'],
    handler: (ctx) => {
      if (typeof ctx.body.sha !== 'string') throw validationFailed('Contents', 'sha');
      return writeContents(ctx, ctx.params.path!, null);
    },
  },
];

