/**
 * ROLLBACK: redeploys the last good commit by re-running the last successful run of the same workflow
 * on the same branch (a re-run uses that run's commit and workflow file), then checks GitHub took it.
 */
import type { Change, RepoRef } from '../core/schemas/index.js';
import type { RunsPort, WorkflowRun } from '../ports/index.js';
import { failed, fromPortError, type EngineResult } from './report.js';
import { GITHUB_MAX_RUN_ATTEMPTS, rerunAccepted } from './rerun.js';

export interface RollbackPlan {
  repo: RepoRef;
  workflowId: number;
  branch: string;
  failedRunId: number;
}

export type RollbackReport = EngineResult<{ rolledBackTo?: { runId: number; headSha: string; htmlUrl: string } }>;

export async function executeRollback(port: RunsPort, plan: RollbackPlan): Promise<RollbackReport> {
  const ACTION = 'ROLLBACK' as const;
  const { repo, workflowId, branch, failedRunId } = plan;

  let good: WorkflowRun | null;
  try {
    good = await port.findLastSuccessfulRun(repo, workflowId, branch);
  } catch (err) {
    return fromPortError(ACTION, `finding the last successful run of workflow ${workflowId} on ${branch}`, err);
  }
  if (!good || good.id === failedRunId) {
    return failed(ACTION, 'no earlier successful run to roll back to', {
      notes: [`Workflow ${workflowId} has no successful run on ${branch} before run ${failedRunId}.`],
    });
  }
  if (good.run_attempt >= GITHUB_MAX_RUN_ATTEMPTS) {
    return failed(ACTION, `run ${good.id} is at attempt ${good.run_attempt}: GitHub allows at most ${GITHUB_MAX_RUN_ATTEMPTS} attempts of a run`);
  }

  const target = `run ${good.id} (rollback of ${failedRunId})`;
  try {
    await port.rerunRun(repo, good.id);
  } catch (err) {
    return fromPortError(ACTION, `re-running ${target}`, err);
  }

  const change: Change = {
    kind: 'run',
    target,
    scope: 'repository',
    op: 'rerun',
    before_fingerprint: `attempt:${good.run_attempt}`,
    after_fingerprint: `attempt:${good.run_attempt + 1}`,
  };
  const rolledBackTo = { runId: good.id, headSha: good.head_sha, htmlUrl: good.html_url };
  const done = `Rolled back ${branch}: re-running run ${good.id} (commit ${good.head_sha.slice(0, 7)}, the last successful deploy) instead of failed run ${failedRunId}.`;

  let after: WorkflowRun;
  try {
    after = await port.getRun(repo, good.id);
  } catch (err) {
    return {
      action: ACTION, ok: true, certified: false, changes: [change], rolledBackTo,
      notes: [done, `Could not read run ${good.id} back (${err instanceof Error ? err.message : String(err)}).`],
    };
  }
  const certified = rerunAccepted(good, after);
  if (after.run_attempt > good.run_attempt) change.after_fingerprint = `attempt:${after.run_attempt}`;
  return {
    action: ACTION,
    ok: true,
    certified,
    changes: [change],
    rolledBackTo,
    notes: [
      done,
      certified
        ? `Verified: run ${good.id} is now attempt ${after.run_attempt}, ${after.status}.`
        : `Not certified: run ${good.id} still shows attempt ${after.run_attempt}, ${after.status}.`,
    ],
  };
}
