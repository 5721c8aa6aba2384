/** Branches (with their protection flag) and deployments. */
import type { DeploymentModel } from '../model.js';
import type { RouteContext, RouteDef } from '../router.js';
import { ok } from '../router.js';
import { user } from '../shapes.js';
import { SandboxHttpError } from '../util.js';
import { arrayList } from './helpers.js';

const REPO = '/repos/{owner}/{repo}';

function branchShape(ctx: RouteContext, name: string, sha: string): Record<string, unknown> {
  const api = `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}`;
  const rule = ctx.repo.protection.get(name);
  const isProtected = rule !== undefined;
  const contexts = rule?.required_status_checks?.contexts ?? [];
  return {
    name,
    commit: { sha, url: `${api}/commits/${sha}` },
    _links: { self: `${api}/branches/${encodeURIComponent(name)}`, html: `${ctx.state.url}/${ctx.repo.fullName}/tree/${name}` },
    protected: isProtected,
    protection: { enabled: isProtected, required_status_checks: { enforcement_level: contexts.length ? 'non_admins' : 'off', contexts, checks: contexts.map((context) => ({ context, app_id: null })) } },
    protection_url: `${api}/branches/${encodeURIComponent(name)}/protection`,
  };
}

function deploymentShape(ctx: RouteContext, d: DeploymentModel): Record<string, unknown> {
  const url = `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}/deployments/${d.id}`;
  return {
    url, id: d.id, node_id: Buffer.from(`Deployment:${d.id}`).toString('base64'), sha: d.sha, ref: d.ref, task: d.task, payload: {},
    original_environment: d.environment, environment: d.environment, description: null, creator: user(ctx.state, d.creator),
    created_at: d.created_at, updated_at: d.created_at, statuses_url: `${url}/statuses`,
    repository_url: `${ctx.state.apiUrl}/repos/${ctx.repo.fullName}`, transient_environment: false, production_environment: d.environment === 'production',
  };
}

export const repoRoutes: RouteDef[] = [
  {
    method: 'GET', path: `${REPO}/branches/{branch+}`, perm: ['metadata', 'read'],
    handler: (ctx) => {
      const name = ctx.params.branch!;
      const sha = ctx.repo.refs.get(`refs/heads/${name}`);
      if (!sha) throw new SandboxHttpError(404, 'Branch not found');
      return ok(branchShape(ctx, name, sha));
    },
  },
  // Branch protection itself (GET/PUT/DELETE …/protection): routes/promotion.ts, ahead of this table.
  {
    // GitHub's filters: sha, ref, task, environment; newest first.
    method: 'GET', path: `${REPO}/deployments`, perm: ['deployments', 'read'],
    handler: (ctx) => {
      const q = ctx.query;
      const list = ctx.repo.deployments
        .filter((d) => (!q.get('sha') || d.sha === q.get('sha')) && (!q.get('ref') || d.ref === q.get('ref')) && (!q.get('task') || d.task === q.get('task')) && (!q.get('environment') || d.environment === q.get('environment')))
        .reverse();
      return arrayList(ctx, list, (d) => deploymentShape(ctx, d));
    },
  },
];
