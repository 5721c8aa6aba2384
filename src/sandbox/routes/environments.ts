/** Deployment environments: list, get, create/update (PUT), delete. */
import type { EnvironmentModel } from '../model.js';
import type { RouteDef } from '../router.js';
import { noContent, ok } from '../router.js';
import { environmentShape } from '../shapes.js';
import { SandboxHttpError, notFound } from '../util.js';
import { wrappedList } from './helpers.js';

export const environmentRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/repos/{owner}/{repo}/environments', perm: ['environments', 'read'],
    handler: (ctx) => wrappedList(ctx, 'environments', [...ctx.repo.environments.values()], (e) => environmentShape(ctx.state, ctx.repo, e)),
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/environments/{environment_name}', perm: ['environments', 'read'],
    handler: (ctx) => {
      const e = ctx.repo.environments.get(ctx.params.environment_name!);
      if (!e) throw notFound();
      return ok(environmentShape(ctx.state, ctx.repo, e));
    },
  },
  {
    method: 'PUT', path: '/repos/{owner}/{repo}/environments/{environment_name}', perm: ['administration', 'write'],
    handler: (ctx) => {
      const b = ctx.body;
      const cfg: Partial<Pick<EnvironmentModel, 'wait_timer' | 'prevent_self_review' | 'reviewers' | 'deployment_branch_policy'>> = {};
      if (b.wait_timer !== undefined) {
        if (typeof b.wait_timer !== 'number' || b.wait_timer < 0 || b.wait_timer > 43200) throw new SandboxHttpError(422, 'Invalid request.\n\nwait_timer must be between 0 and 43200.');
        cfg.wait_timer = b.wait_timer;
      }
      if (typeof b.prevent_self_review === 'boolean') cfg.prevent_self_review = b.prevent_self_review;
      if (b.reviewers !== undefined) cfg.reviewers = Array.isArray(b.reviewers) ? (b.reviewers as EnvironmentModel['reviewers']) : [];
      if (b.deployment_branch_policy !== undefined) {
        const p = b.deployment_branch_policy as EnvironmentModel['deployment_branch_policy'];
        if (p && p.protected_branches === p.custom_branch_policies) throw new SandboxHttpError(422, 'Invalid request.\n\nprotected_branches and custom_branch_policies cannot have the same value.');
        cfg.deployment_branch_policy = p ?? null;
      }
      const { env } = ctx.state.putEnvironment(ctx.repo.owner, ctx.repo.name, ctx.params.environment_name!, cfg);
      return ok(environmentShape(ctx.state, ctx.repo, env));
    },
  },
  {
    method: 'DELETE', path: '/repos/{owner}/{repo}/environments/{environment_name}', perm: ['administration', 'write'],
    handler: (ctx) => {
      ctx.state.deleteEnvironment(ctx.repo.owner, ctx.repo.name, ctx.params.environment_name!);
      return noContent();
    },
  },
];
