/**
 * The REST calls of the config loop (src/pipeline/config-loop.ts): pull requests, their head's check
 * runs and commit statuses, branch protection, merge settings, merging, and workflow dispatch.
 * Composed into GitHubAdapter; the only place these paths are known.
 */
import type { RepoRef } from '../core/schemas/index.js';
import type { BranchRules, CheckState, HeadCheck, MergeMethod, PromotionPort, PullRequestInfo, WorkflowRun } from '../ports/index.js';
import { MergeRefusedError } from '../ports/index.js';
import { GitHubPermissionError, githubMessage, isNotFound, isPermissionError, type GitHubPermission } from './errors.js';
import { mapWorkflowRun, type RawWorkflowRun } from './webhook-run.js';

type Request = (route: string, params?: Record<string, unknown>) => Promise<{ status: number; data: unknown; headers?: Record<string, unknown> }>;
type Paginate = <R>(route: string, params: Record<string, unknown>, key: string | null) => Promise<R[]>;

const PER_PAGE = 100;
const statusOf = (e: unknown): number | undefined => (e as { status?: number }).status;

async function guarded<T>(permission: GitHubPermission, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isPermissionError(e)) throw new GitHubPermissionError(permission, operation, githubMessage(e));
    throw e;
  }
}

interface RawCheckRun { name: string; status: string; conclusion: string | null; html_url?: string | null; details_url?: string | null; app?: { slug?: string } | null; id: number }
interface RawStatus { context: string; state: string; target_url?: string | null; id: number }

/** A check run's state: success/neutral/skipped pass, other conclusions fail, not completed is pending. */
function checkRunState(c: RawCheckRun): CheckState {
  if (c.status !== 'completed') return 'pending';
  return c.conclusion === 'success' || c.conclusion === 'neutral' || c.conclusion === 'skipped' ? 'success' : 'failure';
}

export class GitHubPromotion implements PromotionPort {
  constructor(
    private readonly req: Request,
    private readonly paginate: Paginate,
  ) {}

  getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    return guarded('pull_requests', `read pull request #${number}`, async () => {
      const { data } = await this.req('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...repo, pull_number: number });
      const d = data as { number: number; html_url: string; state: string; merged?: boolean; mergeable?: boolean | null; merge_commit_sha?: string | null; head: { sha: string; ref: string }; base: { ref: string } };
      return {
        number: d.number, html_url: d.html_url, state: d.state === 'open' ? 'open' : 'closed', merged: d.merged === true,
        mergeable: d.mergeable ?? null, head_sha: d.head.sha, head_ref: d.head.ref, base_ref: d.base.ref, merge_commit_sha: d.merge_commit_sha ?? null,
      };
    });
  }

  /** Latest check run per name and latest status per context on `sha` (all pages of both). */
  listHeadChecks(repo: RepoRef, sha: string): Promise<HeadCheck[]> {
    return guarded('checks', `read checks of ${sha.slice(0, 7)}`, async () => {
      const runs = await this.paginate<RawCheckRun>('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...repo, ref: sha, filter: 'latest', per_page: PER_PAGE }, 'check_runs');
      const statuses = await this.paginate<RawStatus>('GET /repos/{owner}/{repo}/commits/{ref}/statuses', { ...repo, ref: sha, per_page: PER_PAGE }, null);
      const out = new Map<string, HeadCheck>();
      for (const c of [...runs].sort((a, b) => a.id - b.id)) out.set(`check:${c.name}`, { name: c.name, source: 'check_run', state: checkRunState(c), app: c.app?.slug ?? null, url: c.html_url ?? c.details_url ?? null });
      // Statuses come newest first; the newest per context counts.
      for (const s of [...statuses].sort((a, b) => a.id - b.id)) {
        out.set(`status:${s.context}`, { name: s.context, source: 'status', state: s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure', app: null, url: s.target_url ?? null });
      }
      return [...out.values()];
    });
  }

  /** null when the branch is not protected (GitHub's 404 "Branch not protected"). Needs Administration: read. */
  getBranchRules(repo: RepoRef, branch: string): Promise<BranchRules | null> {
    return guarded('administration', `read protection of ${branch}`, async () => {
      try {
        const { data } = await this.req('GET /repos/{owner}/{repo}/branches/{branch}/protection', { ...repo, branch });
        const d = data as { required_status_checks?: { strict?: boolean; contexts?: string[]; checks?: { context: string }[] } | null; required_pull_request_reviews?: { required_approving_review_count?: number } | null };
        const rsc = d.required_status_checks;
        const contexts = [...new Set([...(rsc?.contexts ?? []), ...(rsc?.checks ?? []).map((c) => c.context)])];
        return {
          required_checks: contexts, strict: rsc?.strict === true,
          required_approving_reviews: d.required_pull_request_reviews ? (d.required_pull_request_reviews.required_approving_review_count ?? 1) : 0,
        };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    });
  }

  /** The repository's allowed merge methods; null when GitHub does not show them to this token. */
  getMergeMethods(repo: RepoRef): Promise<Record<MergeMethod, boolean> | null> {
    return guarded('metadata', 'read repository', async () => {
      const { data } = await this.req('GET /repos/{owner}/{repo}', { ...repo });
      const d = data as { allow_merge_commit?: boolean; allow_squash_merge?: boolean; allow_rebase_merge?: boolean };
      if (d.allow_merge_commit === undefined && d.allow_squash_merge === undefined && d.allow_rebase_merge === undefined) return null;
      return { merge: d.allow_merge_commit === true, squash: d.allow_squash_merge === true, rebase: d.allow_rebase_merge === true };
    });
  }

  /** `sha` guards against a head that moved after the checks were read (409). */
  mergePullRequest(repo: RepoRef, number: number, opts: { method: MergeMethod; sha: string; title: string; message: string }): Promise<{ sha: string }> {
    return guarded('contents', `merge pull request #${number}`, async () => {
      try {
        const { data } = await this.req('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', { ...repo, pull_number: number, merge_method: opts.method, sha: opts.sha, commit_title: opts.title, commit_message: opts.message });
        return { sha: String((data as { sha: string }).sha) };
      } catch (e) {
        const status = statusOf(e);
        if (status === 405 || status === 409 || status === 422) throw new MergeRefusedError(status, githubMessage(e));
        throw e;
      }
    });
  }

  /**
   * Dispatches `workflow` (id or file name) on `ref`. Asks for the run (return_run_details, February
   * 2026); a server that does not know the parameter (older GitHub Enterprise) is asked again without it.
   */
  dispatchWorkflow(repo: RepoRef, workflow: string | number, ref: string): Promise<{ runId: number | null }> {
    return guarded('actions', `dispatch workflow ${workflow} on ${ref}`, async () => {
      const route = 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
      try {
        const res = await this.req(route, { ...repo, workflow_id: workflow, ref, return_run_details: true });
        const id = (res.data as { workflow_run_id?: unknown } | null)?.workflow_run_id;
        return { runId: typeof id === 'number' ? id : null };
      } catch (e) {
        if ((statusOf(e) === 400 || statusOf(e) === 422) && /return_run_details/i.test(githubMessage(e))) {
          await this.req(route, { ...repo, workflow_id: workflow, ref });
          return { runId: null };
        }
        throw e;
      }
    });
  }

  /** Runs of `workflow` for `event` on `branch` at `headSha`, newest first (to find a dispatched run). */
  findRuns(repo: RepoRef, workflow: string | number, filter: { event: string; branch: string; headSha: string }): Promise<WorkflowRun[]> {
    return guarded('actions', `list runs of workflow ${workflow}`, async () => {
      const { data } = await this.req('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', { ...repo, workflow_id: workflow, event: filter.event, branch: filter.branch, head_sha: filter.headSha, per_page: 20 });
      return ((data as { workflow_runs?: RawWorkflowRun[] }).workflow_runs ?? []).map((r) => mapWorkflowRun(r));
    });
  }
}
