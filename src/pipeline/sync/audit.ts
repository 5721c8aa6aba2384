/** Stage 3 of sync: what GitHub holds now, in the scopes this sync covers (conditional requests). */
import { REPOSITORY, environmentScope, toScopeLabel } from '../../core/env-plan/index.js';
import type { PipelineContext } from '../context.js';
import { auditInventory } from './inventory.js';
import type { Audited, Remembered } from './types.js';

/** The scopes a sync covers: an environment (and the repository when asked), or every scope. */
export function scopesOf(opts: Remembered['opts']): string[] | undefined {
  return opts.environment === undefined ? undefined : [environmentScope(opts.environment), ...(opts.includeRepositoryScope ? [REPOSITORY] : [])];
}

export async function auditGitHub(ctx: Pick<PipelineContext, 'github'>, s: Remembered): Promise<Audited> {
  const scopeFilter = scopesOf(s.opts);
  const auditScopes = scopeFilter ? new Set(scopeFilter.map(toScopeLabel)) : null;
  const audit = await auditInventory(ctx.github, s.repo, s.syncState, auditScopes);
  return { ...s, scopeFilter, auditScopes, audit, requests: { audit: audit.calls, notModified: audit.notModified, writes: 0, verify: 0 } };
}
