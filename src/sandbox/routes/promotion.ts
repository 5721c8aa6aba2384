/**
 * Merging pull requests, commit statuses, branch protection, repository merge settings and workflow
 * dispatch — the routes the config loop uses — plus `/_sandbox/ci/...` to set up the simulated CI.
 */
import type { CiModel, StatusModel } from '../model.js';
import type { RouteContext, RouteDef } from '../router.js';
import { created, noContent, ok } from '../router.js';
import { combinedStatus, createStatus, dispatchWorkflow, mergePull, parseProtection, protectionShape } from '../promotion.js';
import { repoShape, user } from '../shapes.js';
import { SandboxHttpError, notFound } from '../util.js';
import { resolveCommitish } from './git.js';
import { actorLogin, arrayList, intParam } from './helpers.js';

const R = '/repos/{owner}/{repo}';
const STATES = ['error', 'failure', 'pending', 'success'];

function statusShape(ctx: RouteContext, s: StatusModel): Record<string, unknown> {
  return {
    id: s.id, node_id: `SC_${s.id}`, url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/statuses/${s.sha}`, state: s.state, description: s.description,
    target_url: s.target_url, context: s.context, created_at: s.created_at, updated_at: s.updated_at, creator: user(ctx.state, s.creator), avatar_url: null,
  };
}

const shaOf = (ctx: RouteContext): string => {
  const sha = resolveCommitish(ctx.repo, ctx.params.ref!);
  if (!sha) throw new SandboxHttpError(422, `No commit found for SHA: ${ctx.params.ref}`);
  return sha;
};

function protectionOf(ctx: RouteContext) {
  const branch = ctx.params.branch!;
  if (!ctx.repo.refs.has(`refs/heads/${branch}`)) throw new SandboxHttpError(404, 'Branch not found');
  const rule = ctx.repo.protection.get(branch);
  if (!rule) throw new SandboxHttpError(404, 'Branch not protected');
  return { branch, rule };
}

export const promotionRoutes: RouteDef[] = [
  {
    method: 'PUT', path: `${R}/pulls/{pull_number}/merge`, perm: ['contents', 'write'],
    handler: (ctx) => {
      const p = ctx.repo.pulls.get(intParam(ctx, 'pull_number'));
      if (!p) throw notFound();
      return ok(mergePull(ctx.state, ctx.repo, p, ctx.body, actorLogin(ctx)));
    },
  },
  {
    method: 'GET', path: `${R}/pulls/{pull_number}/merge`, perm: ['pull_requests', 'read'],
    handler: (ctx) => {
      if (!ctx.repo.pulls.get(intParam(ctx, 'pull_number'))?.merged) throw notFound();
      return noContent();
    },
  },
  {
    method: 'POST', path: `${R}/statuses/{sha}`, perm: ['statuses', 'write'],
    handler: (ctx) => {
      const sha = resolveCommitish(ctx.repo, ctx.params.sha!);
      if (!sha || sha !== ctx.params.sha) throw new SandboxHttpError(422, `No commit found for SHA: ${ctx.params.sha}`);
      const st = ctx.body.state;
      if (typeof st !== 'string' || !STATES.includes(st)) throw new SandboxHttpError(422, 'Validation Failed', { errors: [{ resource: 'Status', field: 'state', code: 'custom', message: 'state is not included in the list' }] });
      const s = createStatus(ctx.state, ctx.repo, sha, {
        state: st as StatusModel['state'], creator: actorLogin(ctx),
        ...(typeof ctx.body.context === 'string' ? { context: ctx.body.context } : {}),
        ...(typeof ctx.body.description === 'string' ? { description: ctx.body.description } : {}),
        ...(typeof ctx.body.target_url === 'string' ? { target_url: ctx.body.target_url } : {}),
      });
      return created(statusShape(ctx, s));
    },
  },
  {
    method: 'GET', path: `${R}/commits/{ref}/statuses`, perm: ['statuses', 'read'],
    handler: (ctx) => {
      const sha = shaOf(ctx);
      return arrayList(ctx, ctx.repo.statuses.filter((s) => s.sha === sha).sort((a, b) => b.id - a.id), (s) => statusShape(ctx, s));
    },
  },
  {
    method: 'GET', path: `${R}/commits/{ref}/status`, perm: ['statuses', 'read'],
    handler: (ctx) => {
      const sha = shaOf(ctx);
      const { state, statuses } = combinedStatus(ctx.repo, sha);
      return ok({
        state, sha, total_count: statuses.length, statuses: statuses.map((s) => statusShape(ctx, s)), repository: repoShape(ctx.state, ctx.repo),
        commit_url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/commits/${sha}`, url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/commits/${sha}/status`,
      });
    },
  },
  {
    method: 'GET', path: `${R}/branches/{branch+}/protection`, perm: ['administration', 'read'],
    handler: (ctx) => {
      const { branch, rule } = protectionOf(ctx);
      return ok(protectionShape(ctx.state, ctx.repo, branch, rule));
    },
  },
  {
    method: 'GET', path: `${R}/branches/{branch+}/protection/required_status_checks`, perm: ['administration', 'read'],
    handler: (ctx) => {
      const { branch, rule } = protectionOf(ctx);
      if (!rule.required_status_checks) throw new SandboxHttpError(404, 'Required status checks not enabled');
      return ok(protectionShape(ctx.state, ctx.repo, branch, rule).required_status_checks);
    },
  },
  {
    method: 'PUT', path: `${R}/branches/{branch+}/protection`, perm: ['administration', 'write'],
    handler: (ctx) => {
      const branch = ctx.params.branch!;
      if (!ctx.repo.refs.has(`refs/heads/${branch}`)) throw new SandboxHttpError(404, 'Branch not found');
      const rule = parseProtection(ctx.body);
      ctx.repo.protection.set(branch, rule);
      return ok(protectionShape(ctx.state, ctx.repo, branch, rule));
    },
  },
  {
    method: 'DELETE', path: `${R}/branches/{branch+}/protection`, perm: ['administration', 'write'],
    handler: (ctx) => {
      protectionOf(ctx);
      ctx.repo.protection.delete(ctx.params.branch!);
      return noContent();
    },
  },
  {
    method: 'PATCH', path: R, perm: ['administration', 'write'],
    handler: (ctx) => {
      const m = ctx.repo.mergeMethods;
      const next = {
        merge: typeof ctx.body.allow_merge_commit === 'boolean' ? ctx.body.allow_merge_commit : m.merge,
        squash: typeof ctx.body.allow_squash_merge === 'boolean' ? ctx.body.allow_squash_merge : m.squash,
        rebase: typeof ctx.body.allow_rebase_merge === 'boolean' ? ctx.body.allow_rebase_merge : m.rebase,
      };
      if (!next.merge && !next.squash && !next.rebase) throw new SandboxHttpError(422, 'Validation Failed', { errors: [{ resource: 'Repository', code: 'custom', field: 'merge_commit_allowed', message: 'You must select at least one option for merging pull requests.' }] });
      ctx.repo.mergeMethods = next;
      return ok(repoShape(ctx.state, ctx.repo));
    },
  },
  {
    method: 'POST', path: `${R}/actions/workflows/{workflow_id}/dispatches`, perm: ['actions', 'write'],
    handler: (ctx) => {
      const run = dispatchWorkflow(ctx.state, ctx.repo, ctx.params.workflow_id!, ctx.body.ref, actorLogin(ctx));
      // Since February 2026 GitHub answers 200 with the run when asked (return_run_details), else 204.
      if (ctx.body.return_run_details !== true) return noContent();
      return ok({ workflow_run_id: run.id, run_url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/actions/runs/${run.id}`, html_url: `${ctx.state.url}/${ctx.repo.fullName}/actions/runs/${run.id}` });
    },
  },
];

const CI_STATES = ['success', 'failure', 'pending', 'error'];

/** `POST /_sandbox/ci/{owner}/{repo}`: how the simulated CI answers new pull request heads. */
export const ciControlRoute: RouteDef = {
  method: 'POST', path: '/_sandbox/ci/{owner}/{repo}', root: true, auth: 'none', uncounted: true,
  handler: ({ state, params, body }) => {
    const repo = state.repo(params.owner!, params.repo!);
    const ci: CiModel = { ...repo.ci };
    if (body.workflow_on_pull_requests !== undefined) ci.workflowOnPullRequests = body.workflow_on_pull_requests === true;
    if (body.statuses !== undefined) {
      const statuses = body.statuses as Record<string, unknown>;
      if (!statuses || typeof statuses !== 'object' || Object.values(statuses).some((v) => typeof v !== 'string' || !CI_STATES.includes(v))) {
        throw new SandboxHttpError(422, `statuses: an object of context -> one of ${CI_STATES.join(', ')}`);
      }
      ci.statuses = statuses as CiModel['statuses'];
    }
    if (body.fail_next_deploys !== undefined) {
      if (!Number.isInteger(body.fail_next_deploys) || (body.fail_next_deploys as number) < 0) throw new SandboxHttpError(422, 'fail_next_deploys: a non-negative integer');
      ci.failNextDeploys = body.fail_next_deploys as number;
    }
    repo.ci = ci;
    return ok({ workflow_on_pull_requests: ci.workflowOnPullRequests, statuses: ci.statuses, fail_next_deploys: ci.failNextDeploys });
  },
};
