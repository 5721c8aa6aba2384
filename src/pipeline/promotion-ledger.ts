/**
 * The config loop's memory in the ledger: the per-repository promotion lock (taken with the ledger's
 * compare-and-swap), the promotion records, the chained certificates of each step, and the deploy's
 * outcome for the Governor's EMA.
 */
import { recordOutcome } from '../core/governor/index.js';
import { lockState, newLock } from '../core/promotion/index.js';
import { actionStatement, outcomeStatement, signCertificate } from '../core/certificate/index.js';
import { PromotionLock, PromotionRecords, type ActionKind, type Certificate, type Change, type PromotionRecord, type RepoConfig } from '../core/schemas/index.js';
import type { Ledger } from '../ledger/types.js';
import { auditEntry } from './audit.js';
import type { PipelineContext } from './context.js';

export const LOCK_FILE = 'locks/promotion.json';
export const PROMOTIONS_FILE = 'promotions.json';
/** Promotion records kept (newest first); older ones stay readable in the ledger's history. */
const MAX_RECORDS = 50;

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

export class PromotionLockHeldError extends Error {
  constructor(readonly lock: PromotionLock) {
    super(`the promotion lock is held by ${lock.holder} (${lock.purpose}) until ${lock.expires_at}`);
    this.name = 'PromotionLockHeldError';
  }
}

export async function readLock(ledger: Ledger): Promise<PromotionLock | null> {
  const text = await ledger.readFile(LOCK_FILE);
  if (!text) return null;
  try {
    const parsed = PromotionLock.nullable().safeParse(JSON.parse(text));
    // A damaged lock file protects nothing: treat it as free (the takeover is audited).
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readPromotions(ledger: Ledger): Promise<PromotionRecord[]> {
  const text = await ledger.readFile(PROMOTIONS_FILE);
  if (!text) return [];
  const parsed = PromotionRecords.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : [];
}

/**
 * Takes the lock for `holder`, or throws PromotionLockHeldError. The lock is read inside the ledger
 * commit: when another worker wrote it meanwhile, the ref moved, the commit is refused and retried.
 * An expired lock (its holder crashed) is taken over, and the takeover is audited.
 */
export async function acquireLock(ctx: PipelineContext, ledger: Ledger, repository: string, holder: string, ttlMinutes: number, pullRequest: number | null, purpose: string): Promise<{ tookOverFrom: PromotionLock | null }> {
  let tookOverFrom: PromotionLock | null = null;
  await ledger.commit(`promotion lock: ${holder} (${purpose})`, async () => {
    const st = lockState(await readLock(ledger), holder, ctx.now());
    if (st.kind === 'held') throw new PromotionLockHeldError(st.lock);
    tookOverFrom = st.kind === 'expired' ? st.lock : null;
    const lock = newLock(holder, ctx.now(), ttlMinutes, pullRequest, purpose);
    const detail = tookOverFrom ? `${purpose}: took over the expired lock of ${(tookOverFrom as PromotionLock).holder} (expired ${(tookOverFrom as PromotionLock).expires_at})` : purpose;
    return { files: { [LOCK_FILE]: json(lock) }, audit: [auditEntry(ctx, repository, 'promotion.lock', detail, { actor: holder })] };
  });
  return { tookOverFrom };
}

/** Extends the lock while a long wait (checks, deploy) is under way. */
export async function renewLock(ctx: PipelineContext, ledger: Ledger, holder: string, ttlMinutes: number): Promise<void> {
  await ledger.commit(`promotion lock: renew ${holder}`, async () => {
    const st = lockState(await readLock(ledger), holder, ctx.now());
    if (st.kind !== 'mine') throw new Error(`the promotion lock is no longer held by ${holder}`);
    return { files: { [LOCK_FILE]: json({ ...st.lock, expires_at: new Date(ctx.now().getTime() + ttlMinutes * 60_000).toISOString() }) } };
  });
}

export async function releaseLock(ctx: PipelineContext, ledger: Ledger, repository: string, holder: string): Promise<void> {
  await ledger.commit(`promotion lock: release ${holder}`, async () => {
    const st = lockState(await readLock(ledger), holder, ctx.now());
    if (st.kind !== 'mine') return {};
    return { files: { [LOCK_FILE]: 'null\n' }, audit: [auditEntry(ctx, repository, 'promotion.unlock', st.lock.purpose, { actor: holder })] };
  });
}

export interface StepCertificate {
  stage: 'promote' | 'dispatch' | 'rollback' | 'left_for_human';
  action: ActionKind;
  reason: string;
  targets: string[];
  certified: boolean;
  changes: Change[];
  runId: number | null;
  details: Record<string, unknown>;
  report: unknown;
}

/**
 * Signs one step's certificate (chained to the ledger's last one) and stores it together with the
 * updated promotion record, in one commit.
 */
export async function certifyStep(ctx: PipelineContext, ledger: Ledger, repository: string, step: StepCertificate, record: PromotionRecord): Promise<{ certificate: Certificate; record: PromotionRecord }> {
  let certificate: Certificate | null = null;
  let stored = record;
  await ledger.commit(`config loop: ${step.stage} (${record.path}, #${record.pull_request})`, async (snap) => {
    certificate = await signCertificate(
      actionStatement(
        { at: ctx.now(), repository, policyVersion: snap.state.policy.version, chain: snap },
        {
          action: step.action, reason: step.reason, targets: step.targets, certified: step.certified, report: step.report, runId: step.runId,
          runAttempt: step.runId === null ? null : 1, changes: step.changes, decision: { stage: step.stage, promotion: record.id, pull_request: record.pull_request, ...step.details },
        },
      ),
      ctx.signer,
    );
    stored = { ...record, certificates: [...record.certificates, certificate.certificate_hash], updated_at: ctx.now().toISOString() };
    return {
      certificates: [certificate],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      files: { [PROMOTIONS_FILE]: json(upsert(await readPromotions(ledger), stored)) },
      audit: [auditEntry(ctx, repository, `promotion.${step.stage}`, step.reason, { certificateHash: certificate.certificate_hash })],
    };
  });
  return { certificate: certificate!, record: stored };
}

/** Stores a record without a certificate (a proposal being followed, or left for a human). */
export async function saveRecord(ctx: PipelineContext, ledger: Ledger, repository: string, record: PromotionRecord, event: string, detail: string): Promise<PromotionRecord> {
  const stored = { ...record, updated_at: ctx.now().toISOString() };
  await ledger.commit(`config loop: ${event} (${record.path}, #${record.pull_request})`, async () => ({
    files: { [PROMOTIONS_FILE]: json(upsert(await readPromotions(ledger), stored)) },
    audit: [auditEntry(ctx, repository, event, detail)],
  }));
  return stored;
}

function upsert(list: PromotionRecord[], record: PromotionRecord): PromotionRecord[] {
  return [record, ...list.filter((r) => r.id !== record.id)].slice(0, MAX_RECORDS);
}

/**
 * The deploy's conclusion judges the REGENERATE_CONFIG action recorded for the failed run: the EMA,
 * fail streaks and policy learn from it, and an outcome certificate says so.
 */
export async function recordDeployOutcome(ctx: PipelineContext, ledger: Ledger, repository: string, config: RepoConfig, record: PromotionRecord, conclusion: 'success' | 'failure', reason: string): Promise<{ ema: number | undefined; certificate: Certificate | null }> {
  if (record.failed_run_id === null) return { ema: undefined, certificate: null };
  let certificate: Certificate | null = null;
  let ema: number | undefined;
  const failedRun = record.failed_run_id;
  await ledger.commit(`outcome: config loop ${conclusion} (${record.path})`, async (snap) => {
    const learned = recordOutcome(snap.state, { at: ctx.now(), runId: failedRun, conclusion, incidentFingerprintNow: null }, config);
    ema = learned.state.ema.REGENERATE_CONFIG;
    if (!learned.judged) return { state: learned.state };
    certificate = await signCertificate(
      outcomeStatement(
        { at: ctx.now(), repository, policyVersion: learned.state.policy.version, chain: snap },
        {
          action: learned.judged.action, reason, targets: [learned.judged.target_key], report: { promotion: record.id, runs: record.dispatched_runs, conclusion },
          runId: record.dispatched_runs.at(-1) ?? null, runAttempt: null, judges: learned.judged.certificate_hash, outcome: conclusion,
          decision: { ema: learned.state.ema, policy_changed: learned.policyChanged, promotion: record.id },
        },
      ),
      ctx.signer,
    );
    return {
      state: learned.state,
      certificates: [certificate],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      audit: [auditEntry(ctx, repository, 'outcome', `config loop for ${record.path}: ${conclusion} (${reason})`, { certificateHash: certificate.certificate_hash })],
    };
  });
  return { ema, certificate };
}
