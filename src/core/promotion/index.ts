/**
 * The config loop's rules, pure: when a pull request's checks count as passed, whether a promotion
 * (merge + deploy) may happen, which merge method to use, and who holds the promotion lock.
 */
import type { AutonomyLevel, BranchRules, CheckState, HeadCheck, MergeMethod, PromotionLock } from '../schemas/index.js';

/** Checks Living Bridge posts itself never count as evidence for its own change. */
export const OWN_CHECK_NAMES: ReadonlySet<string> = new Set(['Living Bridge']);

export interface ChecksVerdict {
  state: CheckState;
  passed: string[];
  pending: string[];
  failing: string[];
  /** Required by branch protection and not reported (yet). */
  missing: string[];
  /** What counted: the required checks, or every check on the head when nothing is required. */
  basis: 'required' | 'all';
}

/**
 * With branch protection's required checks: each must be reported and pass. Without: every check on
 * the head must pass, and at least one must exist — no checks means nothing tested the change.
 * Any failure decides at once; otherwise anything pending or missing keeps it pending.
 */
export function judgeChecks(checks: HeadCheck[], required: string[]): ChecksVerdict {
  const own = checks.filter((c) => !OWN_CHECK_NAMES.has(c.name));
  const basis = required.length ? 'required' : 'all';
  const counted = basis === 'required' ? own.filter((c) => required.includes(c.name)) : own;
  const missing = basis === 'required' ? required.filter((r) => !own.some((c) => c.name === r)) : own.length === 0 ? ['(any check)'] : [];
  // A name reported both as a check run and a status passes only if both pass.
  const failing = [...new Set(counted.filter((c) => c.state === 'failure').map((c) => c.name))];
  const pending = [...new Set(counted.filter((c) => c.state === 'pending').map((c) => c.name))].filter((n) => !failing.includes(n));
  const passed = [...new Set(counted.filter((c) => c.state === 'success').map((c) => c.name))].filter((n) => !failing.includes(n) && !pending.includes(n));
  const state: CheckState = failing.length ? 'failure' : pending.length || missing.length ? 'pending' : 'success';
  return { state, passed, pending, failing, missing, basis };
}

const METHOD_ORDER: MergeMethod[] = ['squash', 'merge', 'rebase'];

/** The preferred method when allowed, else the first allowed; null when none is (or unknown: preferred). */
export function chooseMergeMethod(preferred: MergeMethod, allowed: Record<MergeMethod, boolean> | null): MergeMethod | null {
  if (!allowed) return preferred;
  if (allowed[preferred]) return preferred;
  return METHOD_ORDER.find((m) => allowed[m]) ?? null;
}

export interface PromotionInput {
  /** The environment's autonomy level (the decision's). */
  level: AutonomyLevel | undefined;
  /** The regenerated config's predicted success, and the floor below which nothing executes by itself. */
  predictedSuccess: number | null;
  minSuccess: number;
  checks: ChecksVerdict;
  rules: BranchRules | null;
  /** Branch protection could not be read (no Administration: read): the App cannot know it may merge. */
  rulesUnknown: boolean;
  method: MergeMethod | null;
  halted: boolean;
  autonomyEnabled: boolean;
  /** A revert of an earlier promotion (the safe direction: no prediction needed). */
  isRollback: boolean;
}

export type PromotionVerdict = { promote: true; method: MergeMethod } | { promote: false; reasons: string[] };

/** Every rule that keeps the merge for a human, in the order a reader should fix them. */
export function promotionVerdict(i: PromotionInput): PromotionVerdict {
  const reasons: string[] = [];
  if (!i.autonomyEnabled) reasons.push('autonomy is disabled for this deployment (AUTONOMY_ENABLED)');
  if (i.halted) reasons.push('the kill switch is on (living-bridge halt)');
  if (i.level !== 'full') reasons.push(`the environment's autonomy level is ${i.level ?? 'unknown'}; merging needs level full`);
  if (!i.isRollback) {
    if (i.predictedSuccess === null) reasons.push('no predicted success is known for REGENERATE_CONFIG');
    else if (i.predictedSuccess < i.minSuccess) reasons.push(`predicted success ${i.predictedSuccess.toFixed(2)} is below ${i.minSuccess}`);
  }
  if (i.checks.state === 'failure') reasons.push(`checks failed: ${i.checks.failing.join(', ')}`);
  else if (i.checks.state === 'pending') reasons.push(`checks did not pass in time: ${[...i.checks.pending, ...i.checks.missing].join(', ')} still pending or missing`);
  if (i.rulesUnknown) reasons.push('branch protection could not be read (the App needs Administration: read), so it cannot tell whether it may merge');
  if (i.rules && i.rules.required_approving_reviews > 0) reasons.push(`branch protection requires ${i.rules.required_approving_reviews} approving review${i.rules.required_approving_reviews > 1 ? 's' : ''}, which Living Bridge never gives its own change`);
  if (!i.method) reasons.push('the repository allows no merge method');
  if (reasons.length || !i.method) return { promote: false, reasons };
  return { promote: true, method: i.method };
}

export type LockState =
  | { kind: 'free' }
  | { kind: 'mine'; lock: PromotionLock }
  | { kind: 'expired'; lock: PromotionLock }
  | { kind: 'held'; lock: PromotionLock };

/** Who holds the promotion lock at `now`. */
export function lockState(lock: PromotionLock | null, holder: string, now: Date): LockState {
  if (!lock) return { kind: 'free' };
  if (lock.holder === holder) return { kind: 'mine', lock };
  if (Date.parse(lock.expires_at) <= now.getTime()) return { kind: 'expired', lock };
  return { kind: 'held', lock };
}

/** A lock for `holder` from `now`, valid `ttlMinutes`. */
export function newLock(holder: string, now: Date, ttlMinutes: number, pullRequest: number | null, purpose: string): PromotionLock {
  return { holder, acquired_at: now.toISOString(), expires_at: new Date(now.getTime() + ttlMinutes * 60_000).toISOString(), pull_request: pullRequest, purpose };
}

/** Exponential backoff for polling GitHub: 2 s, 4 s, 8 s … capped at `maxMs`. */
export function pollDelay(attempt: number, baseMs = 2_000, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
