/** Stage 6 of sync: read the effect back from GitHub (this also refreshes the ETags, so the next sync gets 304s). */
import { environmentOf, type SyncItemResult } from '../../core/env-plan/index.js';
import type { SyncState } from '../../core/schemas/index.js';
import type { PipelineContext } from '../context.js';
import { auditInventory, auditKey, type AuditResult } from './inventory.js';
import type { Applied, Confirmed } from './types.js';

/** Whether one applied item holds in the audit read after applying. */
export function effectHolds(r: SyncItemResult, after: AuditResult['actual'], fingerprintOf: (v: string) => string): boolean {
  const env = environmentOf(r.item.scope);
  const scope = env === null ? after.repository : after.environments[env];
  if (r.item.kind === 'environment') return after.environments[r.item.name] !== undefined;
  if (r.item.op === 'delete') return !(r.item.name in (r.item.kind === 'secret' ? scope?.secrets ?? {} : scope?.variables ?? {}));
  if (r.item.kind === 'secret') return scope?.secrets[r.item.name] !== undefined;
  return scope?.variables[r.item.name] !== undefined && fingerprintOf(scope.variables[r.item.name]!) === r.after_fingerprint;
}

export async function confirmEffect(ctx: Pick<PipelineContext, 'github'>, s: Applied): Promise<Confirmed> {
  if (s.applied.length === 0) return { ...s, after: s.audit, certified: false };
  // Forget the cached lists we changed (they are read in full again); the others still answer 304.
  const touched = new Set(s.applied.map((r) => (r.item.kind === 'environment' ? auditKey.environments : r.item.kind === 'secret' ? auditKey.secrets(r.item.scope) : auditKey.variables(r.item.scope))));
  const stale: SyncState = {
    ...s.syncState,
    etags: s.audit.etags,
    inventory: Object.fromEntries(Object.entries(s.audit.inventory).filter(([k]) => !touched.has(k))),
  };
  const after = await auditInventory(ctx.github, s.repo, stale, s.auditScopes);
  let certified = true;
  for (const r of s.applied) {
    if (!effectHolds(r, after.actual, s.fingerprintOf)) {
      certified = false;
      s.notes.push(`not confirmed on GitHub after writing: ${r.item.kind} ${r.item.name} (${r.item.scope})`);
    }
  }
  return { ...s, after, certified, requests: { ...s.requests, verify: after.calls } };
}
