/**
 * The sandbox routes the config loop uses, spoken to with @octokit/rest as GitHub would be: pulls
 * merge (methods, sha guard, branch protection), commit statuses and the combined status, branch
 * protection, workflow dispatch, and the simulated CI on pull request heads.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { classifyText } from '../../src/core/classify/index.js';
import { SANDBOX_ADMIN_TOKEN, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sb: Sandbox;
let gh: Octokit;
const owner = 'acme';

async function answer(p: Promise<unknown>): Promise<{ status: number; data: Record<string, unknown> }> {
  try {
    const r = (await p) as { status: number; data: Record<string, unknown> };
    return { status: r.status, data: r.data };
  } catch (err) {
    const e = err as { status?: number; response?: { data?: Record<string, unknown> } };
    if (typeof e.status !== 'number') throw err;
    return { status: e.status, data: e.response?.data ?? {} };
  }
}

function seedPull(repo: string, files: Record<string, string> = { 'vercel.json': '{"regions":["fra1"]}\n' }) {
  sb.state.createRepo({ owner, repo });
  const base = sb.state.headSha(owner, repo);
  const head = sb.state.commitFiles(owner, repo, 'fix', files, 'fix config', { parentSha: base });
  return sb.state.createPullRequest(owner, repo, { headBranch: 'fix', headSha: head, title: 'Fix config' });
}

beforeAll(async () => {
  sb = await startSandbox();
  gh = new Octokit({ auth: SANDBOX_ADMIN_TOKEN, baseUrl: sb.apiUrl, log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
});
afterAll(async () => {
  await sb?.close();
});

describe('merging a pull request', () => {
  it('merges with the asked method, moves the base, closes the PR and reports the merge commit', async () => {
    const pr = seedPull('merge-ok');
    const res = await gh.pulls.merge({ owner, repo: 'merge-ok', pull_number: pr.number, merge_method: 'squash', sha: pr.headSha });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ merged: true, message: 'Pull Request successfully merged' });
    const main = sb.state.headSha(owner, 'merge-ok');
    expect(main).toBe(res.data.sha);
    expect(sb.state.repo(owner, 'merge-ok').git.commit(main)!.parents).toHaveLength(1); // squash: one parent
    const { data: after } = await gh.pulls.get({ owner, repo: 'merge-ok', pull_number: pr.number });
    expect(after).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: main, mergeable: null });
    expect((await answer(gh.pulls.checkIfMerged({ owner, repo: 'merge-ok', pull_number: pr.number }))).status).toBe(204);
    expect((await answer(gh.pulls.merge({ owner, repo: 'merge-ok', pull_number: pr.number })))).toMatchObject({ status: 405, data: { message: 'Pull Request is not mergeable' } });
  });

  it('a merge commit has both parents; a stale sha is 409; a method the repository disallows is 405', async () => {
    const pr = seedPull('merge-methods');
    expect(await answer(gh.pulls.merge({ owner, repo: 'merge-methods', pull_number: pr.number, sha: '0'.repeat(40) }))).toMatchObject({ status: 409, data: { message: 'Head branch was modified. Review and try the merge again.' } });
    const settings = await gh.repos.update({ owner, repo: 'merge-methods', allow_merge_commit: false, allow_rebase_merge: false });
    expect(settings.data).toMatchObject({ allow_merge_commit: false, allow_squash_merge: true, allow_rebase_merge: false });
    expect(await answer(gh.pulls.merge({ owner, repo: 'merge-methods', pull_number: pr.number, merge_method: 'merge' }))).toMatchObject({ status: 405, data: { message: 'Merge commits are not allowed on this repository.' } });
    expect(await answer(gh.repos.update({ owner, repo: 'merge-methods', allow_squash_merge: false }))).toMatchObject({ status: 422 });
    await gh.repos.update({ owner, repo: 'merge-methods', allow_merge_commit: true });
    const base = sb.state.headSha(owner, 'merge-methods');
    const merged = await gh.pulls.merge({ owner, repo: 'merge-methods', pull_number: pr.number, merge_method: 'merge' });
    expect(sb.state.repo(owner, 'merge-methods').git.commit(merged.data.sha)!.parents).toEqual([base, pr.headSha]);
  });

  it('merges around an unrelated change on the base, and refuses a conflicting one', async () => {
    const pr = seedPull('merge-base-moved');
    sb.state.commitFiles(owner, 'merge-base-moved', 'main', { 'README.md': 'moved on\n' }, 'docs');
    const ok = await gh.pulls.merge({ owner, repo: 'merge-base-moved', pull_number: pr.number, merge_method: 'squash' });
    const files = sb.state.repo(owner, 'merge-base-moved').git;
    expect(files.fileAt(ok.data.sha, 'README.md')!.content.toString()).toBe('moved on\n');
    expect(files.fileAt(ok.data.sha, 'vercel.json')!.content.toString()).toBe('{"regions":["fra1"]}\n');
    const conflict = seedPull('merge-conflict');
    sb.state.commitFiles(owner, 'merge-conflict', 'main', { 'vercel.json': '{}\n' }, 'other fix');
    expect((await gh.pulls.get({ owner, repo: 'merge-conflict', pull_number: conflict.number })).data).toMatchObject({ mergeable: false, mergeable_state: 'dirty' });
    expect(await answer(gh.pulls.merge({ owner, repo: 'merge-conflict', pull_number: conflict.number }))).toMatchObject({ status: 405, data: { message: 'Pull Request is not mergeable' } });
  });

  it('branch protection: required checks and reviews refuse the merge until they are satisfied', async () => {
    const pr = seedPull('protected');
    const repo = 'protected';
    expect(await answer(gh.repos.getBranchProtection({ owner, repo, branch: 'main' }))).toMatchObject({ status: 404, data: { message: 'Branch not protected' } });
    await gh.repos.updateBranchProtection({ owner, repo, branch: 'main', required_status_checks: { strict: false, contexts: ['ci/test', 'build'] }, enforce_admins: true, required_pull_request_reviews: null, restrictions: null });
    const { data: rule } = await gh.repos.getBranchProtection({ owner, repo, branch: 'main' });
    expect(rule.required_status_checks).toMatchObject({ strict: false, contexts: ['ci/test', 'build'] });
    expect(rule.enforce_admins).toMatchObject({ enabled: true });
    expect((await gh.repos.getStatusChecksProtection({ owner, repo, branch: 'main' })).data.contexts).toEqual(['ci/test', 'build']);
    expect(await answer(gh.pulls.merge({ owner, repo, pull_number: pr.number }))).toMatchObject({ status: 405, data: { message: 'Required status check "ci/test" is expected.' } });
    await gh.repos.createCommitStatus({ owner, repo, sha: pr.headSha, state: 'failure', context: 'ci/test' });
    expect(await answer(gh.pulls.merge({ owner, repo, pull_number: pr.number }))).toMatchObject({ status: 405, data: { message: 'Required status check "ci/test" is failing.' } });
    await gh.repos.createCommitStatus({ owner, repo, sha: pr.headSha, state: 'success', context: 'ci/test' });
    await gh.checks.create({ owner, repo, name: 'build', head_sha: pr.headSha, status: 'completed', conclusion: 'success' });
    await gh.repos.updateBranchProtection({ owner, repo, branch: 'main', required_status_checks: { strict: true, contexts: ['ci/test', 'build'] }, enforce_admins: false, required_pull_request_reviews: { required_approving_review_count: 1 }, restrictions: null });
    expect(await answer(gh.pulls.merge({ owner, repo, pull_number: pr.number }))).toMatchObject({ status: 405, data: { message: 'At least 1 approving review is required by reviewers with write access.' } });
    await gh.repos.updateBranchProtection({ owner, repo, branch: 'main', required_status_checks: { strict: true, contexts: ['ci/test', 'build'] }, enforce_admins: false, required_pull_request_reviews: null, restrictions: null });
    expect((await gh.pulls.merge({ owner, repo, pull_number: pr.number })).status).toBe(200);
  });

  it('reading protection needs the Administration permission', async () => {
    sb.state.createRepo({ owner, repo: 'protection-perm' });
    const limited = new Octokit({ auth: sb.state.issueToken({ contents: 'write', pull_requests: 'write' }), baseUrl: sb.apiUrl });
    expect(await answer(limited.repos.getBranchProtection({ owner, repo: 'protection-perm', branch: 'main' }))).toMatchObject({ status: 403, data: { message: 'Resource not accessible by integration' } });
  });
});

describe('commit statuses', () => {
  it('the combined status is pending with no statuses, failure if any latest fails, success when all pass', async () => {
    sb.state.createRepo({ owner, repo: 'statuses' });
    const ref = 'main';
    expect((await gh.repos.getCombinedStatusForRef({ owner, repo: 'statuses', ref })).data).toMatchObject({ state: 'pending', total_count: 0 });
    const sha = sb.state.headSha(owner, 'statuses');
    const posted = await gh.repos.createCommitStatus({ owner, repo: 'statuses', sha, state: 'failure', context: 'ci/lint', description: 'lint failed' });
    expect(posted.status).toBe(201);
    expect(posted.data).toMatchObject({ state: 'failure', context: 'ci/lint', description: 'lint failed' });
    await gh.repos.createCommitStatus({ owner, repo: 'statuses', sha, state: 'success', context: 'ci/test' });
    expect((await gh.repos.getCombinedStatusForRef({ owner, repo: 'statuses', ref })).data).toMatchObject({ state: 'failure', total_count: 2 });
    await gh.repos.createCommitStatus({ owner, repo: 'statuses', sha, state: 'success', context: 'ci/lint' });
    const combined = (await gh.repos.getCombinedStatusForRef({ owner, repo: 'statuses', ref })).data;
    expect(combined).toMatchObject({ state: 'success', total_count: 2, sha });
    expect((await gh.repos.listCommitStatusesForRef({ owner, repo: 'statuses', ref })).data).toHaveLength(3);
    expect(await answer(gh.repos.createCommitStatus({ owner, repo: 'statuses', sha, state: 'done' as 'success' }))).toMatchObject({ status: 422 });
  });
});

describe('workflow dispatch', () => {
  it('runs the workflow on the branch head as workflow_dispatch; 204, or 200 with the run when asked', async () => {
    sb.state.createRepo({ owner, repo: 'dispatch' });
    const plain = await gh.actions.createWorkflowDispatch({ owner, repo: 'dispatch', workflow_id: 'deploy.yml', ref: 'main' });
    expect(plain.status).toBe(204);
    const detailed = await gh.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', { owner, repo: 'dispatch', workflow_id: 'deploy.yml', ref: 'main', return_run_details: true });
    expect(detailed.status).toBe(200);
    const runId = (detailed.data as { workflow_run_id: number }).workflow_run_id;
    const { data: run } = await gh.actions.getWorkflowRun({ owner, repo: 'dispatch', run_id: runId });
    expect(run).toMatchObject({ event: 'workflow_dispatch', head_branch: 'main', head_sha: sb.state.headSha(owner, 'dispatch'), conclusion: 'success' });
    expect(await answer(gh.actions.createWorkflowDispatch({ owner, repo: 'dispatch', workflow_id: 'deploy.yml', ref: 'nope' }))).toMatchObject({ status: 422, data: { message: 'No ref found for: nope' } });
    expect(await answer(gh.actions.createWorkflowDispatch({ owner, repo: 'dispatch', workflow_id: 'missing.yml', ref: 'main' }))).toMatchObject({ status: 404 });
  });
});

describe('the simulated CI', () => {
  it('runs the workflow on each new PR head (a check run per job, by GitHub Actions) and posts its statuses', async () => {
    const repo = 'ci';
    sb.state.createRepo({ owner, repo });
    sb.state.addWorkflow(owner, repo, { name: 'Build & Deploy', requirements: { config: { path: 'vercel.json' } } });
    const ci = await fetch(`${sb.url}/_sandbox/ci/${owner}/${repo}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workflow_on_pull_requests: true, statuses: { 'ci/integration': 'success' } }) });
    expect(ci.status).toBe(200);
    sb.state.commitFiles(owner, repo, 'fix', { 'vercel.json': '{ broken' }, 'broken', { parentSha: sb.state.headSha(owner, repo) });
    const { data: pr } = await gh.pulls.create({ owner, repo, head: 'fix', base: 'main', title: 'config' });
    const first = (await gh.checks.listForRef({ owner, repo, ref: pr.head.sha })).data.check_runs;
    expect(first.map((c) => [c.name, c.conclusion, c.app?.slug])).toEqual(expect.arrayContaining([['build', 'success', 'github-actions'], ['deploy', 'failure', 'github-actions']]));
    expect((await gh.repos.getCombinedStatusForRef({ owner, repo, ref: pr.head.sha })).data.state).toBe('success');
    // The deploy job's log says which file does not parse, the way the classifier reads it.
    const run = sb.state.repo(owner, repo).runs.at(-1)!;
    const deployJob = sb.state.latestAttempt(run).jobIds.map((id) => sb.state.jobs.get(id)!).find((j) => j.name === 'deploy')!;
    expect(deployJob.log).toMatch(/Failed to parse vercel.json: /);
    const incident = classifyText(deployJob.log, { repo: { owner, repo } })[0];
    expect(incident).toMatchObject({ kind: 'config.invalid', target: { name: 'vercel.json' } });
    // Moving the head branch: the PR follows it and CI runs again.
    const { data: branch } = await gh.git.getRef({ owner, repo, ref: 'heads/fix' });
    const blob = await gh.git.createBlob({ owner, repo, content: '{"regions":["fra1"]}' });
    const tree = await gh.git.createTree({ owner, repo, base_tree: (await gh.git.getCommit({ owner, repo, commit_sha: branch.object.sha })).data.tree.sha, tree: [{ path: 'vercel.json', mode: '100644', type: 'blob', sha: blob.data.sha }] });
    const commit = await gh.git.createCommit({ owner, repo, message: 'fixed', tree: tree.data.sha, parents: [branch.object.sha] });
    await gh.git.updateRef({ owner, repo, ref: 'heads/fix', sha: commit.data.sha });
    expect((await gh.pulls.get({ owner, repo, pull_number: pr.number })).data.head.sha).toBe(commit.data.sha);
    const second = (await gh.checks.listForRef({ owner, repo, ref: commit.data.sha })).data.check_runs;
    expect(second.map((c) => [c.name, c.conclusion])).toEqual(expect.arrayContaining([['build', 'success'], ['deploy', 'success']]));
  });

  it('fail_next_deploys makes the next default-branch deploy fail its health check', async () => {
    const repo = 'ci-health';
    sb.state.createRepo({ owner, repo });
    await fetch(`${sb.url}/_sandbox/ci/${owner}/${repo}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fail_next_deploys: 1 }) });
    const bad = sb.state.triggerRun(owner, repo, 'Build & Deploy', { event: 'workflow_dispatch' });
    const good = sb.state.triggerRun(owner, repo, 'Build & Deploy', { event: 'workflow_dispatch' });
    expect(sb.state.latestAttempt(bad).conclusion).toBe('failure');
    expect(sb.state.latestAttempt(good).conclusion).toBe('success');
    const log = sb.state.latestAttempt(bad).jobIds.map((id) => sb.state.jobs.get(id)!).find((j) => j.name === 'deploy')!.log;
    expect(log).toMatch(/Health check failed after deploying/);
    const refused = await fetch(`${sb.url}/_sandbox/ci/${owner}/${repo}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statuses: { x: 'green' } }) });
    expect(refused.status).toBe(422);
  });
});
