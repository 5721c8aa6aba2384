/**
 * RERUN: asks GitHub to re-run the failed jobs of a run, within the configured attempt limit and
 * GitHub's own cap of 50 attempts, then checks that GitHub accepted it (a new attempt or a queued run).
 */
import type { Change, RepoRef } from '../core/schemas/index.js';
import type { RunsPort, WorkflowRun } from '../ports/index.js';
import { GITHUB_MAX_RUN_ATTEMPTS, rerunRefusal } from '../core/governor/preconditions.js';
import { failed, fromPortError, type EngineResult } from './report.js';

/** GitHub's cap and the attempt rule are the core's (the precondition a decision is checked against). */
export { GITHUB_MAX_RUN_ATTEMPTS, rerunRefusal };

/** Run statuses meaning "GitHub is (about to be) running it". */
export const ACTIVE_RUN_STATUSES: readonly string[] = ['queued', 'in_progress', 'requested', 'waiting', 'pending'];

export interface RerunPlan {
  repo: RepoRef;
  runId: number;
  /** The run attempt that failed (the incident's `run.attempt`). */
  attempt: number;
  /** `limits.max_rerun_attempts` of the repo config. */
  maxAttempts: number;
  /** The run as just read by the caller (skips reading it again). */
  current?: WorkflowRun;
}

export type RerunReport = EngineResult<{ runAttemptAfter?: number }>;

/** Did GitHub take a re-run of `before`? A higher attempt number, or the run queued/running again. */
export function rerunAccepted(before: WorkflowRun | number, after: WorkflowRun): boolean {
  const attempt = typeof before === 'number' ? before : before.run_attempt;
  return after.run_attempt > attempt || ACTIVE_RUN_STATUSES.includes(after.status);
}

export async function executeRerun(port: RunsPort, plan: RerunPlan): Promise<RerunReport> {
  const ACTION = 'RERUN' as const;
  const { repo, runId } = plan;
  const target = `run ${runId}`;

  const early = rerunRefusal(plan.attempt, plan.maxAttempts);
  if (early) return failed(ACTION, early, { notes: [`Refused to re-run ${target}: ${early}.`] });

  let current: WorkflowRun;
  try {
    current = plan.current ?? (await port.getRun(repo, runId));
  } catch (err) {
    return fromPortError(ACTION, `reading ${target}`, err);
  }
  // The plan's attempt may be stale (another re-run happened meanwhile): count the larger one.
  const attempt = Math.max(plan.attempt, current.run_attempt);

  const refusal = rerunRefusal(attempt, plan.maxAttempts);
  if (refusal) return failed(ACTION, refusal, { notes: [`Refused to re-run ${target}: ${refusal}.`] });

  if (current.status !== 'completed') {
    return {
      action: ACTION,
      ok: true,
      certified: false,
      changes: [{ kind: 'run', target, scope: 'repository', op: 'noop', before_fingerprint: `attempt:${current.run_attempt}`, after_fingerprint: `attempt:${current.run_attempt}` }],
      notes: [`${target} is already ${current.status} (attempt ${current.run_attempt}); not re-running it again.`],
      runAttemptAfter: current.run_attempt,
    };
  }
  if (current.conclusion === 'success') {
    return {
      action: ACTION,
      ok: true,
      certified: false,
      changes: [{ kind: 'run', target, scope: 'repository', op: 'noop', before_fingerprint: `attempt:${current.run_attempt}`, after_fingerprint: `attempt:${current.run_attempt}` }],
      notes: [`${target} already succeeded at attempt ${current.run_attempt}; nothing to re-run.`],
      runAttemptAfter: current.run_attempt,
    };
  }

  const lost = await requestRerun(port, plan, current);
  if (lost && 'error' in lost) return fromPortError(ACTION, `re-running the failed jobs of ${target}`, lost.error);

  const change: Change = {
    kind: 'run',
    target,
    scope: 'repository',
    op: 'rerun',
    before_fingerprint: `attempt:${current.run_attempt}`,
    after_fingerprint: `attempt:${current.run_attempt + 1}`,
  };

  // GitHub answers 201 only when it accepted the re-run: that answer is the certification
  // (the new attempt itself is judged later, by its conclusion). A lost answer was read back instead.
  const after = lost?.readBack.run_attempt ?? current.run_attempt + 1;
  return {
    action: ACTION,
    ok: true,
    certified: true,
    changes: [change],
    notes: [
      `Re-ran the failed jobs of ${target} (attempt ${current.run_attempt} of at most ${Math.min(plan.maxAttempts, GITHUB_MAX_RUN_ATTEMPTS)}).`,
      lost
        ? `GitHub's answer was lost (${lost.lostAnswer}); read back: the run is at attempt ${after} (${lost.readBack.status}), so the re-run was accepted.`
        : `Accepted by GitHub (201): attempt ${after} is queued.`,
    ],
    runAttemptAfter: after,
  };
}

/** Tries of a write whose answer may be lost (each followed by a read-back), like the retry plugin's 1 + 3 for reads. */
export const WRITE_TRIES = 4;

/** An answer that may have been lost on the way: a 5xx, a timeout or a dropped connection (octokit reports those as 500). */
export const answerMayBeLost = (err: unknown): boolean => {
  const status = (err as { status?: number }).status;
  return status === undefined || status >= 500;
};

/**
 * POSTs the re-run. Writes are not blindly retried (a retried POST whose first answer was lost would
 * re-run the run twice): after any failure the run is read back, and a new attempt (or the run queued
 * again) means GitHub took it. Only when the read-back shows nothing and the answer may have been lost
 * is the POST tried again (up to WRITE_TRIES in all). Returns null on a plain 201, the read-back when an answer was lost, or the error.
 */
async function requestRerun(port: RunsPort, plan: RerunPlan, current: WorkflowRun): Promise<null | { readBack: WorkflowRun; lostAnswer: string } | { error: unknown }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * attempt));
    try {
      await port.rerunFailedJobs(plan.repo, plan.runId);
      return attempt === 0 ? null : { readBack: await port.getRun(plan.repo, plan.runId), lostAnswer: describe(lastError) };
    } catch (err) {
      lastError = err;
      let readBack: WorkflowRun;
      try {
        readBack = await port.getRun(plan.repo, plan.runId);
      } catch {
        return { error: err };
      }
      if (rerunAccepted(current, readBack)) return { readBack, lostAnswer: describe(err) };
      if (!answerMayBeLost(err)) return { error: err };
    }
  }
  return { error: lastError };
}

const describe = (err: unknown): string => {
  const status = (err as { status?: number }).status;
  return status ? `HTTP ${status}` : 'no answer';
};
