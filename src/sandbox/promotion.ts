/**
 * What the config loop needs from the sandbox, answering as GitHub documents it: merging a pull
 * request (merge methods, `sha` guard, branch protection's required checks and reviews), commit
 * statuses and the combined status, branch protection, workflow dispatch, and a simulated CI that
 * checks every new pull request head.
 */
import type { FlatEntry } from './git.js';
import type { CheckRunModel, JobModel, ProtectionModel, PullModel, RepoModel, RunModel, StatusModel } from './model.js';
import type { SandboxState } from './state.js';
import { SandboxHttpError, notFound } from './util.js';

/** GitHub Actions' own app, which owns the check runs of workflow jobs. */
export const GITHUB_ACTIONS_APP = { id: 15368, slug: 'github-actions', name: 'GitHub Actions' };

const SANDBOX_IDENTITY = { name: 'Sandbox', email: 'sandbox@example.com' };

function flatAt(r: RepoModel, commitSha: string): Map<string, FlatEntry> {
  return r.git.flatten(r.git.commit(commitSha)!.tree);
}

function changedPaths(before: Map<string, FlatEntry>, after: Map<string, FlatEntry>): Set<string> {
  const out = new Set<string>();
  for (const [p, e] of after) if (before.get(p)?.sha !== e.sha) out.add(p);
  for (const p of before.keys()) if (!after.has(p)) out.add(p);
  return out;
}

/** Nearest common ancestor of two commits (breadth first from `b`). */
function mergeBase(r: RepoModel, a: string, b: string): string | null {
  const queue = [b];
  const seen = new Set<string>();
  while (queue.length) {
    const s = queue.shift()!;
    if (seen.has(s)) continue;
    seen.add(s);
    if (r.git.isAncestor(s, a)) return s;
    queue.push(...(r.git.commit(s)?.parents ?? []));
  }
  return null;
}

/**
 * The tree a merge of the pull request would produce, or null on a conflict: head's changes since
 * the merge base applied on the base branch, refused when both sides changed the same path.
 */
function mergedTree(r: RepoModel, p: PullModel): Map<string, FlatEntry> | null {
  const baseHead = r.refs.get(`refs/heads/${p.baseRef}`);
  if (!baseHead || !r.git.commit(p.headSha)) return null;
  if (r.git.isAncestor(baseHead, p.headSha)) return flatAt(r, p.headSha);
  const base = mergeBase(r, baseHead, p.headSha);
  if (!base) return null;
  const at = flatAt(r, base);
  const head = flatAt(r, p.headSha);
  const ours = changedPaths(at, flatAt(r, baseHead));
  const theirs = changedPaths(at, head);
  for (const path of theirs) if (ours.has(path)) return null;
  const out = flatAt(r, baseHead);
  for (const path of theirs) {
    const e = head.get(path);
    if (e) out.set(path, e);
    else out.delete(path);
  }
  return out;
}

export function pullMergeable(r: RepoModel, p: PullModel): boolean {
  return !p.fromFork && mergedTree(r, p) !== null;
}

/** The latest status per context for a commit (GitHub keeps every post; the newest one counts). */
function latestStatuses(r: RepoModel, sha: string): StatusModel[] {
  const byContext = new Map<string, StatusModel>();
  for (const s of r.statuses.filter((x) => x.sha === sha).sort((a, b) => a.id - b.id)) byContext.set(s.context, s);
  return [...byContext.values()].sort((a, b) => b.id - a.id);
}

/** `GET /commits/{ref}/status`: failure if any is error/failure, pending if any pending or none, else success. */
export function combinedStatus(r: RepoModel, sha: string): { state: 'failure' | 'pending' | 'success'; statuses: StatusModel[] } {
  const statuses = latestStatuses(r, sha);
  const state = statuses.some((s) => s.state === 'failure' || s.state === 'error') ? 'failure' : statuses.length === 0 || statuses.some((s) => s.state === 'pending') ? 'pending' : 'success';
  return { state, statuses };
}

export function createStatus(state: SandboxState, r: RepoModel, sha: string, input: { state: StatusModel['state']; context?: string; description?: string | null; target_url?: string | null; creator: string }): StatusModel {
  const now = state.timestamp();
  const s: StatusModel = {
    id: state.nextId() + 3_000_000_000, sha, context: input.context ?? 'default', state: input.state, description: input.description ?? null,
    target_url: input.target_url ?? null, creator: input.creator, created_at: now, updated_at: now,
  };
  r.statuses.push(s);
  return s;
}

/** How a required check stands on a commit: a commit status by context or a check run by name. */
function requiredCheckState(r: RepoModel, sha: string, context: string): 'success' | 'pending' | 'failure' | 'missing' {
  const status = latestStatuses(r, sha).find((s) => s.context === context);
  const runs = [...r.checkRuns.values()].filter((c) => c.head_sha === sha && c.name === context).sort((a, b) => b.id - a.id);
  const run = runs[0];
  if (!status && !run) return 'missing';
  if (status && (status.state === 'failure' || status.state === 'error')) return 'failure';
  if (run && run.status === 'completed' && !['success', 'neutral', 'skipped'].includes(run.conclusion ?? '')) return 'failure';
  if ((status && status.state === 'pending') || (run && run.status !== 'completed')) return 'pending';
  return 'success';
}

/** Why branch protection refuses the merge (GitHub's 405 messages), or null. */
function protectionRefusal(r: RepoModel, p: PullModel): string | null {
  const rule = r.protection.get(p.baseRef);
  if (!rule) return null;
  if (rule.required_approving_review_count) {
    return `At least ${rule.required_approving_review_count} approving review${rule.required_approving_review_count > 1 ? 's are' : ' is'} required by reviewers with write access.`;
  }
  const checks = rule.required_status_checks;
  if (checks) {
    const baseHead = r.refs.get(`refs/heads/${p.baseRef}`)!;
    if (checks.strict && !r.git.isAncestor(baseHead, p.headSha)) return 'Head branch is out of date. Review and try the merge again.';
    for (const context of checks.contexts) {
      const st = requiredCheckState(r, p.headSha, context);
      if (st === 'missing' || st === 'pending') return `Required status check "${context}" is expected.`;
      if (st === 'failure') return `Required status check "${context}" is failing.`;
    }
  }
  return null;
}

const METHOD_REFUSED: Record<'merge' | 'squash' | 'rebase', string> = {
  merge: 'Merge commits are not allowed on this repository.',
  squash: 'Squash merges are not allowed on this repository.',
  rebase: 'Rebase merges are not allowed on this repository.',
};

/** `PUT /pulls/{n}/merge`. */
export function mergePull(
  state: SandboxState,
  r: RepoModel,
  p: PullModel,
  body: { merge_method?: unknown; sha?: unknown; commit_title?: unknown; commit_message?: unknown },
  actor: string,
): { sha: string; merged: true; message: string } {
  const issue = r.issues.get(p.number)!;
  const method = body.merge_method ?? 'merge';
  if (method !== 'merge' && method !== 'squash' && method !== 'rebase') {
    throw new SandboxHttpError(422, 'Invalid request.\n\nmerge_method is not a valid merge method.', { errors: [{ resource: 'PullRequest', field: 'merge_method', code: 'invalid' }] });
  }
  if (issue.state !== 'open' || p.merged) throw new SandboxHttpError(405, 'Pull Request is not mergeable');
  if (typeof body.sha === 'string' && body.sha !== p.headSha) throw new SandboxHttpError(409, 'Head branch was modified. Review and try the merge again.');
  if (!r.mergeMethods[method]) throw new SandboxHttpError(405, METHOD_REFUSED[method]);
  const refusal = protectionRefusal(r, p);
  if (refusal) throw new SandboxHttpError(405, refusal);
  const flat = mergedTree(r, p);
  if (!flat) throw new SandboxHttpError(405, 'Pull Request is not mergeable');
  const baseRef = `refs/heads/${p.baseRef}`;
  const baseHead = r.refs.get(baseRef)!;
  const date = state.timestamp();
  const title = typeof body.commit_title === 'string' && body.commit_title ? body.commit_title : method === 'merge' ? `Merge pull request #${p.number} from ${p.headRepoFullName.split('/')[0]}/${p.headRef}` : `${issue.title} (#${p.number})`;
  const extra = typeof body.commit_message === 'string' ? body.commit_message : method === 'merge' ? issue.title : '';
  const tree = r.git.buildTree(flat);
  // rebase: the sandbox replays the pull request as one commit on the base (GitHub replays each commit).
  const parents = method === 'merge' ? [baseHead, p.headSha] : [baseHead];
  const commit = r.git.putCommit({ tree: tree.sha, parents, message: extra ? `${title}\n\n${extra}` : title, author: { ...SANDBOX_IDENTITY, date }, committer: { ...SANDBOX_IDENTITY, date } });
  r.refs.set(baseRef, commit.sha);
  r.pushed_at = date;
  Object.assign(p, { merged: true, merged_at: date, merge_commit_sha: commit.sha, merged_by: actor });
  Object.assign(issue, { state: 'closed', state_reason: 'completed', closed_at: date, updated_at: date });
  return { sha: commit.sha, merged: true, message: 'Pull Request successfully merged' };
}

/** Open pull requests follow their head branch, and CI checks each new head. */
export function afterBranchMoved(state: SandboxState, r: RepoModel, ref: string): void {
  const branch = ref.replace(/^refs\/heads\//, '');
  const sha = r.refs.get(ref);
  if (!sha || ref === branch) return;
  for (const p of r.pulls.values()) {
    if (p.fromFork || p.headRef !== branch || r.issues.get(p.number)!.state !== 'open' || p.headSha === sha) continue;
    p.headSha = sha;
    runCiOnPull(state, r, p);
  }
}

/** The simulated CI: the deploy workflow on the pull request and the external statuses. */
export function runCiOnPull(state: SandboxState, r: RepoModel, p: PullModel): void {
  if (p.fromFork) return;
  for (const [context, st] of Object.entries(r.ci.statuses)) {
    createStatus(state, r, p.headSha, { state: st, context, description: `${context}: ${st}`, target_url: `${state.url}/${r.fullName}/ci/${p.headSha.slice(0, 7)}`, creator: 'ci-bot' });
  }
  if (r.ci.workflowOnPullRequests) {
    for (const wf of r.workflows.filter((w) => w.state === 'active')) state.triggerRun(r.owner, r.name, wf.name, { pullRequest: p.number, event: 'pull_request', actor: 'octocat' });
  }
}

/** One check run per executed job, owned by GitHub Actions, when the repository's CI is simulated. */
export function jobCheckRuns(state: SandboxState, r: RepoModel, jobs: JobModel[]): void {
  if (!r.ci.workflowOnPullRequests) return;
  for (const j of jobs) {
    const check: Partial<CheckRunModel> & { name: string; head_sha: string } = {
      name: j.name, head_sha: j.headSha, status: 'completed', conclusion: j.conclusion, started_at: j.started_at, completed_at: j.completed_at,
      details_url: `${state.url}/${r.fullName}/actions/runs/${j.runId}/job/${j.id}`, app: GITHUB_ACTIONS_APP,
    };
    state.createCheckRun(r.owner, r.name, check);
  }
}

/** The deploy's health check on the default branch: false while `ci.failNextDeploys` lasts. */
export function deployHealthCheck(r: RepoModel, run: RunModel): (() => boolean) | undefined {
  if (run.headBranch !== r.defaultBranch) return undefined;
  return () => {
    if (r.ci.failNextDeploys <= 0) return true;
    r.ci.failNextDeploys -= 1;
    return false;
  };
}

/** `POST /actions/workflows/{id}/dispatches`: runs the workflow on a branch (or tag) head. */
export function dispatchWorkflow(state: SandboxState, r: RepoModel, workflowId: string, ref: unknown, actor: string): RunModel {
  const wf = state.workflow(r, workflowId);
  if (!wf) throw notFound();
  if (typeof ref !== 'string' || !ref) throw new SandboxHttpError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
  const branch = ref.replace(/^refs\/heads\//, '');
  const sha = r.refs.get(`refs/heads/${branch}`) ?? r.refs.get(`refs/tags/${ref.replace(/^refs\/tags\//, '')}`);
  if (!sha) throw new SandboxHttpError(422, `No ref found for: ${ref}`);
  const yaml = r.git.fileAt(sha, wf.path)?.content.toString('utf8') ?? '';
  if (!/^\s*workflow_dispatch:/m.test(yaml)) throw new SandboxHttpError(422, "Workflow does not have 'workflow_dispatch' trigger");
  return state.triggerRun(r.owner, r.name, wf.name, { headBranch: branch, headSha: sha, event: 'workflow_dispatch', actor });
}

export function protectionShape(state: SandboxState, r: RepoModel, branch: string, p: ProtectionModel): Record<string, unknown> {
  const url = `${state.apiUrl}/repos/${r.fullName}/branches/${encodeURIComponent(branch)}/protection`;
  return {
    url,
    required_status_checks: p.required_status_checks
      ? { url: `${url}/required_status_checks`, strict: p.required_status_checks.strict, contexts: p.required_status_checks.contexts, checks: p.required_status_checks.contexts.map((context) => ({ context, app_id: null })), contexts_url: `${url}/required_status_checks/contexts` }
      : undefined,
    enforce_admins: { url: `${url}/enforce_admins`, enabled: p.enforce_admins },
    required_pull_request_reviews: p.required_approving_review_count
      ? { url: `${url}/required_pull_request_reviews`, dismiss_stale_reviews: false, require_code_owner_reviews: false, required_approving_review_count: p.required_approving_review_count, require_last_push_approval: false }
      : undefined,
    required_linear_history: { enabled: p.required_linear_history },
    allow_force_pushes: { enabled: false },
    allow_deletions: { enabled: false },
    required_conversation_resolution: { enabled: false },
    lock_branch: { enabled: false },
    allow_fork_syncing: { enabled: false },
  };
}

/** `PUT /branches/{branch}/protection` body -> model (422 on what GitHub also refuses). */
export function parseProtection(body: Record<string, unknown>): ProtectionModel {
  for (const k of ['required_status_checks', 'enforce_admins', 'required_pull_request_reviews', 'restrictions']) {
    if (!(k in body)) throw new SandboxHttpError(422, `Invalid request.\n\n"${k}" wasn't supplied.`);
  }
  const rsc = body.required_status_checks as { strict?: unknown; contexts?: unknown; checks?: unknown } | null;
  let required: ProtectionModel['required_status_checks'] = null;
  if (rsc !== null) {
    if (typeof rsc !== 'object' || typeof rsc.strict !== 'boolean') throw new SandboxHttpError(422, 'Invalid request.\n\nFor \'properties/required_status_checks\', strict is required.');
    const fromChecks = Array.isArray(rsc.checks) ? rsc.checks.map((c) => String((c as { context?: unknown }).context ?? '')) : [];
    const contexts = Array.isArray(rsc.contexts) ? rsc.contexts.map(String) : [];
    required = { strict: rsc.strict, contexts: [...new Set([...contexts, ...fromChecks])].filter(Boolean) };
  }
  const reviews = body.required_pull_request_reviews as { required_approving_review_count?: unknown } | null;
  const count = reviews && typeof reviews.required_approving_review_count === 'number' ? reviews.required_approving_review_count : reviews ? 1 : null;
  return { required_status_checks: required, enforce_admins: body.enforce_admins === true, required_approving_review_count: count, required_linear_history: body.required_linear_history === true };
}
