import nock from 'nock';
import { useNock } from '../support/nock-hooks.js';
import sodium from 'libsodium-wrappers';
import { RefConflictError, REPOSITORY_SCOPE, markedBody } from '../../src/ports/index.js';
import { createOctokit, GitHubAdapter, GitHubPermissionError, GitHubRequestError, runFromWebhook } from '../../src/github/index.js';

const API = 'https://api.github.com';
const repo = { owner: 'acme', repo: 'shop' };
const R = '/repos/acme/shop';

/** No throttling/retry delays unless a test is about them. */
const adapter = (opts: Parameters<typeof createOctokit>[0] = {}) =>
  new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false }, ...opts }));

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
}

let keypair: { publicKey: Uint8Array; privateKey: Uint8Array };
const pubB64 = () => sodium.to_base64(keypair.publicKey, sodium.base64_variants.ORIGINAL);
const open = (b64: string) =>
  sodium.to_string(sodium.crypto_box_seal_open(sodium.from_base64(b64, sodium.base64_variants.ORIGINAL), keypair.publicKey, keypair.privateKey));

beforeAll(async () => {
  await sodium.ready;
  keypair = sodium.crypto_box_keypair();
});
useNock();

describe('secrets', () => {
  test('sealed box decrypts with the repo key; public key fetched once for two secrets; 201 created, 204 updated', async () => {
    const bodies: Record<string, { encrypted_value: string; key_id: string }> = {};
    nock(API, { reqheaders: { authorization: 'token test' } })
      .get(`${R}/actions/secrets/public-key`).once().reply(200, { key_id: 'k-1', key: pubB64() })
      .put(`${R}/actions/secrets/DB_URL`, (b: { encrypted_value: string; key_id: string }) => { bodies.DB_URL = b; return true; }).reply(201)
      .put(`${R}/actions/secrets/API_TOKEN`, (b: { encrypted_value: string; key_id: string }) => { bodies.API_TOKEN = b; return true; }).reply(204);
    const gh = adapter();
    await expect(gh.setSecret(repo, REPOSITORY_SCOPE, 'DB_URL', 'postgres://x')).resolves.toEqual({ created: true });
    await expect(gh.setSecret(repo, REPOSITORY_SCOPE, 'API_TOKEN', 's3cr3t-✓')).resolves.toEqual({ created: false });
    expect(bodies.DB_URL?.key_id).toBe('k-1');
    expect(open(bodies.DB_URL!.encrypted_value)).toBe('postgres://x');
    expect(open(bodies.API_TOKEN!.encrypted_value)).toBe('s3cr3t-✓');
  });

  test('environment scope uses the environment routes', async () => {
    let body: { encrypted_value: string; key_id: string } | undefined;
    nock(API)
      .get(`${R}/environments/prod/secrets/public-key`).reply(200, { key_id: 'env-k', key: pubB64() })
      .put(`${R}/environments/prod/secrets/DEPLOY_KEY`, (b: typeof body) => { body = b; return true; }).reply(201);
    await adapter().setSecret(repo, { type: 'environment', name: 'prod' }, 'DEPLOY_KEY', 'v');
    expect(body?.key_id).toBe('env-k');
    expect(open(body!.encrypted_value)).toBe('v');
  });

  test('a rejected key id refetches the public key once', async () => {
    let lastKeyId = '';
    nock(API)
      .get(`${R}/actions/secrets/public-key`).reply(200, { key_id: 'old', key: pubB64() })
      .put(`${R}/actions/secrets/X`).reply(422, { message: 'Invalid request.\n\nkey_id is not valid' })
      .get(`${R}/actions/secrets/public-key`).reply(200, { key_id: 'new', key: pubB64() })
      .put(`${R}/actions/secrets/X`, (b: { key_id: string }) => { lastKeyId = b.key_id; return true; }).reply(204);
    await expect(adapter().setSecret(repo, REPOSITORY_SCOPE, 'X', 'value')).resolves.toEqual({ created: false });
    expect(lastKeyId).toBe('new');
  });

  test('errors never carry the value or the encrypted body', async () => {
    nock(API)
      .get(`${R}/actions/secrets/public-key`).reply(200, { key_id: 'k', key: pubB64() })
      .put(`${R}/actions/secrets/X`).reply(400, { message: 'Bad request' });
    const err = await adapter().setSecret(repo, REPOSITORY_SCOPE, 'X', 'TOP-SECRET-VALUE').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubRequestError);
    const dump = JSON.stringify(err, Object.getOwnPropertyNames(err)) + String(err);
    expect(dump).not.toContain('TOP-SECRET-VALUE');
    expect(dump).not.toContain('encrypted_value');
  });

  test('get (404 -> null), list (paginated), delete', async () => {
    nock(API)
      .get(`${R}/actions/secrets/NOPE`).reply(404, { message: 'Not Found' })
      .get(`${R}/actions/secrets`).query({ per_page: '100' })
      .reply(200, { total_count: 2, secrets: [{ name: 'A', created_at: 't1', updated_at: 't2' }] }, { Link: `<${API}${R}/actions/secrets?per_page=100&page=2>; rel="next"`, ETag: 'W/"s1"' })
      .get(`${R}/actions/secrets`).query({ per_page: '100', page: '2' })
      .reply(200, { total_count: 2, secrets: [{ name: 'B', created_at: 't3', updated_at: 't4' }] })
      .delete(`${R}/actions/secrets/A`).reply(204);
    const gh = adapter();
    await expect(gh.getSecret(repo, REPOSITORY_SCOPE, 'NOPE')).resolves.toBeNull();
    const list = await gh.listSecrets(repo, REPOSITORY_SCOPE);
    expect(list).toEqual({ etag: 'W/"s1"', notModified: false, data: [{ name: 'A', created_at: 't1', updated_at: 't2' }, { name: 'B', created_at: 't3', updated_at: 't4' }] });
    await gh.deleteSecret(repo, REPOSITORY_SCOPE, 'A');
  });

  test('403 "Resource not accessible by integration" -> GitHubPermissionError(secrets)', async () => {
    nock(API).get(`${R}/actions/secrets/public-key`).reply(403, { message: 'Resource not accessible by integration' });
    const err = await adapter().setSecret(repo, REPOSITORY_SCOPE, 'X', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect((err as GitHubPermissionError).permission).toBe('secrets');
    expect((err as Error).message).toMatch(/"secrets" permission/);
  });
});

describe('variables', () => {
  test('list follows Link pages at per_page=30 and returns the ETag', async () => {
    nock(API)
      .get(`${R}/actions/variables`).query({ per_page: '30' })
      .reply(200, { total_count: 31, variables: Array.from({ length: 30 }, (_, i) => ({ name: `V${i}`, value: `${i}`, created_at: 'c', updated_at: 'u' })) }, {
        ETag: '"etag-1"',
        Link: `<${API}${R}/actions/variables?per_page=30&page=2>; rel="next", <${API}${R}/actions/variables?per_page=30&page=2>; rel="last"`,
      })
      .get(`${R}/actions/variables`).query({ per_page: '30', page: '2' })
      .reply(200, { total_count: 31, variables: [{ name: 'LAST', value: 'x', created_at: 'c', updated_at: 'u' }] }, { Link: `<${API}${R}/actions/variables?per_page=30&page=1>; rel="first"` });
    const res = await adapter().listVariables(repo, REPOSITORY_SCOPE);
    expect(res.etag).toBe('"etag-1"');
    expect(res.notModified).toBe(false);
    expect(res.data).toHaveLength(31);
    expect(res.data?.[30]).toEqual({ name: 'LAST', value: 'x', created_at: 'c', updated_at: 'u' });
  });

  test('If-None-Match with a stored ETag; 304 -> notModified', async () => {
    nock(API, { reqheaders: { 'if-none-match': '"etag-1"' } })
      .get(`${R}/environments/prod/variables`).query({ per_page: '30' }).reply(304, '', { ETag: '"etag-1"' });
    await expect(adapter().listVariables(repo, { type: 'environment', name: 'prod' }, '"etag-1"')).resolves.toEqual({ etag: '"etag-1"', notModified: true, data: null });
  });

  test('get: 404 -> null; value otherwise', async () => {
    nock(API)
      .get(`${R}/actions/variables/MISSING`).reply(404, { message: 'Not Found' })
      .get(`${R}/actions/variables/REGION`).reply(200, { name: 'REGION', value: 'eu', created_at: 'c', updated_at: 'u' });
    const gh = adapter();
    await expect(gh.getVariable(repo, REPOSITORY_SCOPE, 'MISSING')).resolves.toBeNull();
    await expect(gh.getVariable(repo, REPOSITORY_SCOPE, 'REGION')).resolves.toEqual({ name: 'REGION', value: 'eu', created_at: 'c', updated_at: 'u' });
  });

  test('upsert: PATCH, and POST when PATCH answers 404', async () => {
    nock(API)
      .patch(`${R}/actions/variables/REGION`, { value: 'eu' }).reply(404, { message: 'Not Found' })
      .post(`${R}/actions/variables`, { name: 'REGION', value: 'eu' }).reply(201)
      .patch(`${R}/environments/prod/variables/REGION`, { value: 'us' }).reply(204);
    const gh = adapter();
    await expect(gh.upsertVariable(repo, REPOSITORY_SCOPE, 'REGION', 'eu')).resolves.toEqual({ created: true });
    await expect(gh.upsertVariable(repo, { type: 'environment', name: 'prod' }, 'REGION', 'us')).resolves.toEqual({ created: false });
  });

  test('delete is idempotent (404 ignored)', async () => {
    nock(API).delete(`${R}/actions/variables/GONE`).reply(404, { message: 'Not Found' });
    await adapter().deleteVariable(repo, REPOSITORY_SCOPE, 'GONE');
  });
});

describe('environments', () => {
  test('list maps protection rules; put sends only the given settings', async () => {
    nock(API)
      .get(`${R}/environments`).query({ per_page: '100' })
      .reply(200, {
        total_count: 1,
        environments: [{
          name: 'prod',
          protection_rules: [
            { id: 1, type: 'wait_timer', wait_timer: 30 },
            { id: 2, type: 'required_reviewers', prevent_self_review: true, reviewers: [{ type: 'User', reviewer: { id: 7, login: 'ann' } }] },
          ],
          deployment_branch_policy: { protected_branches: true, custom_branch_policies: false },
        }],
      }, { ETag: '"e"' })
      .put(`${R}/environments/prod`, { wait_timer: 5, reviewers: [{ type: 'Team', id: 3 }], deployment_branch_policy: null })
      .reply(200, { name: 'prod' });
    const gh = adapter();
    const res = await gh.listEnvironments(repo);
    expect(res.data).toEqual([{ name: 'prod', wait_timer: 30, prevent_self_review: true, reviewers: [{ type: 'User', id: 7 }], deployment_branch_policy: { protected_branches: true, custom_branch_policies: false } }]);
    await gh.putEnvironment(repo, { name: 'prod', wait_timer: 5, reviewers: [{ type: 'Team', id: 3 }], deployment_branch_policy: null });
  });

  test('403 on PUT environment names Administration, the permission GitHub requires for it', async () => {
    nock(API).put(`${R}/environments/prod`).reply(403, { message: 'Resource not accessible by integration' });
    await expect(adapter().putEnvironment(repo, { name: 'prod' })).rejects.toMatchObject({ name: 'GitHubPermissionError', permission: 'administration' });
  });
});

const rawRun = (over: Record<string, unknown> = {}) => ({
  id: 42, name: 'Build & Deploy', run_attempt: 2, status: 'completed', conclusion: 'failure', head_sha: 'abc', head_branch: 'main',
  event: 'push', html_url: 'https://github.com/acme/shop/actions/runs/42', actor: { login: 'ann' }, pull_requests: [{ number: 9 }],
  workflow_id: 77, path: '.github/workflows/deploy.yml', created_at: 'c', updated_at: 'u',
  head_repository: { full_name: 'acme/shop' }, repository: { full_name: 'acme/shop' }, ...over,
});

describe('runs', () => {
  test('getRun (and attempt) map the run; fork heads are from_fork', async () => {
    nock(API)
      .get(`${R}/actions/runs/42`).reply(200, rawRun())
      .get(`${R}/actions/runs/42/attempts/1`).reply(200, rawRun({ run_attempt: 1, head_repository: { full_name: 'mallory/shop' } }));
    const gh = adapter();
    const run = await gh.getRun(repo, 42);
    expect(run).toEqual({
      id: 42, name: 'Build & Deploy', run_attempt: 2, status: 'completed', conclusion: 'failure', head_sha: 'abc', head_branch: 'main',
      event: 'push', html_url: 'https://github.com/acme/shop/actions/runs/42', actor: 'ann', from_fork: false, pull_requests: [9],
      workflow_id: 77, path: '.github/workflows/deploy.yml', created_at: 'c', updated_at: 'u',
    });
    const first = await gh.getRun(repo, 42, 1);
    expect(first.run_attempt).toBe(1);
    expect(first.from_fork).toBe(true);
  });

  test('runFromWebhook uses the same mapping; dependabot runs are from_fork', () => {
    const run = runFromWebhook(rawRun({ actor: { login: 'dependabot[bot]' } }), { full_name: 'acme/shop' });
    expect(run.from_fork).toBe(true);
    expect(run.actor).toBe('dependabot[bot]');
    expect(runFromWebhook(rawRun(), { full_name: 'acme/shop' }).from_fork).toBe(false);
  });

  test('listFailedJobs: filter=latest, all pages, failures only', async () => {
    const job = (id: number, conclusion: string | null) => ({ id, name: `job${id}`, status: 'completed', conclusion, steps: [{ name: 's', conclusion, number: 1 }] });
    nock(API)
      .get(`${R}/actions/runs/42/jobs`).query({ filter: 'latest', per_page: '100' })
      .reply(200, { total_count: 3, jobs: [job(1, 'success'), job(2, 'failure')] }, { Link: `<${API}${R}/actions/runs/42/jobs?filter=latest&per_page=100&page=2>; rel="next"` })
      .get(`${R}/actions/runs/42/jobs`).query({ filter: 'latest', per_page: '100', page: '2' })
      .reply(200, { total_count: 3, jobs: [job(3, 'failure')] });
    const jobs = await adapter().listFailedJobs(repo, 42);
    expect(jobs.map((j) => j.id)).toEqual([2, 3]);
    expect(jobs[0]?.steps).toEqual([{ name: 's', conclusion: 'failure', number: 1 }]);
  });

  test('downloadJobLog reads the 302 Location and fetches it at once, without our token', async () => {
    nock(API, { reqheaders: { authorization: 'token test' } })
      .get(`${R}/actions/jobs/7/logs`)
      .reply(302, '', { Location: 'https://pipelines.actions.githubusercontent.com/logs/7?sig=abc' });
    nock('https://pipelines.actions.githubusercontent.com', { badheaders: ['authorization'] })
      .get('/logs/7').query({ sig: 'abc' })
      .reply(200, '2026-01-01T00:00:00Z ##[error]Missing secret DB_URL\n', { 'Content-Type': 'text/plain' });
    const text = await collect(await adapter().downloadJobLog(repo, 7));
    expect(text).toContain('Missing secret DB_URL');
  });

  test('downloadJobLog also works when the client already followed the redirect', async () => {
    nock(API).get(`${R}/actions/jobs/8/logs`).reply(200, 'line 1\nline 2\n', { 'Content-Type': 'text/plain' });
    await expect(collect(await adapter().downloadJobLog(repo, 8))).resolves.toBe('line 1\nline 2\n');
  });

  test('re-runs and last successful run', async () => {
    nock(API)
      .post(`${R}/actions/runs/42/rerun-failed-jobs`).reply(201, {})
      .post(`${R}/actions/runs/40/rerun`).reply(201, {})
      .get(`${R}/actions/workflows/77/runs`).query({ branch: 'main', status: 'success', per_page: '1' })
      .reply(200, { total_count: 1, workflow_runs: [rawRun({ id: 40, conclusion: 'success' })] })
      .get(`${R}/actions/workflows/78/runs`).query({ branch: 'main', status: 'success', per_page: '1' })
      .reply(200, { total_count: 0, workflow_runs: [] });
    const gh = adapter();
    await gh.rerunFailedJobs(repo, 42);
    await gh.rerunRun(repo, 40);
    expect((await gh.findLastSuccessfulRun(repo, 77, 'main'))?.id).toBe(40);
    await expect(gh.findLastSuccessfulRun(repo, 78, 'main')).resolves.toBeNull();
  });

  test('403 on rerun -> GitHubPermissionError(actions)', async () => {
    nock(API).post(`${R}/actions/runs/42/rerun-failed-jobs`).reply(403, { message: 'Resource not accessible by integration' });
    await expect(adapter().rerunFailedJobs(repo, 42)).rejects.toMatchObject({ name: 'GitHubPermissionError', permission: 'actions' });
  });
});

describe('issues, comments, checks', () => {
  const marker = '<!-- living-bridge:escalation:abc -->';
  test('findIssueByMarker pages through open and closed labelled issues', async () => {
    nock(API)
      .get(`${R}/issues`).query({ state: 'all', labels: 'living-bridge', per_page: '100' })
      .reply(200, [{ number: 1, html_url: 'u1', body: 'other', state: 'open' }, { number: 2, html_url: 'u2', body: marker, state: 'open', pull_request: {} }], { Link: `<${API}${R}/issues?state=all&labels=living-bridge&per_page=100&page=2>; rel="next"` })
      .get(`${R}/issues`).query({ state: 'all', labels: 'living-bridge', per_page: '100', page: '2' })
      .reply(200, [{ number: 3, html_url: 'u3', body: `hello\n${marker}`, state: 'closed' }]);
    await expect(adapter().findIssueByMarker(repo, marker)).resolves.toEqual({ number: 3, html_url: 'u3', body: `hello\n${marker}`, state: 'closed' });
  });

  test('ensureIssue: one listing finds the issue by marker or alias; an unchanged body is not written, a changed one is one PATCH', async () => {
    const body = markedBody(marker, 'T', 'same');
    nock(API)
      .get(`${R}/issues`).query({ state: 'all', labels: 'living-bridge', per_page: '100' }).reply(200, [{ number: 4, html_url: 'u4', body, state: 'open' }])
      .get(`${R}/issues`).query({ state: 'all', labels: 'living-bridge', per_page: '100' }).reply(200, [{ number: 4, html_url: 'u4', body: '<!-- old -->', state: 'closed' }])
      .patch(`${R}/issues/4`, (b) => b.state === 'open' && b.title === 'T' && String(b.body).startsWith(`${marker}\nsame`)).reply(200, { number: 4, html_url: 'u4' });
    await expect(adapter().ensureIssue(repo, { marker, title: 'T', body: 'same' })).resolves.toMatchObject({ number: 4, status: 'unchanged' });
    await expect(adapter().ensureIssue(repo, { marker, aliases: ['<!-- old -->'], title: 'T', body: 'same' })).resolves.toMatchObject({ number: 4, status: 'updated', state: 'open' });
    expect(nock.isDone()).toBe(true);
  });

  test('listOpenIssuesByMarker asks for open labelled issues only', async () => {
    nock(API)
      .get(`${R}/issues`).query({ state: 'open', labels: 'living-bridge', per_page: '100' })
      .reply(200, [{ number: 9, html_url: 'u9', body: `a ${marker}`, state: 'open' }, { number: 8, html_url: 'u8', body: 'other', state: 'open' }, { number: 7, html_url: 'u7', body: marker, state: 'open', pull_request: {} }]);
    await expect(adapter().listOpenIssuesByMarker(repo, marker)).resolves.toEqual([{ number: 9, html_url: 'u9', body: `a ${marker}`, state: 'open' }]);
  });

  test('createIssue always carries the living-bridge label; updateIssue patches', async () => {
    nock(API)
      .post(`${R}/issues`, { title: 'T', body: 'B', labels: ['living-bridge', 'deploy'] }).reply(201, { number: 5, html_url: 'u5' })
      .patch(`${R}/issues/5`, { state: 'closed' }).reply(200, { number: 5, html_url: 'u5' });
    const gh = adapter();
    await expect(gh.createIssue(repo, 'T', 'B', ['deploy'])).resolves.toEqual({ number: 5, html_url: 'u5' });
    await expect(gh.updateIssue(repo, 5, { state: 'closed' })).resolves.toEqual({ number: 5, html_url: 'u5' });
  });

  test('ensureComment updates our comment, or creates one', async () => {
    nock(API)
      .get(`${R}/issues/9/comments`).query({ per_page: '100' }).reply(200, [{ id: 100, html_url: 'c100', body: 'hi' }, { id: 101, html_url: 'c101', body: `${marker}\nold` }])
      .patch(`${R}/issues/comments/101`, { body: `${marker}\nnew` }).reply(200, { id: 101, html_url: 'c101' })
      .get(`${R}/issues/10/comments`).query({ per_page: '100' }).reply(200, [])
      .post(`${R}/issues/10/comments`, { body: `${marker}\nnew` }).reply(201, { id: 102, html_url: 'c102' });
    const gh = adapter();
    await expect(gh.ensureComment(repo, 9, marker, `${marker}\nnew`)).resolves.toEqual({ id: 101, html_url: 'c101', created: false, status: 'updated' });
    await expect(gh.ensureComment(repo, 10, marker, 'new')).resolves.toEqual({ id: 102, html_url: 'c102', created: true, status: 'created' });
  });

  test('ensureComment writes nothing when the body is unchanged: found by search (one GET), or remembered (no request)', async () => {
    nock(API)
      .get(`${R}/issues/12/comments`).query({ per_page: '100' }).reply(200, [{ id: 300, html_url: 'c300', body: `${marker}\nsame` }]);
    await expect(adapter().ensureComment(repo, 12, marker, 'same')).resolves.toEqual({ id: 300, html_url: 'c300', created: false, status: 'unchanged' });
    // The second call is answered from this process's memory of what the comment holds: nock has no interceptor left.
    await expect(adapter().ensureComment(repo, 12, marker, 'same')).resolves.toEqual({ id: 300, html_url: 'c300', created: false, status: 'unchanged' });
    expect(nock.isDone()).toBe(true);
  });

  test('ensureComment remembers our comment: the next update is one PATCH; a deleted one is searched again', async () => {
    nock(API)
      .get(`${R}/issues/11/comments`).query({ per_page: '100' }).reply(200, [])
      .post(`${R}/issues/11/comments`).reply(201, { id: 200, html_url: 'c200' })
      .patch(`${R}/issues/comments/200`, { body: `${marker}\nsecond` }).reply(200, { id: 200, html_url: 'c200' })
      .patch(`${R}/issues/comments/200`).reply(404, { message: 'Not Found' })
      .get(`${R}/issues/11/comments`).query({ per_page: '100' }).reply(200, [])
      .post(`${R}/issues/11/comments`, { body: `${marker}\nthird` }).reply(201, { id: 201, html_url: 'c201' });
    await expect(adapter().ensureComment(repo, 11, marker, 'first')).resolves.toMatchObject({ id: 200, created: true });
    // Another adapter of the same process (a later App job) shares the memory.
    await expect(adapter().ensureComment(repo, 11, marker, 'second')).resolves.toEqual({ id: 200, html_url: 'c200', created: false, status: 'updated' });
    await expect(adapter().ensureComment(repo, 11, marker, 'third')).resolves.toEqual({ id: 201, html_url: 'c201', created: true, status: 'created' });
  });

  test('pullRequestsForCommit returns open PRs; createCheckRun posts a completed run', async () => {
    nock(API)
      .get(`${R}/commits/abc/pulls`).query({ per_page: '100' }).reply(200, [{ number: 1, state: 'open' }, { number: 2, state: 'closed' }])
      // Every check run carries an external_id of ours (a lost answer is read back by it: request-policy.ts).
      .post(`${R}/check-runs`, (b: Record<string, unknown>) => {
        const { external_id, ...rest } = b;
        expect(rest).toEqual({ name: 'Living Bridge', head_sha: 'abc', status: 'completed', conclusion: 'success', output: { title: 't', summary: 's' } });
        return /^living-bridge-[0-9a-f-]{36}$/.test(String(external_id));
      })
      .reply(201, { id: 55 });
    const gh = adapter();
    await expect(gh.pullRequestsForCommit(repo, 'abc')).resolves.toEqual([1]);
    await expect(gh.createCheckRun(repo, { name: 'Living Bridge', head_sha: 'abc', conclusion: 'success', title: 't', summary: 's' })).resolves.toEqual({ id: 55 });
  });
});

describe('contents', () => {
  test('default branch cached; readFile decodes base64; 404 -> null', async () => {
    nock(API)
      .get(R).once().reply(200, { default_branch: 'trunk' })
      .get(`${R}/contents/.github/autonomy.yml`).query({ ref: 'trunk' })
      .reply(200, { type: 'file', path: '.github/autonomy.yml', sha: 'f1', encoding: 'base64', content: Buffer.from('version: 1\n').toString('base64').replace(/(.{4})/g, '$1\n') })
      .get(`${R}/contents/.github/environment.json`).reply(404, { message: 'Not Found' });
    const gh = adapter();
    expect(await gh.getDefaultBranch(repo)).toBe('trunk');
    expect(await gh.getDefaultBranch(repo)).toBe('trunk');
    await expect(gh.readFile(repo, '.github/autonomy.yml', 'trunk')).resolves.toEqual({ path: '.github/autonomy.yml', content: 'version: 1\n', sha: 'f1' });
    await expect(gh.readFile(repo, '.github/environment.json')).resolves.toBeNull();
  });
});

describe('git data', () => {
  test('branch head (404 -> null), commit tree, tree listing (blobs only), blobs', async () => {
    nock(API)
      .get(`${R}/git/ref/heads/bridge-ledger`).reply(200, { ref: 'refs/heads/bridge-ledger', object: { sha: 'c1', type: 'commit' } })
      .get(`${R}/git/ref/heads/feature/x`).reply(404, { message: 'Not Found' })
      .get(`${R}/git/commits/c1`).reply(200, { sha: 'c1', tree: { sha: 't1' } })
      .get(`${R}/git/trees/t1`).query({ recursive: '1' })
      .reply(200, { sha: 't1', truncated: false, tree: [{ path: '.bridge', type: 'tree', sha: 't2' }, { path: '.bridge/state.json', type: 'blob', sha: 'b1', mode: '100644' }] })
      .get(`${R}/git/blobs/b1`).reply(200, { sha: 'b1', encoding: 'base64', content: Buffer.from('{"a":1}').toString('base64') })
      .post(`${R}/git/blobs`, { content: '{"a":2}', encoding: 'utf-8' }).reply(201, { sha: 'b2' })
      .post(`${R}/git/trees`, { base_tree: 't1', tree: [{ path: '.bridge/state.json', mode: '100644', type: 'blob', sha: 'b2' }, { path: 'old.txt', mode: '100644', type: 'blob', sha: null }] })
      .reply(201, { sha: 't3' })
      .post(`${R}/git/commits`, { message: 'm', tree: 't3', parents: ['c1'] }).reply(201, { sha: 'c2' })
      .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'c2', force: false }).reply(200, { object: { sha: 'c2' } })
      .post(`${R}/git/refs`, { ref: 'refs/heads/env-sync/prod', sha: 'c2' }).reply(201, { ref: 'refs/heads/env-sync/prod' });
    const gh = adapter();
    expect(await gh.getBranchHead(repo, 'bridge-ledger')).toBe('c1');
    expect(await gh.getBranchHead(repo, 'feature/x')).toBeNull();
    expect(await gh.getCommitTree(repo, 'c1')).toBe('t1');
    expect(await gh.listTree(repo, 't1')).toEqual([{ path: '.bridge/state.json', sha: 'b1' }]);
    expect(await gh.readBlob(repo, 'b1')).toBe('{"a":1}');
    expect(await gh.createBlob(repo, '{"a":2}')).toBe('b2');
    expect(await gh.createTree(repo, 't1', [{ path: '.bridge/state.json', mode: '100644', type: 'blob', sha: 'b2' }, { path: 'old.txt', mode: '100644', type: 'blob', sha: null }])).toBe('t3');
    expect(await gh.createCommit(repo, 'm', 't3', ['c1'])).toBe('c2');
    await gh.updateBranch(repo, 'bridge-ledger', 'c2');
    await gh.createBranch(repo, 'env-sync/prod', 'c2');
  });

  test('422 "Update is not a fast forward" -> RefConflictError; other 422s rethrown', async () => {
    nock(API)
      .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'c9', force: false }).reply(422, { message: 'Update is not a fast forward' })
      .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'zz', force: false }).reply(422, { message: 'Object does not exist' })
      .post(`${R}/git/refs`).reply(422, { message: 'Reference already exists' });
    const gh = adapter();
    await expect(gh.updateBranch(repo, 'bridge-ledger', 'c9')).rejects.toBeInstanceOf(RefConflictError);
    const other = await gh.updateBranch(repo, 'bridge-ledger', 'zz').catch((e: unknown) => e);
    expect(other).not.toBeInstanceOf(RefConflictError);
    expect((other as { status: number }).status).toBe(422);
    await expect(gh.createBranch(repo, 'bridge-ledger', 'c9')).rejects.toBeInstanceOf(RefConflictError);
  });

  test('pull requests: create, and find by owner:branch', async () => {
    nock(API)
      .post(`${R}/pulls`, { title: 'T', body: 'B', head: 'env-sync/prod', base: 'main' }).reply(201, { number: 12, html_url: 'p12' })
      .get(`${R}/pulls`).query({ head: 'acme:env-sync/prod', base: 'main', state: 'open', per_page: '100' }).reply(200, [{ number: 12, html_url: 'p12' }])
      .get(`${R}/pulls`).query({ head: 'acme:none', base: 'main', state: 'open', per_page: '100' }).reply(200, []);
    const gh = adapter();
    await expect(gh.createPullRequest(repo, { title: 'T', body: 'B', head: 'env-sync/prod', base: 'main' })).resolves.toEqual({ number: 12, html_url: 'p12' });
    await expect(gh.findOpenPullRequest(repo, 'env-sync/prod', 'main')).resolves.toEqual({ number: 12, html_url: 'p12' });
    await expect(gh.findOpenPullRequest(repo, 'none', 'main')).resolves.toBeNull();
  });
});

describe('rate limits', () => {
  test('a secondary rate limit 403 with Retry-After is retried by the throttling plugin', async () => {
    nock(API)
      .get(`${R}/actions/variables/REGION`)
      .reply(403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'Retry-After': '1' })
      .get(`${R}/actions/variables/REGION`).reply(200, { name: 'REGION', value: 'eu' });
    const gh = adapter({ throttle: { fallbackSecondaryRateRetryAfter: 0, retryAfterBaseValue: 1 } });
    await expect(gh.getVariable(repo, REPOSITORY_SCOPE, 'REGION')).resolves.toEqual({ name: 'REGION', value: 'eu' });
  });

  test('gives up after two retries', async () => {
    nock(API)
      .get(`${R}/actions/variables/REGION`).times(3)
      .reply(403, { message: 'You have exceeded a secondary rate limit.' }, { 'Retry-After': '0' });
    const gh = adapter({ throttle: { fallbackSecondaryRateRetryAfter: 0, retryAfterBaseValue: 1 } });
    await expect(gh.getVariable(repo, REPOSITORY_SCOPE, 'REGION')).rejects.toMatchObject({ status: 403 });
  });
});

describe('permissions', () => {
  test('getPermissionLevel prefers role_name; 404 -> none', async () => {
    nock(API)
      .get(`${R}/collaborators/ann/permission`).reply(200, { permission: 'write', role_name: 'maintain', user: { login: 'ann' } })
      .get(`${R}/collaborators/bob/permission`).reply(200, { permission: 'read', role_name: 'custom-role', user: { login: 'bob' } })
      .get(`${R}/collaborators/eve/permission`).reply(404, { message: 'Not Found' });
    const gh = adapter();
    await expect(gh.getPermissionLevel(repo, 'ann')).resolves.toBe('maintain');
    await expect(gh.getPermissionLevel(repo, 'bob')).resolves.toBe('read');
    await expect(gh.getPermissionLevel(repo, 'eve')).resolves.toBe('none');
  });
});
