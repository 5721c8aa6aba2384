import { decodeCertificate } from '../core/certificate/index.js';
import { parseGrantFile } from '../core/grants/index.js';
import { AuditEntry, parseRepoFullName, type ActionKind, type ActionRecord, type Certificate, type CertificatePredicate, type PromotionRecord } from '../core/schemas/index.js';
import { auditPath } from '../ledger/layout.js';
import type { PipelineContext } from './context.js';
import { GRANTS_FILE } from './heal.js';
import { readPromotions } from './promotion-ledger.js';
import { loadRepoConfig } from './repo-files.js';
import { pinnedKeys } from './trust.js';
import { verifyLedger, type VerifyResult } from './verify.js';

/**
 * One repository as an operator wants to see it: what is open, what was decided, how the Governor's
 * numbers moved, whether the chain verifies, and the month's figures. Read from the ledger only;
 * the status page and the dashboard issue both render this.
 */
export interface RepositoryOverview {
  repository: string;
  ledgerBranch: string;
  dashboardEnabled: boolean;
  halted: boolean;
  haltedReason: string | null;
  pending: { id: string; createdAt: string; expiresAt: string; steps: string[]; reason: string; incident: string }[];
  escalations: { target: string; at: string }[];
  /** Config pull requests the loop left for a human (newest per file, as the loop last saw them). */
  configPullRequests: { pullRequest: number; path: string; status: 'left_for_human' | 'deploy_failed' | 'rollback_failed'; updatedAt: string }[];
  /** Actions taken whose next run has not concluded yet. */
  awaitingOutcome: { action: ActionKind; target: string; at: string; runId: number | null }[];
  grants: { id: string; actions: string[]; environments: string[]; targets: string[]; expiresAt: string; breakGlass: boolean; uses: number; maxUses: number | null; issuedBy: string }[];
  ema: Partial<Record<ActionKind, number>>;
  emaHistory: { at: string; action: ActionKind; ema: number }[];
  /** Newest first. */
  recent: RecentDecision[];
  verification: VerifyResult;
  month: MonthFigures;
}

export interface RecentDecision {
  at: string;
  kind: 'action' | 'noop' | 'suggest';
  action: string;
  steps: string[];
  certified: boolean | null;
  outcome: 'success' | 'failure' | null;
  score: number | null;
  ema: number | null;
  predicted: number | null;
  runId: number | null;
  approvedBy: string | null;
  escalated: boolean;
  detail: string;
  certificateHash: string | null;
}

export interface MonthFigures {
  month: string;
  failuresSeen: number;
  healedWithoutHuman: number;
  escalated: number;
  medianRecoverySeconds: number | null;
}

const JUDGED: ReadonlySet<string> = new Set(['CREATE_SECRET', 'SYNC_AND_CERTIFY', 'REGENERATE_CONFIG', 'RERUN', 'ROLLBACK']);
/** An action certificate that handed over to a human: ESCALATE itself, or a failed step's escalation issue. */
const escalatedBy = (p: CertificatePredicate): boolean => p.action === 'ESCALATE' || p.changes.some((c) => c.kind === 'issue');
const approvedByOf = (reason: string): string | null => /; approved by (\S+)/.exec(reason)?.[1] ?? null;
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The audit trail lines of one month file (unreadable lines are skipped: the trail is append-only text). */
export function parseAudit(text: string | null): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = AuditEntry.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a torn line
    }
  }
  return out;
}

/**
 * The month's figures. Failures seen: every failed run the Governor decided on (noop, suggestion or
 * action; an approval's execution is the same failure). Healed without a human: outcome
 * certificates of the month that went green after an action nobody approved. Time to recovery: from
 * the action certificate to the outcome certificate that judged it green.
 */
export function monthFigures(month: string, predicates: (CertificatePredicate & { hash: string })[], audit: AuditEntry[]): MonthFigures {
  const inMonth = (at: string) => at.startsWith(month);
  const ofMonth = audit.filter((a) => inMonth(a.at));
  const decided = ofMonth.filter((a) => a.event === 'decision.noop' || a.event === 'decision.suggest' || a.event.startsWith('action.')).length;
  const approvals = ofMonth.filter((a) => a.event === 'approval.approve').length;
  const escalated = predicates.filter((p) => p.certificate_type === 'action' && inMonth(p.timestamp) && escalatedBy(p)).length;
  const byHash = new Map(predicates.map((p) => [p.hash, p]));
  let healedWithoutHuman = 0;
  const recoveries: number[] = [];
  for (const p of predicates) {
    if (p.certificate_type !== 'outcome' || p.outcome !== 'success' || !inMonth(p.timestamp)) continue;
    const judged = p.judges_certificate_hash ? byHash.get(p.judges_certificate_hash) : undefined;
    if (!judged) continue;
    if (!approvedByOf(judged.reason)) healedWithoutHuman += 1;
    recoveries.push(Math.max(0, (Date.parse(p.timestamp) - Date.parse(judged.timestamp)) / 1000));
  }
  return { month, failuresSeen: Math.max(0, decided - approvals), healedWithoutHuman, escalated, medianRecoverySeconds: median(recoveries) };
}

/** The last decisions, newest first: action certificates (with their numbers) and audited noops/suggestions. */
export function recentDecisions(predicates: (CertificatePredicate & { hash: string })[], audit: AuditEntry[], limit = 10): RecentDecision[] {
  const outcomes = new Map<string, 'success' | 'failure'>();
  for (const p of predicates) if (p.certificate_type === 'outcome' && p.judges_certificate_hash && p.outcome) outcomes.set(p.judges_certificate_hash, p.outcome);
  const fromCerts: RecentDecision[] = predicates
    .filter((p) => p.certificate_type === 'action')
    .map((p) => {
      const d = p.decision as { steps?: string[]; candidates?: { action: string; score: number; ema: number; predicted_success: number }[] };
      const chosen = d.candidates?.find((c) => c.action === p.action);
      return {
        at: p.timestamp,
        kind: 'action',
        action: p.action,
        steps: d.steps ?? [p.action],
        certified: p.certified,
        outcome: outcomes.get(p.hash) ?? null,
        score: chosen?.score ?? null,
        ema: chosen?.ema ?? null,
        predicted: chosen?.predicted_success ?? null,
        runId: p.run_id,
        approvedBy: approvedByOf(p.reason),
        escalated: escalatedBy(p),
        detail: p.reason,
        certificateHash: p.hash,
      };
    });
  const fromAudit: RecentDecision[] = audit
    .filter((a) => a.event === 'decision.noop' || a.event === 'decision.suggest')
    .map((a) => ({
      at: a.at, kind: a.event === 'decision.noop' ? 'noop' : 'suggest', action: a.event === 'decision.noop' ? 'NOOP' : 'SUGGEST', steps: [], certified: null, outcome: null,
      score: null, ema: null, predicted: null, runId: null, approvedBy: null, escalated: false, detail: a.detail, certificateHash: null,
    }));
  return [...fromCerts, ...fromAudit].sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

const predicatesOf = (certificates: Certificate[]): (CertificatePredicate & { hash: string })[] =>
  certificates.flatMap((c) => {
    try {
      return [{ ...decodeCertificate(c).predicate, hash: c.certificate_hash }];
    } catch {
      return [];
    }
  });

const NEEDS_HUMAN = new Set(['left_for_human', 'deploy_failed', 'rollback_failed']);

/** The newest promotion record per file whose status asks a human to act (records are newest first). */
function configPullRequestsForHuman(records: PromotionRecord[]): RepositoryOverview['configPullRequests'] {
  const seen = new Set<string>();
  const out: RepositoryOverview['configPullRequests'] = [];
  for (const r of records) {
    if (seen.has(r.path)) continue;
    seen.add(r.path);
    if (NEEDS_HUMAN.has(r.status)) out.push({ pullRequest: r.pull_request, path: r.path, status: r.status as 'left_for_human', updatedAt: r.updated_at });
  }
  return out;
}

export async function readOverview(ctx: PipelineContext, repository: string): Promise<RepositoryOverview> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const now = ctx.now();
  const month = now.toISOString().slice(0, 7);
  const snapshot = await ledger.read();
  const [certificates, auditText, grantsText, verification, promotions] = await Promise.all([
    ledger.readCertificates(),
    ledger.readFile(auditPath(month)),
    ledger.readFile(GRANTS_FILE),
    // Trusted: the door's pinned keys (its signer, grant keys, rotated keys), never the keys the branch lists.
    verifyLedger(ctx, repository, ctx.trust ?? pinnedKeys({ env: {}, signer: ctx.signer })),
    readPromotions(ledger).catch(() => []),
  ]);
  const predicates = predicatesOf(certificates);
  const audit = parseAudit(auditText);
  let grants: RepositoryOverview['grants'] = [];
  try {
    const revoked = new Set(snapshot.revokedGrantIds);
    grants = (grantsText ? parseGrantFile(grantsText, GRANTS_FILE) : [])
      .map((g) => g.grant)
      .filter((g) => !revoked.has(g.id) && Date.parse(g.expires_at) > now.getTime() && (g.max_uses === undefined || (snapshot.grantUses[g.id] ?? 0) < g.max_uses))
      .map((g) => ({ id: g.id, actions: g.actions, environments: g.environments, targets: g.targets, expiresAt: g.expires_at, breakGlass: g.break_glass, uses: snapshot.grantUses[g.id] ?? 0, maxUses: g.max_uses ?? null, issuedBy: g.issued_by }));
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'the ledger grants file is unreadable; the overview lists no grants');
  }
  const state = snapshot.state;
  return {
    repository,
    ledgerBranch: config.ledger.branch,
    dashboardEnabled: config.dashboard.enabled,
    halted: state.halted,
    haltedReason: state.halted_reason,
    pending: snapshot.pendingApprovals
      .filter((p) => p.status === 'pending' && Date.parse(p.expires_at) > now.getTime())
      .map((p) => {
        const d = p.decision as { steps?: string[]; reason?: string };
        const i = p.incident as { kind?: string; target?: { name?: string } | null };
        return { id: p.id, createdAt: p.created_at, expiresAt: p.expires_at, steps: d.steps ?? [], reason: d.reason ?? '', incident: `${i.kind ?? 'unknown'}${i.target?.name ? ` ${i.target.name}` : ''}` };
      }),
    configPullRequests: configPullRequestsForHuman(promotions),
    escalations: Object.entries(state.escalations).map(([target, e]) => ({ target, at: e.at })).sort((a, b) => b.at.localeCompare(a.at)),
    awaitingOutcome: state.actions
      .filter((a: ActionRecord) => a.outcome === null && JUDGED.has(a.action))
      .map((a) => ({ action: a.action, target: a.target_key, at: a.at, runId: a.run_id })),
    grants,
    ema: { ...state.ema },
    emaHistory: state.ema_history,
    recent: recentDecisions(predicates, audit),
    verification,
    month: monthFigures(month, predicates, audit),
  };
}
