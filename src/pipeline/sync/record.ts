/**
 * Stage 7 of sync: SyncState and the certificate in one ledger commit, only when something changed
 * (an applied or failed item, or new ETags/inventory). The certificate is built inside the commit's
 * mutate, from the snapshot it is given, so it chains onto whatever landed meanwhile.
 */
import { bridgeKey, environmentOf, fingerprintKey, type ActualInventory, type SyncItemResult } from '../../core/env-plan/index.js';
import { signCertificate, syncStatement } from '../../core/certificate/index.js';
import { canonicalJson } from '../../core/canonical.js';
import { SyncState, type Certificate, type Change } from '../../core/schemas/index.js';
import type { LedgerSnapshot, LedgerWrite } from '../../ledger/types.js';
import { auditEntry } from '../audit.js';
import type { PipelineContext } from '../context.js';
import type { Confirmed, Recorded } from './types.js';

const CHANGE_OP = { add: 'create', update: 'update', delete: 'delete' } as const;

/** The certificate entry of one applied sync item (fingerprints only). */
export const changeOf = (r: SyncItemResult): Change => ({
  target: r.item.name,
  kind: r.item.kind,
  scope: r.item.scope,
  op: CHANGE_OP[r.item.op as keyof typeof CHANGE_OP] ?? 'noop',
  before_fingerprint: r.before_fingerprint,
  after_fingerprint: r.after_fingerprint,
});

/**
 * The SyncState after this sync, over the latest one in the ledger: the audit's ETags and inventory,
 * what Living Bridge created (so only that is ever pruned without `prune`), and the fingerprints of
 * the secrets it wrote with GitHub's updated_at (to notice a human changing them later).
 */
export function nextSyncState(latest: SyncState, applied: readonly SyncItemResult[], after: { etags: Record<string, string>; inventory: Record<string, unknown>; actual: ActualInventory }, now: Date): SyncState {
  const next: SyncState = {
    ...latest,
    etags: { ...latest.etags, ...after.etags },
    inventory: { ...latest.inventory, ...after.inventory },
    secret_fingerprints: { ...latest.secret_fingerprints },
    created_by_bridge: [...latest.created_by_bridge],
    last_sync_at: now.toISOString(),
  };
  const createdSet = new Set(next.created_by_bridge);
  for (const r of applied) {
    const key = bridgeKey(r.item.kind, r.item.scope, r.item.name);
    if (r.item.op === 'delete') {
      createdSet.delete(key);
      if (r.item.kind === 'secret') delete next.secret_fingerprints[fingerprintKey(r.item.scope, r.item.name)];
      continue;
    }
    if (r.created) createdSet.add(key);
    if (r.item.kind === 'secret' && r.after_fingerprint) {
      const env = environmentOf(r.item.scope);
      const scope = env === null ? after.actual.repository : after.actual.environments[env];
      next.secret_fingerprints[fingerprintKey(r.item.scope, r.item.name)] = {
        fingerprint: r.after_fingerprint,
        updated_at: scope?.secrets[r.item.name]?.updated_at ?? null,
      };
    }
  }
  next.created_by_bridge = [...createdSet].sort();
  return next;
}

/** Whether the audit learned anything the ledger should keep (new ETags or inventory). */
export const memoryChanged = (s: Pick<Confirmed, 'after' | 'syncState'>): boolean =>
  canonicalJson(s.after.etags) !== canonicalJson(s.syncState.etags) || canonicalJson(s.after.inventory) !== canonicalJson(s.syncState.inventory);

export const summaryLine = (s: Pick<Confirmed, 'report'>): string => `env sync: ${s.report.applied} applied, ${s.report.failed} failed, ${s.report.skipped} skipped`;

/** The SYNC_AND_CERTIFY certificate of this sync, chained onto `snap`. */
export function signSyncCertificate(ctx: Pick<PipelineContext, 'now' | 'signer'>, s: Confirmed, snap: LedgerSnapshot, changes: Change[]): Promise<Certificate> {
  const { plan, report } = s;
  return signCertificate(
    syncStatement(
      { at: ctx.now(), repository: s.repository, policyVersion: snap.state.policy.version, chain: snap },
      {
        reason: `${s.envFilePath} synced: ${plan.summary.add} add, ${plan.summary.update} update, ${plan.summary.delete} delete planned; ${report.applied} applied, ${report.failed} failed`,
        targets: changes.map((c) => `${c.kind}:${c.scope}/${c.target}`),
        certified: s.certified,
        report: {
          plan: plan.items.map((i) => ({ op: i.op, kind: i.kind, scope: i.scope, name: i.name, reason: i.reason })),
          results: report.results.map((r) => ({ kind: r.item.kind, scope: r.item.scope, name: r.item.name, status: r.status, detail: r.detail, before: r.before_fingerprint, after: r.after_fingerprint })),
        },
        changes,
        decision: { dry_run: false, confirm_prune: s.opts.confirmPrune, ref: s.ref, scopes: plan.scopes },
      },
    ),
    ctx.signer,
  );
}

export async function recordSync(ctx: PipelineContext, s: Confirmed): Promise<Recorded> {
  const changes = s.applied.map(changeOf);
  const certify = (s.opts.certify ?? true) && changes.length > 0;
  const line = summaryLine(s);
  let certificate: Certificate | null = null;
  if (changes.length === 0 && s.report.failed === 0 && !memoryChanged(s)) return { ...s, certificate };
  await s.ledger.commit(`${line} (${s.repository})`, async (snap): Promise<LedgerWrite> => {
    const sync = nextSyncState(SyncState.parse(snap.sync ?? {}), s.applied, s.after, ctx.now());
    if (!certify) return { sync, audit: [auditEntry(ctx, s.repository, 'env_sync', line)] };
    const cert = await signSyncCertificate(ctx, s, snap, changes);
    certificate = cert;
    return {
      sync,
      state: { ...snap.state, last_certificate_hash: cert.certificate_hash },
      certificates: [cert],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      audit: [auditEntry(ctx, s.repository, 'env_sync', line, { certificateHash: cert.certificate_hash })],
    };
  });
  return { ...s, certificate };
}
