/**
 * Reading what GitHub holds (secrets, variables, environments) with conditional requests, so an
 * unchanged scope answers 304 from the inventory the ledger keeps. Used by the audit stage and,
 * after applying, by the confirm stage.
 */
import type { RepoRef, SyncState } from '../../core/schemas/index.js';
import { REPOSITORY, environmentScope, type ActualInventory, type ActualScope, type ScopeLabel } from '../../core/env-plan/index.js';
import { toPortScope } from '../../engines/env-sync.js';
import type { EnvironmentInfo, GitHubPort } from '../../ports/index.js';

type CachedVariable = { name: string; value: string };
type CachedSecret = { name: string; updated_at: string | null };

export interface AuditResult {
  actual: ActualInventory;
  etags: Record<string, string>;
  inventory: Record<string, unknown>;
  calls: number;
  notModified: number;
}

/** Audit keys in SyncState.etags / SyncState.inventory. */
export const auditKey = {
  environments: 'environments',
  variables: (scope: ScopeLabel): string => `variables:${scope}`,
  secrets: (scope: ScopeLabel): string => `secrets:${scope}`,
};

/**
 * Reads what GitHub holds with conditional requests: an ETag is sent only when the ledger also holds
 * the inventory it describes, and a 304 answer reuses that inventory.
 * `scopes`: which scopes' items to read (null: the repository and every environment on GitHub).
 */
export async function auditInventory(
  github: Pick<GitHubPort, 'listEnvironments' | 'listVariables' | 'listSecrets'>,
  repo: RepoRef,
  sync: SyncState,
  scopes: Set<ScopeLabel> | null,
  opts: { useEtags?: boolean } = {},
): Promise<AuditResult> {
  const etags: Record<string, string> = { ...sync.etags };
  const inventory: Record<string, unknown> = { ...sync.inventory };
  let calls = 0;
  let notModified = 0;
  const useEtags = opts.useEtags ?? true;

  async function conditional<T>(key: string, valid: (x: unknown) => x is T[], fetch: (etag: string | null) => Promise<{ etag: string | null; notModified: boolean; data: T[] | null }>): Promise<T[]> {
    const cached = inventory[key];
    const etag = useEtags && valid(cached) ? etags[key] ?? null : null;
    calls += 1;
    let res = await fetch(etag);
    if (res.notModified) {
      if (etag !== null && valid(cached)) {
        notModified += 1;
        return cached;
      }
      calls += 1;
      res = await fetch(null);
    }
    const data = res.data ?? [];
    if (res.etag) etags[key] = res.etag;
    else delete etags[key];
    inventory[key] = data;
    return data;
  }

  const isArrayOf = <T>(check: (x: Record<string, unknown>) => boolean) => (x: unknown): x is T[] =>
    Array.isArray(x) && x.every((e) => typeof e === 'object' && e !== null && check(e as Record<string, unknown>));
  const validEnvs = isArrayOf<EnvironmentInfo>((e) => typeof e.name === 'string');
  const validVars = isArrayOf<CachedVariable>((e) => typeof e.name === 'string' && typeof e.value === 'string');
  const validSecrets = isArrayOf<CachedSecret>((e) => typeof e.name === 'string');

  const readScope = async (scope: ScopeLabel): Promise<ActualScope> => {
    const portScope = toPortScope(scope);
    const secrets = await conditional(auditKey.secrets(scope), validSecrets, async (etag) => {
      const r = await github.listSecrets(repo, portScope, etag);
      return { ...r, data: r.data?.map((s): CachedSecret => ({ name: s.name.toUpperCase(), updated_at: s.updated_at ?? null })) ?? null };
    });
    const variables = await conditional(auditKey.variables(scope), validVars, async (etag) => {
      const r = await github.listVariables(repo, portScope, etag);
      return { ...r, data: r.data?.map((v): CachedVariable => ({ name: v.name.toUpperCase(), value: v.value })) ?? null };
    });
    return {
      variables: Object.fromEntries(variables.map((v) => [v.name, v.value])),
      secrets: Object.fromEntries(secrets.map((s) => [s.name, { updated_at: s.updated_at }])),
    };
  };

  const envs = await conditional(auditKey.environments, validEnvs, async (etag) => {
    const r = await github.listEnvironments(repo, etag);
    return { ...r, data: r.data?.map(stripEnvironment) ?? null };
  });
  const actual: ActualInventory = {
    repository: scopes === null || scopes.has(REPOSITORY) ? await readScope(REPOSITORY) : { variables: {}, secrets: {} },
    environments: {},
  };
  for (const env of [...envs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const scope = environmentScope(env.name);
    const audited = scopes === null || scopes.has(scope);
    const items = audited ? await readScope(scope) : { variables: {}, secrets: {} };
    const { name: _n, ...settings } = env;
    actual.environments[env.name] = { ...items, settings, audited };
  }
  return { actual, etags, inventory, calls, notModified };
}

/** Only the settings env sync manages (and canonical: absent stays absent). */
function stripEnvironment(e: EnvironmentInfo): EnvironmentInfo {
  const out: EnvironmentInfo = { name: e.name };
  if (e.wait_timer !== undefined) out.wait_timer = e.wait_timer;
  if (e.prevent_self_review !== undefined) out.prevent_self_review = e.prevent_self_review;
  if (e.reviewers !== undefined) out.reviewers = e.reviewers.map((r) => ({ type: r.type, id: r.id }));
  if (e.deployment_branch_policy !== undefined) out.deployment_branch_policy = e.deployment_branch_policy;
  return out;
}
