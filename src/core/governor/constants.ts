import type { ActionKind } from '../schemas/common.js';

/**
 * Every tunable number of the Governor in one place, so the docs, the tests and the code agree.
 * (Per-repository limits live in `.github/autonomy.yml`; these are the model's own constants.)
 */

/** EMA prior for an action never judged: no evidence either way. */
export const EMA_PRIOR = 0.5;
/** new = (1 − EMA_ALPHA)·old + EMA_ALPHA·outcome, outcome ∈ {0, 1}. */
export const EMA_ALPHA = 0.1;

/** Cooldown penalty = COOLDOWN_PENALTY_MAX × remaining / total cooldown. */
export const COOLDOWN_PENALTY_MAX = 0.5;

/** Adaptive policy weights are clamped to this range. */
export const WEIGHT_MIN = 0.2;
export const WEIGHT_MAX = 2;
export const WEIGHT_DEFAULT = 1;
/** Weight steps (additive, then clamped; failures and rejections weigh more than successes). */
export const WEIGHT_STEP = {
  success: 0.05,
  failure: -0.1,
  approved: 0.1,
  rejected: -0.2,
} as const;
export const POLICY_HISTORY_MAX = 50;

/** Beta(α, β) prior of the success prediction when no per-(kind, action) prior is set. */
export const DEFAULT_BETA_PRIOR = { alpha: 2, beta: 2 } as const;

/** The window rate limits count in: (now − 1 h, now]. */
export const RATE_WINDOW_MS = 60 * 60 * 1000;
/** Action records kept: the last ACTIONS_KEEP, plus every one younger than ACTIONS_KEEP_WINDOW_MS. */
export const ACTIONS_KEEP = 200;
export const ACTIONS_KEEP_WINDOW_MS = 24 * 60 * 60 * 1000;
export const EMA_HISTORY_MAX = 500;

/** A "successful" heal whose failure fingerprint comes back within this window did not heal. */
export const RECURRENCE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** A secret.missing classification below this confidence is only suggested. */
export const SECRET_MIN_CONFIDENCE = 0.6;

/**
 * At `balanced`, these execute by themselves; every other acting step is suggested (and needs a
 * human's approval or a grant). decide() and authorize() both read it.
 */
export const BALANCED_EXECUTES: ReadonlySet<ActionKind> = new Set<ActionKind>(['RERUN', 'SYNC_AND_CERTIFY', 'ESCALATE']);
