/**
 * The retry loop of a compare-and-swap commit. Each attempt builds a commit on a base and tries to
 * move the branch ref to it; the loop decides what happens next:
 *
 * - `done`: the ref moved (or there was nothing to write): return.
 * - `conflict`: another writer moved the ref first: back off (exponential, jittered) and try again on
 *   a fresh read, up to `maxAttempts` attempts, then LedgerConflictError.
 * - `stale`: the attempt built on a cached base that turned out to be out of date (only possible on
 *   a speculative first attempt): retry at once on a fresh read, not counted as an attempt.
 */
import { RefConflictError } from '../ports/index.js';
import { LedgerConflictError } from './errors.js';

export type AttemptOutcome<R> = { kind: 'done'; result: R } | { kind: 'conflict' } | { kind: 'stale' };

export interface RetryOptions {
  branch: string;
  maxAttempts: number;
  /** The first attempt may build on a cached snapshot (the caller has one and more than one attempt is allowed). */
  speculative: boolean;
  delay: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random: () => number;
}

/** Exponential backoff with jitter: 50ms, 100ms, 200ms ... capped at 2s, times [0.5, 1). */
export function backoff(attempt: number, random: () => number): number {
  const base = Math.min(2000, 50 * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

/** Whether a ref update failed because the ref moved (the port's RefConflictError, or GitHub's 422 for a non-fast-forward). */
export function isRefConflict(e: unknown): boolean {
  if (e instanceof RefConflictError || (e instanceof Error && e.name === 'RefConflictError')) return true;
  const status = (e as { status?: unknown } | null)?.status;
  const message = e instanceof Error ? e.message : '';
  return status === 422 && /already exists|fast.forward/i.test(message);
}

/**
 * Runs `attempt(n, fromCache)` until it is done. `fromCache` is true only for the speculative first
 * try; a `stale` outcome from any other try is treated as a conflict.
 */
export async function retryCompareAndSwap<R>(opts: RetryOptions, attempt: (n: number, fromCache: boolean) => Promise<AttemptOutcome<R>>): Promise<R> {
  const maxAttempts = Math.max(1, opts.maxAttempts);
  let speculative = opts.speculative && maxAttempts > 1;
  for (let n = 1; n <= maxAttempts; n++) {
    const fromCache = speculative;
    speculative = false;
    const outcome = await attempt(n, fromCache);
    if (outcome.kind === 'done') return outcome.result;
    if (outcome.kind === 'stale' && fromCache) {
      n--;
      continue;
    }
    if (n < maxAttempts) await opts.delay(backoff(n, opts.random));
  }
  throw new LedgerConflictError(opts.branch, maxAttempts);
}
