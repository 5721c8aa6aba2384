/** Issues and comments, pull requests, check runs. */
import type { CheckRunModel, IssueModel } from '../model.js';
import type { RouteContext, RouteDef } from '../router.js';
import { created, ok } from '../router.js';
import { checkRunShape, commentShape, issueShape, pullShape } from '../shapes.js';
import { SandboxHttpError, notFound, validationFailed } from '../util.js';
import { resolveCommitish } from './git.js';
import { actorLogin, arrayList, intParam, wrappedList } from './helpers.js';

const I = '/repos/{owner}/{repo}/issues';

function issueOf(ctx: RouteContext, param = 'issue_number'): IssueModel {
  const i = ctx.repo.issues.get(intParam(ctx, param));
  if (!i) throw notFound();
  return i;
}

function labelNames(v: unknown): string[] {
  return Array.isArray(v) ? v.map((l) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name ?? ''))).filter(Boolean) : [];
}

function sortDir<T extends { created_at: string; updated_at: string }>(ctx: RouteContext, items: T[], defaultDir: 'asc' | 'desc'): T[] {
  const field = ctx.query.get('sort') === 'updated' ? 'updated_at' : 'created_at';
  const dir = (ctx.query.get('direction') ?? defaultDir) === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => (a[field] < b[field] ? -dir : a[field] > b[field] ? dir : 0));
}

export const issueRoutes: RouteDef[] = [
  {
    method: 'GET', path: I, perm: ['issues', 'read'],
    handler: (ctx) => {
      const state = ctx.query.get('state') ?? 'open';
      const labels = (ctx.query.get('labels') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const since = ctx.query.get('since');
      const creator = ctx.query.get('creator');
      let all = [...ctx.repo.issues.values()].filter((i) => (state === 'all' || i.state === state)
        && labels.every((l) => i.labels.includes(l)) && (!since || i.updated_at >= since) && (!creator || i.user === creator));
      all = sortDir(ctx, all, 'desc');
      return arrayList(ctx, all, (i) => issueShape(ctx.state, ctx.repo, i));
    },
  },
  {
    method: 'POST', path: I, perm: ['issues', 'write'],
    handler: (ctx) => {
      if (typeof ctx.body.title !== 'string' || !ctx.body.title) throw validationFailed('Issue', 'title');
      const issue = ctx.state.createIssue(ctx.repo.owner, ctx.repo.name, {
        title: ctx.body.title, body: typeof ctx.body.body === 'string' ? ctx.body.body : null, labels: labelNames(ctx.body.labels),
        assignees: Array.isArray(ctx.body.assignees) ? ctx.body.assignees.map(String) : [], user: actorLogin(ctx),
      });
      return created(issueShape(ctx.state, ctx.repo, issue));
    },
  },
  // Comment routes before `{issue_number}` so "comments" is never read as an issue number.
  {
    method: 'GET', path: `${I}/comments/{comment_id}`, perm: ['issues', 'read'],
    handler: (ctx) => {
      const c = ctx.repo.comments.get(intParam(ctx, 'comment_id'));
      if (!c) throw notFound();
      return ok(commentShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'PATCH', path: `${I}/comments/{comment_id}`, perm: ['issues', 'write'],
    handler: (ctx) => {
      const c = ctx.repo.comments.get(intParam(ctx, 'comment_id'));
      if (!c) throw notFound();
      if (typeof ctx.body.body !== 'string') throw validationFailed('IssueComment', 'body');
      c.body = ctx.body.body;
      c.updated_at = ctx.state.timestamp();
      return ok(commentShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'DELETE', path: `${I}/comments/{comment_id}`, perm: ['issues', 'write'],
    handler: (ctx) => {
      if (!ctx.repo.comments.delete(intParam(ctx, 'comment_id'))) throw notFound();
      return { status: 204 };
    },
  },
  { method: 'GET', path: `${I}/{issue_number}`, perm: ['issues', 'read'], handler: (ctx) => ok(issueShape(ctx.state, ctx.repo, issueOf(ctx))) },
  {
    method: 'PATCH', path: `${I}/{issue_number}`, perm: ['issues', 'write'],
    handler: (ctx) => {
      const i = issueOf(ctx);
      const b = ctx.body;
      if (typeof b.title === 'string') i.title = b.title;
      if (typeof b.body === 'string' || b.body === null) i.body = b.body as string | null;
      if (b.labels !== undefined) i.labels = labelNames(b.labels);
      if (Array.isArray(b.assignees)) i.assignees = b.assignees.map(String);
      if (b.state === 'open' || b.state === 'closed') {
        if (b.state !== i.state) i.closed_at = b.state === 'closed' ? ctx.state.timestamp() : null;
        i.state = b.state;
        i.state_reason = b.state === 'closed' ? (typeof b.state_reason === 'string' ? b.state_reason : 'completed') : (i.state_reason ? 'reopened' : null);
      } else if (b.state !== undefined) {
        throw validationFailed('Issue', 'state', 'invalid');
      }
      i.updated_at = ctx.state.timestamp();
      return ok(issueShape(ctx.state, ctx.repo, i));
    },
  },
  {
    method: 'GET', path: `${I}/{issue_number}/comments`, perm: ['issues', 'read'],
    handler: (ctx) => {
      const i = issueOf(ctx);
      const since = ctx.query.get('since');
      const all = [...ctx.repo.comments.values()].filter((c) => c.issueNumber === i.number && (!since || c.updated_at >= since)).sort((a, b) => a.id - b.id);
      return arrayList(ctx, all, (c) => commentShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'POST', path: `${I}/{issue_number}/comments`, perm: ['issues', 'write'],
    handler: (ctx) => {
      const i = issueOf(ctx);
      if (typeof ctx.body.body !== 'string' || !ctx.body.body) throw validationFailed('IssueComment', 'body');
      const c = ctx.state.createComment(ctx.repo.owner, ctx.repo.name, i.number, ctx.body.body, actorLogin(ctx));
      return created(commentShape(ctx.state, ctx.repo, c));
    },
  },
];

export const pullRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/repos/{owner}/{repo}/pulls', perm: ['pull_requests', 'read'],
    handler: (ctx) => {
      const state = ctx.query.get('state') ?? 'open';
      const head = ctx.query.get('head');
      const base = ctx.query.get('base');
      const all = [...ctx.repo.pulls.values()].filter((p) => {
        const i = ctx.repo.issues.get(p.number)!;
        if (state !== 'all' && i.state !== state) return false;
        if (head && `${p.headRepoFullName.split('/')[0]}:${p.headRef}` !== head) return false;
        if (base && p.baseRef !== base) return false;
        return true;
      }).sort((a, b) => b.number - a.number);
      return arrayList(ctx, all, (p) => pullShape(ctx.state, ctx.repo, p));
    },
  },
  {
    method: 'POST', path: '/repos/{owner}/{repo}/pulls', perm: ['pull_requests', 'write'],
    handler: (ctx) => {
      const { title, head, base, body } = ctx.body;
      if (typeof head !== 'string') throw validationFailed('PullRequest', 'head');
      if (typeof base !== 'string') throw validationFailed('PullRequest', 'base');
      if (typeof title !== 'string') throw validationFailed('PullRequest', 'title');
      const headBranch = head.includes(':') ? head.split(':')[1]! : head;
      const headSha = ctx.repo.refs.get(`refs/heads/${headBranch}`);
      if (!headSha) throw validationFailed('PullRequest', 'head', 'invalid');
      if (!ctx.repo.refs.has(`refs/heads/${base}`)) throw validationFailed('PullRequest', 'base', 'invalid');
      const open = [...ctx.repo.pulls.values()].find((p) => p.headRef === headBranch && p.baseRef === base && ctx.repo.issues.get(p.number)!.state === 'open');
      if (open) throw validationFailed('PullRequest', 'head', 'custom', `A pull request already exists for ${ctx.repo.owner}:${headBranch}.`);
      const pr = ctx.state.createPullRequest(ctx.repo.owner, ctx.repo.name, { headBranch, headSha, baseBranch: base, title, body: typeof body === 'string' ? body : '', user: actorLogin(ctx) });
      return created(pullShape(ctx.state, ctx.repo, pr));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}', perm: ['pull_requests', 'read'],
    handler: (ctx) => {
      const p = ctx.repo.pulls.get(intParam(ctx, 'pull_number'));
      if (!p) throw notFound();
      return ok(pullShape(ctx.state, ctx.repo, p));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', perm: ['pull_requests', 'read'],
    handler: (ctx) => {
      const sha = resolveCommitish(ctx.repo, ctx.params.commit_sha!) ?? ctx.params.commit_sha!;
      const all = [...ctx.repo.pulls.values()].filter((p) => p.headSha === sha && !p.fromFork).sort((a, b) => b.number - a.number);
      return arrayList(ctx, all, (p) => pullShape(ctx.state, ctx.repo, p));
    },
  },
];

function checkRunPatch(body: Record<string, unknown>): Partial<CheckRunModel> {
  const out: Partial<CheckRunModel> = {};
  for (const k of ['name', 'status', 'conclusion', 'started_at', 'completed_at', 'details_url', 'external_id'] as const) {
    if (typeof body[k] === 'string') (out as Record<string, unknown>)[k] = body[k];
  }
  if (body.output && typeof body.output === 'object') {
    const o = body.output as Record<string, unknown>;
    out.output = { title: (o.title as string) ?? null, summary: (o.summary as string) ?? null, text: (o.text as string) ?? null, annotations_count: Array.isArray(o.annotations) ? o.annotations.length : 0 };
  }
  return out;
}

const STATUSES = ['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending'];
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'];

function validateCheck(c: Partial<CheckRunModel>): void {
  if (c.status && !STATUSES.includes(c.status)) throw validationFailed('CheckRun', 'status', 'invalid');
  if (c.conclusion && !CONCLUSIONS.includes(c.conclusion)) throw validationFailed('CheckRun', 'conclusion', 'invalid');
  if (c.status === 'completed' && !c.conclusion) throw new SandboxHttpError(422, 'Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.');
}

export const checkRoutes: RouteDef[] = [
  {
    method: 'POST', path: '/repos/{owner}/{repo}/check-runs', perm: ['checks', 'write'],
    handler: (ctx) => {
      if (typeof ctx.body.name !== 'string') throw new SandboxHttpError(422, 'Invalid request.\n\n"name" wasn\'t supplied.');
      if (typeof ctx.body.head_sha !== 'string') throw new SandboxHttpError(422, 'Invalid request.\n\n"head_sha" wasn\'t supplied.');
      const patch = checkRunPatch(ctx.body);
      validateCheck(patch);
      const c = ctx.state.createCheckRun(ctx.repo.owner, ctx.repo.name, { ...patch, name: ctx.body.name, head_sha: ctx.body.head_sha });
      return created(checkRunShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/check-runs/{check_run_id}', perm: ['checks', 'read'],
    handler: (ctx) => {
      const c = ctx.repo.checkRuns.get(intParam(ctx, 'check_run_id'));
      if (!c) throw notFound();
      return ok(checkRunShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'PATCH', path: '/repos/{owner}/{repo}/check-runs/{check_run_id}', perm: ['checks', 'write'],
    handler: (ctx) => {
      const c = ctx.repo.checkRuns.get(intParam(ctx, 'check_run_id'));
      if (!c) throw notFound();
      const patch = checkRunPatch(ctx.body);
      if (patch.conclusion && !patch.status) patch.status = 'completed';
      validateCheck({ ...c, ...patch });
      Object.assign(c, patch);
      if (c.status === 'completed' && !c.completed_at) c.completed_at = ctx.state.timestamp();
      return ok(checkRunShape(ctx.state, ctx.repo, c));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/commits/{ref}/check-runs', perm: ['checks', 'read'],
    handler: (ctx) => {
      const sha = resolveCommitish(ctx.repo, ctx.params.ref!) ?? ctx.params.ref!;
      const name = ctx.query.get('check_name');
      const status = ctx.query.get('status');
      const all = [...ctx.repo.checkRuns.values()].filter((c) => c.head_sha === sha && (!name || c.name === name) && (!status || c.status === status)).sort((a, b) => b.id - a.id);
      return wrappedList(ctx, 'check_runs', all, (c) => checkRunShape(ctx.state, ctx.repo, c));
    },
  },
];
