/**
 * The sync flow (SYNC_AND_CERTIFY): declared `.github/environment.json` -> audit GitHub -> plan ->
 * apply -> certify -> record -> propose the `discovered` inventory as a pull request.
 *
 * `sync()` is the list of its stages (src/pipeline/sync/*.ts), each a function of one typed state
 * (src/pipeline/sync/types.ts) that returns it with its own fields added:
 *
 *   1. readDeclaration   sync/declaration.ts  environment.json from the default branch (or refused)
 *   2. loadMemory        sync/memory.ts       ETags, cached inventory, fingerprints from the ledger
 *   3. auditGitHub       sync/audit.ts        what GitHub holds, by conditional requests (sync/inventory.ts)
 *   4. planChanges       sync/plan.ts         add / update / delete / escalate; a dry run stops here
 *   5. applyPlan         sync/apply.ts        paced writes through the env-sync engine
 *   6. confirmEffect     sync/confirm.ts      the effect read back from GitHub
 *   7. recordSync        sync/record.ts       SyncState and the certificate in one ledger commit
 *   8. proposeInventory  sync/propose.ts      the `discovered` section as one pull request
 *
 * Safety:
 * - the declaration is read from the default branch; another ref is refused for an apply unless the
 *   repository's `.github/autonomy.yml` (always read from the default branch) sets
 *   `allow_sync_from_non_default_branch` (a dry run from any ref is allowed: it writes nothing);
 * - a malformed file throws SchemaError before anything is read from or written to GitHub;
 * - deletions need `prune: true` in the file and `confirmPrune` here; values are never logged.
 *
 * Cost: the audit uses conditional requests with the ETags kept in the ledger's SyncState, so an
 * unchanged scope answers 304 (free against the rate limit) from the cached inventory. A sync with no
 * drift makes no write at all: no GitHub write, no ledger commit, no pull request.
 */
import { ENVIRONMENT_FILE_PATH, type Change } from '../core/schemas/index.js';
import { renderDriftTable } from '../core/env-plan/index.js';
import { errorMessage, permissionOf, type EngineResult } from '../engines/report.js';
import type { PipelineContext } from './context.js';
import { applyPlan } from './sync/apply.js';
import { auditGitHub } from './sync/audit.js';
import { confirmEffect } from './sync/confirm.js';
import { readDeclaration } from './sync/declaration.js';
import { loadMemory } from './sync/memory.js';
import { driftTitle, dryRunResult, planChanges } from './sync/plan.js';
import { proposeInventory } from './sync/propose.js';
import { changeOf, recordSync } from './sync/record.js';
import type { Proposed, SyncOptions, SyncResult } from './sync/types.js';

export { auditInventory, auditKey, type AuditResult } from './sync/inventory.js';
export { DEFAULT_PACE, DISCOVERED_BRANCH, SyncRefusedError, type SyncOptions, type SyncRequests, type SyncResult } from './sync/types.js';

export async function sync(ctx: PipelineContext, opts: SyncOptions): Promise<SyncResult> {
  const remembered = await loadMemory(ctx, await readDeclaration(ctx, opts));
  const planned = await planChanges(ctx, await auditGitHub(ctx, remembered));
  if (opts.dryRun) return dryRunResult(planned);
  const confirmed = await confirmEffect(ctx, await applyPlan(ctx, planned));
  const proposed = await proposeInventory(ctx, await recordSync(ctx, confirmed));
  return finishSync(ctx, proposed);
}

/** The result: notes for terminals and comments, the applied event, the drift table. */
export function finishSync(ctx: Pick<PipelineContext, 'observer' | 'now' | 'door'>, s: Proposed): SyncResult {
  const { report, certificate: cert, prUrl, notes, repository } = s;
  if (report.failed > 0) notes.push(`${report.failed} item(s) failed; the next sync retries them`);
  if (report.applied > 0) {
    ctx.observer?.emit({ type: 'autonomy.sync.applied', repository, at: ctx.now().toISOString(), door: ctx.door, applied: report.applied, failed: report.failed, skipped: report.skipped, certificate_hash: cert?.certificate_hash ?? null });
  }
  if (cert) notes.push(`certificate ${cert.certificate_hash.slice(0, 16)}`);
  if (prUrl) notes.push(`discovered inventory proposed: ${prUrl}`);
  return {
    repository,
    dryRun: false,
    plan: s.plan,
    report,
    certificate: cert,
    driftTable: renderDriftTable(s.plan, report, { title: driftTitle(repository) }),
    prUrl,
    requests: s.requests,
    certified: s.certified,
    notes,
  };
}

/**
 * SYNC_AND_CERTIFY for a `variable.missing` incident: sync only that name (in the repository scope
 * and, when the run had one, its environment), record SyncState, and report the change for the
 * heal flow, whose action certificate covers it (so one heal yields one certificate).
 */
export async function syncForIncident(
  ctx: PipelineContext,
  repository: string,
  environment: string | undefined | null,
  variableName: string,
): Promise<EngineResult> {
  const action = 'SYNC_AND_CERTIFY' as const;
  try {
    const result = await sync(ctx, {
      repository,
      ...(environment ? { environment, includeRepositoryScope: true } : {}),
      names: [variableName],
      dryRun: false,
      confirmPrune: false,
      certify: false,
      writeBack: false,
    });
    const report = result.report;
    const wanted = result.plan.items.filter((i) => i.kind !== 'environment' && i.name === variableName.toUpperCase() && i.declared);
    const changes: Change[] = (report?.results ?? []).filter((r) => r.status === 'applied').map(changeOf);
    const notes = [
      ...(report?.results ?? []).map((r) => `${r.item.kind} ${r.item.name} (${r.item.scope}): ${r.status}${r.status === 'applied' ? '' : ` — ${r.detail}`}`),
      ...result.notes,
    ];
    const failed = report?.results.find((r) => r.status === 'failed');
    const escalated = result.plan.items.find((i) => i.op === 'escalate' && i.name === variableName.toUpperCase());
    if (wanted.length === 0) {
      return { action, ok: false, certified: false, changes, notes, error: `${variableName} is not declared in ${ENVIRONMENT_FILE_PATH}: Living Bridge never invents a variable; declare it with its value or source` };
    }
    if (failed) {
      return { action, ok: false, certified: false, changes, notes, error: `${failed.item.kind} ${failed.item.name}: ${failed.detail}`, ...(failed.missingPermission ? { missingPermission: failed.missingPermission } : {}) };
    }
    if (escalated) return { action, ok: false, certified: false, changes, notes, error: escalated.reason };
    if (changes.length === 0) notes.push(`${variableName} already holds its declared value on GitHub`);
    return { action, ok: true, certified: changes.length === 0 || result.certified, changes, notes };
  } catch (err) {
    const permission = permissionOf(err);
    return {
      action,
      ok: false,
      certified: false,
      changes: [],
      notes: [],
      error: `env sync: ${errorMessage(err).split('\n')[0]}`,
      ...(permission ? { missingPermission: permission } : {}),
    };
  }
}
