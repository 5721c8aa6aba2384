/**
 * Read-only probes for `living-bridge doctor` and the CLI's "who am I": the token's kind, what it can
 * read, the scopes of a classic token, and (with App credentials) the installation's granted
 * permissions. Nothing here writes to GitHub.
 */
import type { RepoRef } from '../core/schemas/index.js';
import { networkCause } from './errors.js';
import type { LivingBridgeOctokit } from './octokit.js';

export type TokenKind = 'installation' | 'classic-pat' | 'fine-grained-pat' | 'oauth' | 'user-to-server' | 'actions' | 'unknown';

/** The token's kind from its documented prefix (ghs_, ghp_, github_pat_, gho_, ghu_). */
export function tokenKind(token: string): TokenKind {
  if (token.startsWith('ghs_')) return 'installation';
  if (token.startsWith('ghp_')) return 'classic-pat';
  if (token.startsWith('github_pat_')) return 'fine-grained-pat';
  if (token.startsWith('gho_')) return 'oauth';
  if (token.startsWith('ghu_')) return 'user-to-server';
  return 'unknown';
}

const statusOf = (err: unknown): number | null => {
  const s = (err as { status?: unknown }).status;
  return typeof s === 'number' ? s : null;
};

/** The token's user (GET /user); null when the token is not a user's (an App installation token gets 403). */
export async function whoAmI(octokit: LivingBridgeOctokit): Promise<string | null> {
  try {
    const res = await octokit.request('GET /user');
    return typeof res.data.login === 'string' ? res.data.login : null;
  } catch (err) {
    if (statusOf(err) === 401 || statusOf(err) === 403 || statusOf(err) === 404) return null;
    throw err;
  }
}

export interface ReachResult { ok: boolean; status: number | null; ms: number; scopes: string[] | null; rateRemaining: number | null; error?: string }

/** GET /rate_limit: answers for every token kind and costs no rate limit. Classic tokens also name their scopes. */
export async function reach(octokit: LivingBridgeOctokit): Promise<ReachResult> {
  const started = Date.now();
  try {
    const res = await octokit.request('GET /rate_limit');
    const scopes = res.headers['x-oauth-scopes'];
    const remaining = (res.data as { resources?: { core?: { remaining?: number } } }).resources?.core?.remaining;
    return {
      ok: true, status: res.status, ms: Date.now() - started,
      scopes: typeof scopes === 'string' ? scopes.split(',').map((s) => s.trim()).filter(Boolean) : null,
      rateRemaining: typeof remaining === 'number' ? remaining : null,
    };
  } catch (err) {
    // Octokit reports a refused connection or a timeout as "HTTP 500": say what happened instead.
    const cause = networkCause(err);
    return { ok: false, status: cause ? null : statusOf(err), ms: Date.now() - started, scopes: null, rateRemaining: null, error: cause ?? (err as Error).message.split('\n')[0] };
  }
}

/** One GitHub App permission this deployment needs and how it was checked. */
export interface PermissionProbe { permission: string; needs: 'read' | 'write'; read: 'ok' | 'denied' | 'not-found' | 'error'; status: number | null; detail: string }

/** What Living Bridge needs (app.yml's default_permissions, the ones doctor can read-probe). */
export const NEEDED_PERMISSIONS: { permission: string; needs: 'read' | 'write'; probe: string; why: string }[] = [
  { permission: 'secrets', needs: 'write', probe: 'GET /repos/{owner}/{repo}/actions/secrets/public-key', why: 'create missing secrets' },
  { permission: 'actions_variables', needs: 'write', probe: 'GET /repos/{owner}/{repo}/actions/variables', why: 'sync declared variables' },
  { permission: 'environments', needs: 'write', probe: 'GET /repos/{owner}/{repo}/environments', why: 'environment secrets and variables' },
  { permission: 'actions', needs: 'write', probe: 'GET /repos/{owner}/{repo}/actions/workflows', why: 'read failed jobs and their logs, re-run them' },
  { permission: 'contents', needs: 'write', probe: 'GET /repos/{owner}/{repo}/contents', why: 'read the config files, write the ledger branch' },
  { permission: 'issues', needs: 'write', probe: 'GET /repos/{owner}/{repo}/issues', why: 'escalation and dashboard issues, comment commands' },
  { permission: 'checks', needs: 'write', probe: 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs', why: 'the "Living Bridge" check run and its anchors' },
];

/** Read-probes each needed permission on one repository (reads only: a write cannot be tested without writing). */
export async function probeRepository(octokit: LivingBridgeOctokit, repo: RepoRef, defaultBranch: string): Promise<PermissionProbe[]> {
  const out: PermissionProbe[] = [];
  for (const p of NEEDED_PERMISSIONS) {
    try {
      await octokit.request(p.probe, { ...repo, ref: defaultBranch, per_page: 1 });
      out.push({ permission: p.permission, needs: p.needs, read: 'ok', status: 200, detail: p.why });
    } catch (err) {
      const status = statusOf(err);
      out.push({
        permission: p.permission, needs: p.needs, status,
        read: status === 403 || status === 401 ? 'denied' : status === 404 ? 'not-found' : 'error',
        detail: `${p.why}: ${(err as Error).message.split('\n')[0]}`,
      });
    }
  }
  return out;
}

/** With an App JWT: the App's slug (GET /app) and the installation's granted permissions on the repository. */
export async function appInstallation(octokit: LivingBridgeOctokit, repo: RepoRef | null): Promise<{ slug: string; installation: { id: number; permissions: Record<string, string> } | null }> {
  const app = await octokit.request('GET /app');
  const slug = String((app.data as { slug?: string }).slug ?? '');
  if (!repo) return { slug, installation: null };
  const inst = await octokit.request('GET /repos/{owner}/{repo}/installation', { ...repo });
  return { slug, installation: { id: inst.data.id, permissions: (inst.data.permissions ?? {}) as Record<string, string> } };
}

/** With an App JWT: a short-lived installation token (what the App itself uses), to probe as the App would. */
export async function installationToken(octokit: LivingBridgeOctokit, installationId: number): Promise<string> {
  const res = await octokit.request('POST /app/installations/{installation_id}/access_tokens', { installation_id: installationId });
  return res.data.token;
}

/** The repository as the token sees it: default branch and, for a user's token, its role. */
export async function repositoryView(octokit: LivingBridgeOctokit, repo: RepoRef): Promise<{ defaultBranch: string; permissions: Record<string, boolean> | null }> {
  const res = await octokit.request('GET /repos/{owner}/{repo}', { ...repo });
  return { defaultBranch: res.data.default_branch, permissions: (res.data.permissions as Record<string, boolean> | undefined) ?? null };
}
