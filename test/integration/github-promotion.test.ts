/**
 * The config loop's REST requests, each against nock answering as GitHub documents: the pull request,
 * its head's check runs and statuses, branch protection (404 = not protected, 403 = no permission),
 * merge settings, the merge (sha guard, 405/409 refusals), workflow dispatch (return_run_details, and
 * the retry without it for servers that do not know it), and finding the dispatched run.
 */
import { describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { MergeRefusedError } from '../../src/ports/index.js';
import { executeDispatch, executeMerge } from '../../src/engines/promote.js';
import { createOctokit, GitHubAdapter, GitHubPermissionError } from '../../src/github/index.js';
import { useNock } from '../support/nock-hooks.js';

const API = 'https://api.github.com';
const repo = { owner: 'acme', repo: 'shop' };
const R = '/repos/acme/shop';
const HEAD = 'a'.repeat(40);
const MERGE = 'b'.repeat(40);
const adapter = () => new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
const run = (over: Record<string, unknown> = {}) => ({
  id: 77, name: 'Build & Deploy', run_attempt: 1, status: 'completed', conclusion: 'success', head_sha: MERGE, head_branch: 'main', event: 'workflow_dispatch',
  html_url: 'https://github.com/acme/shop/actions/runs/77', actor: { login: 'living-bridge[bot]' }, head_repository: { full_name: 'acme/shop' }, repository: { full_name: 'acme/shop' },
  pull_requests: [], workflow_id: 5, path: '.github/workflows/deploy.yml', created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:01:00Z', ...over,
});

useNock();

describe('reading what decides a promotion', () => {
  test('the pull request, and the latest check run per name and status per context on its head (all pages)', async () => {
    nock(API)
      .get(`${R}/pulls/12`).reply(200, { number: 12, html_url: 'https://github.com/acme/shop/pull/12', state: 'open', merged: false, mergeable: true, merge_commit_sha: null, head: { sha: HEAD, ref: 'living-bridge/regenerate-vercel-json' }, base: { ref: 'main' } })
      .get(`${R}/commits/${HEAD}/check-runs`).query({ filter: 'latest', per_page: 100 })
      .reply(200, { total_count: 2, check_runs: [{ id: 2, name: 'build', status: 'completed', conclusion: 'success', app: { slug: 'github-actions' } }] }, { link: `<${API}${R}/commits/${HEAD}/check-runs?filter=latest&per_page=100&page=2>; rel="next"` })
      .get(`${R}/commits/${HEAD}/check-runs`).query({ filter: 'latest', per_page: 100, page: 2 })
      .reply(200, { total_count: 2, check_runs: [{ id: 3, name: 'deploy', status: 'in_progress', conclusion: null, app: { slug: 'github-actions' } }] })
      .get(`${R}/commits/${HEAD}/statuses`).query({ per_page: 100 })
      .reply(200, [{ id: 9, context: 'ci/integration', state: 'failure' }, { id: 8, context: 'ci/integration', state: 'success' }, { id: 7, context: 'ci/lint', state: 'error' }]);
    const p = adapter().promotion;
    expect(await p.getPullRequest(repo, 12)).toEqual({ number: 12, html_url: 'https://github.com/acme/shop/pull/12', state: 'open', merged: false, mergeable: true, head_sha: HEAD, head_ref: 'living-bridge/regenerate-vercel-json', base_ref: 'main', merge_commit_sha: null });
    expect(await p.listHeadChecks(repo, HEAD)).toEqual([
      { name: 'build', source: 'check_run', state: 'success', app: 'github-actions', url: null },
      { name: 'deploy', source: 'check_run', state: 'pending', app: 'github-actions', url: null },
      { name: 'ci/lint', source: 'status', state: 'failure', app: null, url: null },
      { name: 'ci/integration', source: 'status', state: 'failure', app: null, url: null },
    ]);
  });

  test('branch protection: required contexts and checks, reviews; 404 is "not protected"; 403 names Administration', async () => {
    nock(API)
      .get(`${R}/branches/main/protection`).reply(200, { required_status_checks: { strict: true, contexts: ['ci/integration'], checks: [{ context: 'build', app_id: 15368 }] }, required_pull_request_reviews: { required_approving_review_count: 2 } })
      .get(`${R}/branches/dev/protection`).reply(404, { message: 'Branch not protected' })
      .get(`${R}/branches/main/protection`).reply(403, { message: 'Resource not accessible by integration' });
    const p = adapter().promotion;
    expect(await p.getBranchRules(repo, 'main')).toEqual({ required_checks: ['ci/integration', 'build'], strict: true, required_approving_reviews: 2 });
    expect(await p.getBranchRules(repo, 'dev')).toBeNull();
    await expect(p.getBranchRules(repo, 'main')).rejects.toBeInstanceOf(GitHubPermissionError);
  });

  test('merge settings when GitHub shows them, null when it does not', async () => {
    nock(API)
      .get(R).reply(200, { default_branch: 'main', allow_merge_commit: false, allow_squash_merge: true, allow_rebase_merge: false })
      .get(R).reply(200, { default_branch: 'main' });
    const p = adapter().promotion;
    expect(await p.getMergeMethods(repo)).toEqual({ merge: false, squash: true, rebase: false });
    expect(await p.getMergeMethods(repo)).toBeNull();
  });
});

describe('merging', () => {
  const plan = { repo, action: 'REGENERATE_CONFIG' as const, pullRequest: 12, headSha: HEAD, base: 'main', path: 'vercel.json', beforeBlob: 'c'.repeat(40), afterBlob: 'd'.repeat(40), method: 'squash' as const, fallbackMethods: [], title: 'Living Bridge: regenerate vercel.json' };

  test('PUT …/merge with the method and the head sha; the base is read back and holds the promoted blob', async () => {
    let body: Record<string, unknown> = {};
    nock(API)
      .get(`${R}/git/ref/heads/main`).reply(200, { ref: 'refs/heads/main', object: { sha: 'e'.repeat(40), type: 'commit' } })
      .put(`${R}/pulls/12/merge`, (b: Record<string, unknown>) => { body = b; return true; }).reply(200, { sha: MERGE, merged: true, message: 'Pull Request successfully merged' })
      .get(`${R}/contents/vercel.json`).query({ ref: MERGE }).reply(200, { type: 'file', path: 'vercel.json', sha: 'd'.repeat(40), encoding: 'base64', content: Buffer.from('{}').toString('base64') });
    const gh = adapter();
    const report = await executeMerge(gh.promotion, gh, plan);
    expect(body).toMatchObject({ merge_method: 'squash', sha: HEAD, commit_title: 'Living Bridge: regenerate vercel.json (#12)' });
    expect(report).toMatchObject({ ok: true, certified: true, mergeCommit: MERGE, method: 'squash' });
    expect(report.changes).toEqual(expect.arrayContaining([
      { kind: 'file', target: 'vercel.json', scope: 'branch:main', op: 'update', before_fingerprint: `blob:${'c'.repeat(40)}`, after_fingerprint: `blob:${'d'.repeat(40)}` },
      { kind: 'ref', target: 'refs/heads/main', scope: 'repository', op: 'update', before_fingerprint: `commit:${'e'.repeat(40)}`, after_fingerprint: `commit:${MERGE}` },
    ]));
  });

  test('405 "not allowed" moves to the next method when the allowed ones are unknown; a 409 (head moved) stands', async () => {
    nock(API)
      .get(`${R}/git/ref/heads/main`).reply(200, { ref: 'refs/heads/main', object: { sha: 'e'.repeat(40), type: 'commit' } })
      .put(`${R}/pulls/12/merge`, (b: { merge_method: string }) => b.merge_method === 'squash').reply(405, { message: 'Squash merges are not allowed on this repository.' })
      .put(`${R}/pulls/12/merge`, (b: { merge_method: string }) => b.merge_method === 'merge').reply(200, { sha: MERGE, merged: true })
      .get(`${R}/contents/vercel.json`).query({ ref: MERGE }).reply(200, { type: 'file', path: 'vercel.json', sha: 'd'.repeat(40), encoding: 'base64', content: '' });
    const gh = adapter();
    expect(await executeMerge(gh.promotion, gh, { ...plan, fallbackMethods: ['squash', 'merge', 'rebase'] })).toMatchObject({ ok: true, method: 'merge' });
    nock(API)
      .get(`${R}/git/ref/heads/main`).reply(200, { ref: 'refs/heads/main', object: { sha: 'e'.repeat(40), type: 'commit' } })
      .put(`${R}/pulls/12/merge`).reply(409, { message: 'Head branch was modified. Review and try the merge again.' });
    const refused = await executeMerge(gh.promotion, adapter(), plan);
    expect(refused).toMatchObject({ ok: false, refusedBecause: 'GitHub refused the merge (HTTP 409): Head branch was modified. Review and try the merge again.' });
  });

  test('a protection refusal is a MergeRefusedError with GitHub\'s words', async () => {
    nock(API).put(`${R}/pulls/12/merge`).reply(405, { message: 'Required status check "build" is expected.' });
    await expect(adapter().promotion.mergePullRequest(repo, 12, { method: 'squash', sha: HEAD, title: 't', message: 'm' })).rejects.toEqual(new MergeRefusedError(405, 'Required status check "build" is expected.'));
  });
});

describe('dispatching the deploy', () => {
  const plan = { repo, action: 'REGENERATE_CONFIG' as const, workflow: 5, base: 'main', expectedSha: MERGE, sleep: async () => {} };

  test('asks for the run (return_run_details) and reads it: certified when it deploys the merge commit', async () => {
    let body: Record<string, unknown> = {};
    nock(API)
      .post(`${R}/actions/workflows/5/dispatches`, (b: Record<string, unknown>) => { body = b; return true; }).reply(200, { workflow_run_id: 77, run_url: `${API}${R}/actions/runs/77`, html_url: 'https://github.com/acme/shop/actions/runs/77' })
      .get(`${R}/actions/runs/77`).reply(200, run());
    const gh = adapter();
    const report = await executeDispatch(gh.promotion, gh, plan);
    expect(body).toEqual({ ref: 'main', return_run_details: true });
    expect(report).toMatchObject({ ok: true, certified: true, run: { id: 77, head_sha: MERGE } });
    expect(report.changes).toEqual([{ kind: 'run', target: 'workflow 5 on main', scope: 'repository', op: 'create', before_fingerprint: null, after_fingerprint: 'run:77' }]);
  });

  test('a server that does not know return_run_details is asked again without it; the run is found by event, branch and sha', async () => {
    nock(API)
      .post(`${R}/actions/workflows/5/dispatches`, (b: Record<string, unknown>) => b.return_run_details === true).reply(422, { message: 'Invalid request.\n\n"return_run_details" is not a permitted key.' })
      .post(`${R}/actions/workflows/5/dispatches`, (b: Record<string, unknown>) => b.return_run_details === undefined).reply(204)
      .get(`${R}/actions/workflows/5/runs`).query({ event: 'workflow_dispatch', branch: 'main', head_sha: MERGE, per_page: 20 }).reply(200, { total_count: 0, workflow_runs: [] })
      .get(`${R}/actions/workflows/5/runs`).query({ event: 'workflow_dispatch', branch: 'main', head_sha: MERGE, per_page: 20 }).reply(200, { total_count: 1, workflow_runs: [run({ status: 'queued', conclusion: null })] });
    const gh = adapter();
    expect(await executeDispatch(gh.promotion, gh, plan)).toMatchObject({ ok: true, certified: true, run: { id: 77, status: 'queued' } });
  });

  test('a dispatch GitHub refuses is a failed report that says why', async () => {
    nock(API).post(`${R}/actions/workflows/5/dispatches`).reply(422, { message: "Workflow does not have 'workflow_dispatch' trigger" });
    const gh = adapter();
    const report = await executeDispatch(gh.promotion, gh, plan);
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/dispatching workflow 5 on main: .*workflow_dispatch/);
  });
});
