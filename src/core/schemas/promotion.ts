import { z } from 'zod';

export const MergeMethod = z.enum(['squash', 'merge', 'rebase']);
export type MergeMethod = z.infer<typeof MergeMethod>;

export type CheckState = 'success' | 'pending' | 'failure';

/** One check on a pull request's head: the latest check run of a name or commit status of a context. */
export interface HeadCheck {
  name: string;
  source: 'check_run' | 'status';
  state: CheckState;
  /** Slug of the app that owns a check run (null for statuses). */
  app: string | null;
  url: string | null;
}

/** What branch protection demands of a merge into the branch. */
export interface BranchRules {
  /** Status check contexts / check run names that must pass. */
  required_checks: string[];
  /** Head must contain the base's head (require branches to be up to date). */
  strict: boolean;
  required_approving_reviews: number;
}

/**
 * The per-repository promotion lock, kept in the ledger (`.bridge/locks/promotion.json`) and taken
 * with the ledger's compare-and-swap: one promotion (merge, dispatch, deploy, rollback) at a time.
 * A lock past `expires_at` belongs to a worker presumed dead and may be taken over.
 */
export const PromotionLock = z.object({
  holder: z.string().min(1),
  acquired_at: z.string(),
  expires_at: z.string(),
  pull_request: z.number().int().nullable(),
  purpose: z.string(),
});
export type PromotionLock = z.infer<typeof PromotionLock>;

/**
 * One promotion as the ledger remembers it (`.bridge/promotions.json`, newest first, bounded): heal
 * skips the runs it dispatched (the loop judges them) and `living-bridge rollback` finds what to revert.
 */
export const PromotionRecord = z.object({
  id: z.string(),
  path: z.string(),
  base: z.string(),
  pull_request: z.number().int(),
  before_blob: z.string().nullable(),
  /** null: the promotion deletes the file (a revert of a file that did not exist before). */
  after_blob: z.string().nullable(),
  merge_commit: z.string().nullable(),
  /** Runs the loop dispatched for this promotion (deploy, then redeploy after a rollback). */
  dispatched_runs: z.array(z.number().int()).default([]),
  status: z.enum(['left_for_human', 'promoted', 'deployed', 'deploy_failed', 'rolled_back', 'rollback_failed']),
  /** Certificates of the loop's steps, in order (generate first). */
  certificates: z.array(z.string()).default([]),
  /** The failed run the regenerated config answered (its action record is judged by the deploy). */
  failed_run_id: z.number().int().nullable(),
  /** The deploy workflow (id or file) the loop dispatches after a merge. */
  workflow: z.union([z.string(), z.number().int()]).nullable().default(null),
  /** A promotion that is itself a rollback is never rolled back automatically. */
  rollback_of: z.string().nullable().default(null),
  updated_at: z.string(),
});
export type PromotionRecord = z.infer<typeof PromotionRecord>;
export const PromotionRecords = z.array(PromotionRecord);
