/** App and installation endpoints (JWT), repository metadata and rate limit. */
import type { Permissions } from '../model.js';
import type { RouteDef } from '../router.js';
import { created, ok } from '../router.js';
import { wrappedList } from './helpers.js';
import { repoShape, user } from '../shapes.js';
import { APP_ID, APP_SLUG, type SandboxState } from '../state.js';
import { SandboxHttpError, isoSeconds } from '../util.js';

function installationShape(state: SandboxState): Record<string, unknown> {
  return {
    id: state.installation.id, account: user(state, 'acme'), repository_selection: 'all', app_id: APP_ID, app_slug: APP_SLUG, target_id: 1, target_type: 'Organization',
    access_tokens_url: `${state.apiUrl}/app/installations/${state.installation.id}/access_tokens`, repositories_url: `${state.apiUrl}/installation/repositories`,
    html_url: `${state.url}/organizations/acme/settings/installations/${state.installation.id}`, permissions: state.installation.permissions,
    events: ['workflow_run', 'issue_comment', 'pull_request', 'check_run'], created_at: isoSeconds(0), updated_at: isoSeconds(0), single_file_name: null, suspended_at: null,
  };
}

function checkInstallation(state: SandboxState, id: string | undefined): void {
  if (Number(id) !== state.installation.id) throw new SandboxHttpError(404, 'Not Found');
}

export const appRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/app', auth: 'app',
    handler: ({ state }) => ok({
      id: APP_ID, slug: APP_SLUG, node_id: 'A_sandbox', name: 'Living Bridge (sandbox)', owner: user(state, 'acme'), description: 'Self-healing deploys',
      external_url: state.url, html_url: `${state.url}/apps/${APP_SLUG}`, created_at: isoSeconds(0), updated_at: isoSeconds(0),
      permissions: state.installation.permissions, events: ['workflow_run', 'issue_comment'], installations_count: 1,
    }),
  },
  { method: 'GET', path: '/app/installations', auth: 'app', handler: ({ state }) => ok([installationShape(state)]) },
  {
    method: 'GET', path: '/app/installations/{installation_id}', auth: 'app',
    handler: ({ state, params }) => {
      checkInstallation(state, params.installation_id);
      return ok(installationShape(state));
    },
  },
  {
    method: 'POST', path: '/app/installations/{installation_id}/access_tokens', auth: 'app',
    handler: ({ state, params, body }) => {
      checkInstallation(state, params.installation_id);
      const requested = body.permissions && typeof body.permissions === 'object' ? (body.permissions as Permissions) : undefined;
      for (const [k, v] of Object.entries(requested ?? {})) {
        const has = state.installation.permissions[k];
        if (!has || (v === 'write' && has !== 'write')) throw new SandboxHttpError(422, `The permissions requested are not granted to this installation.`);
      }
      const t = state.issueInstallationToken(requested);
      return created({ ...t, repository_selection: 'all' });
    },
  },
  { method: 'GET', path: '/repos/{owner}/{repo}/installation', auth: 'app', handler: ({ state }) => ok(installationShape(state)) },
  { method: 'GET', path: '/orgs/{org}/installation', auth: 'app', handler: ({ state }) => ok(installationShape(state)) },
  {
    method: 'GET', path: '/installation/repositories',
    // Paginated like GitHub (per_page ≤ 100, Link header); each page has its own ETag.
    handler: (ctx) => {
      const reply = wrappedList(ctx, 'repositories', [...ctx.state.repos.values()], (r) => repoShape(ctx.state, r));
      return { ...reply, body: { ...(reply.body as object), repository_selection: 'all' } };
    },
  },
  {
    // Like GitHub: an App installation token has no user ("Resource not accessible by integration").
    method: 'GET', path: '/user',
    handler: ({ state, actor }) => {
      if (actor?.type === 'Bot') throw new SandboxHttpError(403, 'Resource not accessible by integration');
      return ok(user(state, actor?.login ?? 'octocat'));
    },
  },
  { method: 'GET', path: '/repos/{owner}/{repo}', perm: ['metadata', 'read'], handler: ({ state, repo }) => ok(repoShape(state, repo)) },
  {
    // GitHub: `permission` is the legacy level (admin/write/read/none), `role_name` the finer role.
    method: 'GET', path: '/repos/{owner}/{repo}/collaborators/{username}/permission', perm: ['metadata', 'read'],
    handler: ({ state, repo, params }) => {
      const role = repo.collaborators.get(params.username!.toLowerCase());
      const permission = !role ? (repo.private ? 'none' : 'read') : role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      return ok({ permission, role_name: role ?? permission, user: { ...user(state, params.username!), permissions: { admin: permission === 'admin', maintain: role === 'maintain' || permission === 'admin', push: permission === 'admin' || permission === 'write', triage: !!role && role !== 'read', pull: permission !== 'none' } } });
    },
  },
];
