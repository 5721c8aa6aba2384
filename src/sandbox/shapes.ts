/** GitHub REST JSON shapes of the sandbox's models (field names as in GitHub's REST reference). */
import type { CommitObject } from './git.js';
import type { AttemptModel, CheckRunModel, CommentModel, EnvironmentModel, IssueModel, JobModel, PullModel, RepoModel, RunModel, WorkflowModel } from './model.js';
import { pullMergeable } from './promotion.js';
import type { SandboxState } from './state.js';

const nodeId = (kind: string, id: number | string): string => Buffer.from(`${kind}:${id}`).toString('base64').replace(/=+$/, '');

export function user(state: SandboxState, login: string): Record<string, unknown> {
  const bot = login.endsWith('[bot]');
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100_000_000, 7);
  return {
    login, id, node_id: nodeId(bot ? 'Bot' : 'User', id), avatar_url: `${state.url}/avatars/${encodeURIComponent(login)}`,
    url: `${state.apiUrl}/users/${encodeURIComponent(login)}`, html_url: `${state.url}/${encodeURIComponent(login)}`, type: bot ? 'Bot' : 'User', site_admin: false,
  };
}

export function repoShape(state: SandboxState, r: RepoModel): Record<string, unknown> {
  const api = `${state.apiUrl}/repos/${r.fullName}`;
  return {
    id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: r.fullName, private: r.private, owner: user(state, r.owner),
    html_url: `${state.url}/${r.fullName}`, description: null, fork: r.fork, url: api, git_url: `git://${state.url.replace(/^https?:\/\//, '')}/${r.fullName}.git`,
    clone_url: `${state.url}/${r.fullName}.git`, default_branch: r.defaultBranch, visibility: r.private ? 'private' : 'public',
    created_at: r.created_at, updated_at: r.pushed_at, pushed_at: r.pushed_at, archived: false, disabled: false,
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    allow_merge_commit: r.mergeMethods.merge, allow_squash_merge: r.mergeMethods.squash, allow_rebase_merge: r.mergeMethods.rebase,
  };
}

/** The minimal repository object GitHub embeds in workflow runs. */
function miniRepo(state: SandboxState, fullName: string, id: number): Record<string, unknown> {
  const owner = fullName.split('/')[0]!;
  return { id, node_id: nodeId('Repository', id), name: fullName.split('/')[1], full_name: fullName, private: false, owner: user(state, owner), html_url: `${state.url}/${fullName}`, url: `${state.apiUrl}/repos/${fullName}` };
}

export function workflowShape(state: SandboxState, r: RepoModel, w: WorkflowModel): Record<string, unknown> {
  return {
    id: w.id, node_id: nodeId('Workflow', w.id), name: w.name, path: w.path, state: w.state, created_at: w.created_at, updated_at: w.updated_at,
    url: `${state.apiUrl}/repos/${r.fullName}/actions/workflows/${w.id}`, html_url: `${state.url}/${r.fullName}/blob/${r.defaultBranch}/${w.path}`,
    badge_url: `${state.url}/${r.fullName}/workflows/${encodeURIComponent(w.name)}/badge.svg`,
  };
}

function pullRef(state: SandboxState, r: RepoModel, p: PullModel): Record<string, unknown> {
  return {
    id: p.id, number: p.number, url: `${state.apiUrl}/repos/${r.fullName}/pulls/${p.number}`,
    head: { ref: p.headRef, sha: p.headSha, repo: { id: r.id, url: `${state.apiUrl}/repos/${p.headRepoFullName}`, name: r.name } },
    base: { ref: p.baseRef, sha: r.refs.get(`refs/heads/${p.baseRef}`) ?? null, repo: { id: r.id, url: `${state.apiUrl}/repos/${r.fullName}`, name: r.name } },
  };
}

export function workflowRunShape(state: SandboxState, r: RepoModel, run: RunModel, attempt?: AttemptModel): Record<string, unknown> {
  const a = attempt ?? run.attempts[run.attempts.length - 1]!;
  const api = `${state.apiUrl}/repos/${r.fullName}/actions/runs/${run.id}`;
  const commit = r.git.commit(run.headSha);
  return {
    id: run.id, name: run.name, node_id: nodeId('WorkflowRun', run.id), check_suite_id: run.id + 1, head_branch: run.headBranch, head_sha: run.headSha,
    path: run.path, display_title: commit?.message.split('\n')[0] ?? run.name, run_number: run.runNumber, event: run.event, status: a.status, conclusion: a.conclusion,
    workflow_id: run.workflowId, url: api, html_url: `${state.url}/${r.fullName}/actions/runs/${run.id}`,
    pull_requests: run.pullRequests.map((n) => r.pulls.get(n)).filter((p): p is PullModel => !!p).map((p) => pullRef(state, r, p)),
    created_at: run.created_at, updated_at: a.updated_at, run_attempt: a.attempt, run_started_at: a.run_started_at,
    actor: user(state, run.actor), triggering_actor: user(state, a.triggeringActor),
    jobs_url: `${api}/jobs`, logs_url: `${api}/logs`, check_suite_url: `${state.apiUrl}/repos/${r.fullName}/check-suites/${run.id + 1}`,
    artifacts_url: `${api}/artifacts`, cancel_url: `${api}/cancel`, rerun_url: `${api}/rerun`,
    previous_attempt_url: a.attempt > 1 ? `${api}/attempts/${a.attempt - 1}` : null,
    workflow_url: `${state.apiUrl}/repos/${r.fullName}/actions/workflows/${run.workflowId}`,
    head_commit: commit ? { id: commit.sha, tree_id: commit.tree, message: commit.message, timestamp: commit.committer.date, author: { name: commit.author.name, email: commit.author.email }, committer: { name: commit.committer.name, email: commit.committer.email } } : null,
    repository: miniRepo(state, r.fullName, r.id),
    head_repository: miniRepo(state, run.headRepoFullName, run.headRepoFullName === r.fullName ? r.id : r.id + 500_000_000),
  };
}

export function jobShape(state: SandboxState, r: RepoModel, j: JobModel): Record<string, unknown> {
  return {
    id: j.id, run_id: j.runId, run_url: `${state.apiUrl}/repos/${r.fullName}/actions/runs/${j.runId}`, run_attempt: j.runAttempt,
    node_id: nodeId('CheckRun', j.id), head_sha: j.headSha, head_branch: j.headBranch, url: `${state.apiUrl}/repos/${r.fullName}/actions/jobs/${j.id}`,
    html_url: `${state.url}/${r.fullName}/actions/runs/${j.runId}/job/${j.id}`, status: j.status, conclusion: j.conclusion,
    created_at: j.created_at, started_at: j.started_at, completed_at: j.completed_at, name: j.name, workflow_name: j.workflowName,
    steps: j.steps.map((s) => ({ ...s })), check_run_url: `${state.apiUrl}/repos/${r.fullName}/check-runs/${j.id}`,
    labels: ['ubuntu-latest'], runner_id: j.runnerName ? 1 : null, runner_name: j.runnerName || null, runner_group_id: j.runnerName ? 0 : null, runner_group_name: j.runnerName ? 'GitHub Actions' : null,
  };
}

/** `workflow_run` webhook body: action, workflow_run, workflow, repository, installation, sender. */
export function workflowRunPayload(state: SandboxState, r: RepoModel, run: RunModel): Record<string, unknown> {
  const wf = r.workflows.find((w) => w.id === run.workflowId);
  const a = run.attempts[run.attempts.length - 1]!;
  return {
    action: 'completed',
    workflow_run: workflowRunShape(state, r, run),
    workflow: wf ? workflowShape(state, r, wf) : null,
    repository: repoShape(state, r),
    organization: undefined,
    installation: { id: state.installation.id, node_id: nodeId('Installation', state.installation.id) },
    sender: user(state, a.triggeringActor),
  };
}

export function environmentShape(state: SandboxState, r: RepoModel, e: EnvironmentModel): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  if (e.wait_timer > 0) rules.push({ id: e.id * 10 + 1, node_id: nodeId('Gate', e.id * 10 + 1), type: 'wait_timer', wait_timer: e.wait_timer });
  if (e.reviewers.length) rules.push({ id: e.id * 10 + 2, node_id: nodeId('Gate', e.id * 10 + 2), type: 'required_reviewers', prevent_self_review: e.prevent_self_review, reviewers: e.reviewers.map((rv) => ({ type: rv.type, reviewer: { id: rv.id } })) });
  if (e.deployment_branch_policy) rules.push({ id: e.id * 10 + 3, node_id: nodeId('Gate', e.id * 10 + 3), type: 'branch_policy' });
  return {
    id: e.id, node_id: nodeId('Environment', e.id), name: e.name, url: `${state.apiUrl}/repos/${r.fullName}/environments/${encodeURIComponent(e.name)}`,
    html_url: `${state.url}/${r.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(e.name)}`,
    created_at: e.created_at, updated_at: e.updated_at, can_admins_bypass: true, protection_rules: rules, deployment_branch_policy: e.deployment_branch_policy,
  };
}

export function issueShape(state: SandboxState, r: RepoModel, i: IssueModel): Record<string, unknown> {
  const api = `${state.apiUrl}/repos/${r.fullName}/issues/${i.number}`;
  const comments = [...r.comments.values()].filter((c) => c.issueNumber === i.number).length;
  return {
    id: i.id, node_id: nodeId('Issue', i.id), url: api, repository_url: `${state.apiUrl}/repos/${r.fullName}`, comments_url: `${api}/comments`,
    html_url: `${state.url}/${r.fullName}/${i.isPull ? 'pull' : 'issues'}/${i.number}`, number: i.number, state: i.state, state_reason: i.state_reason,
    title: i.title, body: i.body, user: user(state, i.user), labels: i.labels.map((name, k) => ({ id: i.id * 100 + k, name, color: 'ededed', default: false })),
    assignees: i.assignees.map((a) => user(state, a)), assignee: i.assignees[0] ? user(state, i.assignees[0]) : null, locked: false, comments,
    created_at: i.created_at, updated_at: i.updated_at, closed_at: i.closed_at, author_association: 'OWNER',
    ...(i.isPull ? { pull_request: { url: `${state.apiUrl}/repos/${r.fullName}/pulls/${i.number}`, html_url: `${state.url}/${r.fullName}/pull/${i.number}` } } : {}),
  };
}

export function commentShape(state: SandboxState, r: RepoModel, c: CommentModel): Record<string, unknown> {
  return {
    id: c.id, node_id: nodeId('IssueComment', c.id), url: `${state.apiUrl}/repos/${r.fullName}/issues/comments/${c.id}`,
    html_url: `${state.url}/${r.fullName}/issues/${c.issueNumber}#issuecomment-${c.id}`, issue_url: `${state.apiUrl}/repos/${r.fullName}/issues/${c.issueNumber}`,
    body: c.body, user: user(state, c.user), created_at: c.created_at, updated_at: c.updated_at, author_association: c.user.endsWith('[bot]') ? 'NONE' : 'OWNER',
  };
}

export function pullShape(state: SandboxState, r: RepoModel, p: PullModel): Record<string, unknown> {
  const i = r.issues.get(p.number)!;
  const headOwner = p.headRepoFullName.split('/')[0]!;
  const headRepo = p.fromFork ? { ...miniRepo(state, p.headRepoFullName, r.id + 500_000_000), fork: true } : repoShape(state, r);
  return {
    id: p.id, node_id: nodeId('PullRequest', p.id), number: p.number, url: `${state.apiUrl}/repos/${r.fullName}/pulls/${p.number}`,
    html_url: `${state.url}/${r.fullName}/pull/${p.number}`, issue_url: `${state.apiUrl}/repos/${r.fullName}/issues/${p.number}`,
    state: i.state, title: i.title, body: i.body, user: user(state, i.user), draft: p.draft, merged: p.merged, locked: false,
    created_at: i.created_at, updated_at: i.updated_at, closed_at: i.closed_at, merged_at: p.merged_at ?? null, labels: issueShape(state, r, i).labels,
    merge_commit_sha: p.merge_commit_sha ?? null, merged_by: p.merged_by ? user(state, p.merged_by) : null,
    // GitHub computes mergeability in the background (null until known); the sandbox knows at once.
    mergeable: i.state === 'open' ? pullMergeable(r, p) : null, mergeable_state: i.state === 'open' ? (pullMergeable(r, p) ? 'clean' : 'dirty') : 'unknown',
    head: { label: `${headOwner}:${p.headRef}`, ref: p.headRef, sha: p.headSha, user: user(state, headOwner), repo: headRepo },
    base: { label: `${r.owner}:${p.baseRef}`, ref: p.baseRef, sha: r.refs.get(`refs/heads/${p.baseRef}`) ?? null, user: user(state, r.owner), repo: repoShape(state, r) },
    author_association: 'OWNER',
  };
}

export function checkRunShape(state: SandboxState, r: RepoModel, c: CheckRunModel): Record<string, unknown> {
  return {
    id: c.id, node_id: nodeId('CheckRun', c.id), name: c.name, head_sha: c.head_sha, external_id: c.external_id, status: c.status, conclusion: c.conclusion,
    started_at: c.started_at, completed_at: c.completed_at, details_url: c.details_url, url: `${state.apiUrl}/repos/${r.fullName}/check-runs/${c.id}`,
    html_url: `${state.url}/${r.fullName}/runs/${c.id}`, output: c.output, app: c.app ?? { id: state.installation.appId, slug: state.installation.appSlug, name: 'Living Bridge (sandbox)' },
    check_suite: { id: c.id + 1 }, pull_requests: [],
  };
}

export function commitShape(state: SandboxState, r: RepoModel, c: CommitObject): Record<string, unknown> {
  return {
    sha: c.sha, node_id: nodeId('Commit', c.sha), url: `${state.apiUrl}/repos/${r.fullName}/git/commits/${c.sha}`, html_url: `${state.url}/${r.fullName}/commit/${c.sha}`,
    author: c.author, committer: c.committer, message: c.message,
    tree: { sha: c.tree, url: `${state.apiUrl}/repos/${r.fullName}/git/trees/${c.tree}` },
    parents: c.parents.map((p) => ({ sha: p, url: `${state.apiUrl}/repos/${r.fullName}/git/commits/${p}`, html_url: `${state.url}/${r.fullName}/commit/${p}` })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null },
  };
}

export function refShape(state: SandboxState, r: RepoModel, ref: string, sha: string): Record<string, unknown> {
  return {
    ref, node_id: nodeId('Ref', `${r.id}:${ref}`), url: `${state.apiUrl}/repos/${r.fullName}/git/${ref}`,
    object: { sha, type: 'commit', url: `${state.apiUrl}/repos/${r.fullName}/git/commits/${sha}` },
  };
}

/** `issue_comment.created`, as GitHub sends it for a comment on an issue or a pull request. */
export function issueCommentPayload(state: SandboxState, r: RepoModel, c: CommentModel): Record<string, unknown> {
  const issue = r.issues.get(c.issueNumber)!;
  return {
    action: 'created',
    issue: issueShape(state, r, issue),
    comment: commentShape(state, r, c),
    repository: repoShape(state, r),
    installation: { id: state.installation.id, node_id: nodeId('Installation', state.installation.id) },
    sender: user(state, c.user),
  };
}
