import type { RepoRef } from '../../src/core/schemas/index.js';
import { RefConflictError, REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { FakeGitHub, FakeGitHubError } from '../support/fake-github.js';

const repo: RepoRef = { owner: 'acme', repo: 'shop' };

describe('FakeGitHub', () => {
  it('keeps secret values private and ticks updated_at on each write', async () => {
    const gh = new FakeGitHub();
    expect(await gh.setSecret(repo, REPOSITORY_SCOPE, 'A', 'v1')).toEqual({ created: true });
    const first = await gh.getSecret(repo, REPOSITORY_SCOPE, 'A');
    expect(await gh.setSecret(repo, REPOSITORY_SCOPE, 'A', 'v2')).toEqual({ created: false });
    const second = await gh.getSecret(repo, REPOSITORY_SCOPE, 'A');
    expect(Object.keys(second ?? {})).toEqual(['name', 'created_at', 'updated_at']);
    expect(second?.created_at).toBe(first?.created_at);
    expect(Date.parse(second?.updated_at ?? '')).toBeGreaterThan(Date.parse(first?.updated_at ?? ''));
    expect(gh.secretValue(repo, REPOSITORY_SCOPE, 'A')).toBe('v2');
    expect(JSON.stringify(gh.calls)).not.toContain('v2');
  });

  it('answers notModified for an unchanged list and 404s for a missing environment', async () => {
    const gh = new FakeGitHub();
    await gh.upsertVariable(repo, REPOSITORY_SCOPE, 'REGION', 'eu');
    const a = await gh.listVariables(repo, REPOSITORY_SCOPE);
    const b = await gh.listVariables(repo, REPOSITORY_SCOPE, a.etag);
    expect(b).toMatchObject({ notModified: true, data: null, etag: a.etag });
    await gh.upsertVariable(repo, REPOSITORY_SCOPE, 'REGION', 'us');
    expect((await gh.listVariables(repo, REPOSITORY_SCOPE, a.etag)).notModified).toBe(false);
    await expect(gh.getSecret(repo, { type: 'environment', name: 'prod' }, 'X')).rejects.toMatchObject({ status: 404 });
    await gh.putEnvironment(repo, { name: 'prod', wait_timer: 5 });
    expect(await gh.getSecret(repo, { type: 'environment', name: 'prod' }, 'X')).toBeNull();
    expect((await gh.listEnvironments(repo)).data).toEqual([{ name: 'prod', wait_timer: 5 }]);
  });

  it('moves branches only by fast-forward and keeps files consistent with git data', async () => {
    const gh = new FakeGitHub();
    const head = gh.seedFiles(repo, { 'a.txt': 'A' });
    expect(await gh.readFile(repo, 'a.txt')).toMatchObject({ content: 'A', sha: '8c7e5a667f1b771847fe88c01c3de34413a1b220' }); // git hash-object of "A"
    const tree = await gh.createTree(repo, await gh.getCommitTree(repo, head), [{ path: 'b.txt', mode: '100644', type: 'blob', sha: await gh.createBlob(repo, 'B') }]);
    const child = await gh.createCommit(repo, 'b', tree, [head]);
    const sibling = await gh.createCommit(repo, 'c', tree, [head]);
    await gh.createBranch(repo, 'topic', child);
    await expect(gh.createBranch(repo, 'topic', child)).rejects.toBeInstanceOf(FakeGitHubError);
    await expect(gh.updateBranch(repo, 'topic', sibling)).rejects.toBeInstanceOf(RefConflictError);
    expect((await gh.listTree(repo, tree)).map((e) => e.path)).toEqual(['a.txt', 'b.txt']);
    expect(await gh.readFile(repo, 'b.txt', 'topic')).toMatchObject({ content: 'B' });
    expect(await gh.readFile(repo, 'b.txt', 'main')).toBeNull();
  });

  it('runs: re-runs start a queued attempt, refuse running runs and stream logs', async () => {
    const gh = new FakeGitHub({ logChunkSize: 4 });
    const run = gh.addRun(repo);
    gh.addJob(repo, run.id, { name: 'deploy', log: 'line1\nline2\n' });
    gh.addJob(repo, run.id, { name: 'build', conclusion: 'success' });
    const [failed] = await gh.listFailedJobs(repo, run.id);
    const chunks: Uint8Array[] = [];
    for await (const c of await gh.downloadJobLog(repo, failed?.id ?? 0)) chunks.push(c);
    expect(chunks.length).toBe(3);
    expect(Buffer.concat(chunks).toString()).toBe('line1\nline2\n');
    await gh.rerunFailedJobs(repo, run.id);
    expect(await gh.getRun(repo, run.id)).toMatchObject({ run_attempt: 2, status: 'queued', conclusion: null });
    expect((await gh.getRun(repo, run.id, 1)).conclusion).toBe('failure');
    await expect(gh.rerunFailedJobs(repo, run.id)).rejects.toMatchObject({ status: 403 });
    gh.completeRun(repo, run.id, 'success');
    expect(await gh.findLastSuccessfulRun(repo, 1, 'main')).toMatchObject({ id: run.id, run_attempt: 2 });
  });

  it('issues, marker comments, PRs for a commit, permission levels and injected failures', async () => {
    const gh = new FakeGitHub();
    const issue = await gh.createIssue(repo, 't', 'body <!-- m -->', ['x']);
    expect(await gh.findIssueByMarker(repo, '<!-- m -->')).toMatchObject({ number: issue.number, state: 'open' });
    const c1 = await gh.ensureComment(repo, issue.number, '<!-- c -->', 'one <!-- c -->');
    const c2 = await gh.ensureComment(repo, issue.number, '<!-- c -->', 'two <!-- c -->');
    expect(c2).toMatchObject({ id: c1.id, created: false, status: 'updated' });
    expect(await gh.ensureComment(repo, issue.number, '<!-- c -->', 'two <!-- c -->')).toMatchObject({ id: c1.id, status: 'unchanged' });
    const pr = gh.addPullRequest(repo, { head: 'fork:feature', headSha: 'f'.repeat(40) });
    expect(await gh.pullRequestsForCommit(repo, 'f'.repeat(40))).toEqual([pr.number]);
    gh.setPermissionLevel(repo, 'Bob', 'write');
    expect(await gh.getPermissionLevel(repo, 'bob')).toBe('write');
    expect(await gh.getPermissionLevel(repo, 'acme')).toBe('admin');
    expect(await gh.getPermissionLevel(repo, 'eve')).toBe('none');
    gh.failNext('createIssue', new Error('flaky'));
    await expect(gh.createIssue(repo, 't', 'b')).rejects.toThrow('flaky');
    await expect(gh.createIssue(repo, 't', 'b')).resolves.toMatchObject({ number: 3 });
    gh.deny('getRun', 'actions');
    await expect(gh.getRun(repo, 1)).rejects.toMatchObject({ name: 'GitHubPermissionError', permission: 'actions', status: 403 });
  });
});
