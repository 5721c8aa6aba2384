/**
 * A lost answer to a non-idempotent POST (check runs, comments) is read back from GitHub, not retried
 * blindly (src/github/request-policy.ts, lostAnswerReadBack). nock plays GitHub: the write reaches the
 * server, is kept, and only its answer is lost (a 502, or the connection dropped after the write).
 */
import nock from 'nock';
import { useNock } from '../support/nock-hooks.js';
import { livingBridgeProbotOctokit } from '../../src/app/octokit.js';
import { createOctokit, GitHubAdapter } from '../../src/github/index.js';
import { LOST_ANSWER_WRITE_TRIES } from '../../src/github/request-policy.js';

const API = 'https://api.github.com';
const repo = { owner: 'acme', repo: 'shop' };
const R = '/repos/acme/shop';
const SHA = 'a'.repeat(40);

/** The retry plugin on (3 retries, no waiting), as in production: it must not repeat these POSTs. */
const adapter = () => new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { retries: 3, retryAfterBaseValue: 1 } }), { cache: false });

const check = { name: 'Living Bridge', head_sha: SHA, conclusion: 'success' as const, title: 'healed', summary: 'run 1 healed' };

/** A GitHub stand-in that keeps every check run POSTed to it. */
function checkRunServer() {
  const stored: { id: number; name: string; head_sha: string; external_id?: string }[] = [];
  const keep = (body: Record<string, unknown>) => {
    const run = { id: 9000 + stored.length, name: String(body.name), head_sha: String(body.head_sha), ...(typeof body.external_id === 'string' ? { external_id: body.external_id } : {}) };
    stored.push(run);
    return run;
  };
  const listed = () => ({ total_count: stored.length, check_runs: stored.map((r) => ({ ...r, external_id: r.external_id ?? null })) });
  return { stored, keep, listed };
}

useNock();

describe('check runs: a lost answer is read back by external_id', () => {
  test('the write reached GitHub and the answer was a 502: read back, not POSTed again', async () => {
    const gh = checkRunServer();
    nock(API)
      .post(`${R}/check-runs`).once().reply(function (_uri, body) { gh.keep(body as Record<string, unknown>); return [502, { message: 'Bad Gateway' }]; })
      .get(`${R}/commits/${SHA}/check-runs`).query((q) => q.check_name === 'Living Bridge' && q.filter === 'all').reply(200, () => gh.listed());
    const created = await adapter().createCheckRun(repo, check);
    expect(gh.stored).toHaveLength(1);
    expect(gh.stored[0]!.external_id).toMatch(/^living-bridge-[0-9a-f-]{36}$/);
    expect(created).toEqual({ id: gh.stored[0]!.id });
  });

  test('the connection dropped after the write: read back, one check run', async () => {
    const gh = checkRunServer();
    nock(API)
      .post(`${R}/check-runs`).once().reply(function (_uri, body) { gh.keep(body as Record<string, unknown>); this.req.destroy(); return [201, {}]; })
      .get(`${R}/commits/${SHA}/check-runs`).query(true).reply(200, () => gh.listed());
    await expect(adapter().createCheckRun(repo, check)).resolves.toEqual({ id: 9000 });
    expect(gh.stored).toHaveLength(1);
  });

  test('the write never reached GitHub (a 503 before it, the read-back shows nothing): POSTed again, once', async () => {
    const gh = checkRunServer();
    const externalIds: string[] = [];
    nock(API)
      .post(`${R}/check-runs`).once().reply(function (_uri, body) { externalIds.push(String((body as Record<string, unknown>).external_id)); return [503, { message: 'Service Unavailable' }]; })
      .get(`${R}/commits/${SHA}/check-runs`).query(true).reply(200, () => gh.listed())
      .post(`${R}/check-runs`).once().reply(function (_uri, body) { externalIds.push(String((body as Record<string, unknown>).external_id)); return [201, gh.keep(body as Record<string, unknown>)]; });
    await expect(adapter().createCheckRun(repo, check)).resolves.toEqual({ id: 9000 });
    expect(gh.stored).toHaveLength(1);
    // The same write both times: the second try carries the first one's external_id.
    expect(new Set(externalIds).size).toBe(1);
  });

  test('an answer lost every time: at most LOST_ANSWER_WRITE_TRIES POSTs, each read back, then the 502 is thrown', async () => {
    let posts = 0;
    nock(API)
      .post(`${R}/check-runs`).times(LOST_ANSWER_WRITE_TRIES).reply(() => { posts++; return [502, { message: 'Bad Gateway' }]; })
      .get(`${R}/commits/${SHA}/check-runs`).query(true).times(LOST_ANSWER_WRITE_TRIES).reply(200, { total_count: 0, check_runs: [] });
    await expect(adapter().createCheckRun(repo, check)).rejects.toMatchObject({ status: 502 });
    expect(posts).toBe(LOST_ANSWER_WRITE_TRIES);
  });

  test('a refusal (422) is not a lost answer: thrown at once, nothing read back', async () => {
    nock(API).post(`${R}/check-runs`).once().reply(422, { message: 'Validation Failed' });
    await expect(adapter().createCheckRun(repo, check)).rejects.toMatchObject({ status: 422 });
  });

  test('GitHub cannot be read back either: the write is not repeated (it may have happened)', async () => {
    nock(API)
      .post(`${R}/check-runs`).once().reply(502, { message: 'Bad Gateway' })
      // The read-back is a GET: the retry plugin retries it (1 + 3), then it gives up.
      .get(`${R}/commits/${SHA}/check-runs`).query(true).times(4).reply(500, { message: 'Server Error' });
    await expect(adapter().createCheckRun(repo, check)).rejects.toMatchObject({ status: 502 });
  });

  test("Probot's Octokit (the App's) reads back too", async () => {
    const gh = checkRunServer();
    nock(API)
      .post(`${R}/check-runs`).once().reply(function (_uri, body) { gh.keep(body as Record<string, unknown>); return [500, { message: 'Server Error' }]; })
      .get(`${R}/commits/${SHA}/check-runs`).query(true).reply(200, () => gh.listed());
    const Probot = livingBridgeProbotOctokit({ pacing: false, timeoutMs: 5000 });
    const octokit = new Probot({ auth: { token: 'test' }, throttle: { enabled: false }, retry: { retries: 3, retryAfterBaseValue: 1 } } as never);
    const res = await octokit.request('POST /repos/{owner}/{repo}/check-runs', { ...repo, name: 'x', head_sha: SHA, status: 'completed', conclusion: 'neutral' });
    expect(res.status).toBe(201);
    expect((res.data as { id: number }).id).toBe(9000);
    expect(gh.stored).toHaveLength(1);
  });
});

describe('PR comments: a lost answer is read back by the comment body', () => {
  test('ensureComment: the comment was created but the answer was a 502: found again, not posted twice', async () => {
    const comments: { id: number; body: string; html_url: string; updated_at: string }[] = [];
    let since: string | undefined;
    nock(API)
      // ensureComment looks for its marker first (none yet)...
      .get(`${R}/issues/7/comments`).query((q) => q.since === undefined).reply(200, [])
      // ...then creates the comment; the answer is lost...
      .post(`${R}/issues/7/comments`).once().reply(function (_uri, body) {
        comments.push({ id: 501, body: String((body as { body: string }).body), html_url: 'https://github.com/acme/shop/pull/7#issuecomment-501', updated_at: new Date().toISOString() });
        return [502, { message: 'Bad Gateway' }];
      })
      // ...and the read-back finds it by its body, in the thread's comments since just before the write.
      .get(`${R}/issues/7/comments`).query((q) => { since = q.since as string; return true; }).reply(200, () => comments);
    const before = Date.now();
    const result = await adapter().ensureComment(repo, 7, '<!-- living-bridge:heal -->', 'Living Bridge — healed');
    expect(result).toEqual({ id: 501, html_url: 'https://github.com/acme/shop/pull/7#issuecomment-501', created: true, status: 'created' });
    expect(comments).toHaveLength(1);
    expect(Date.parse(since!)).toBeLessThanOrEqual(before);
  });

  test('an older comment with other text is not taken for ours: the comment is POSTed again', async () => {
    nock(API)
      .post(`${R}/issues/7/comments`).once().reply(502, { message: 'Bad Gateway' })
      .get(`${R}/issues/7/comments`).query(true).reply(200, [{ id: 1, body: 'something else' }])
      .post(`${R}/issues/7/comments`).once().reply(201, { id: 2, body: 'hello', html_url: 'u' });
    const octokit = createOctokit({ auth: 'test', throttle: false, retry: { retries: 3, retryAfterBaseValue: 1 } });
    const res = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: 7, body: 'hello' });
    expect(res).toMatchObject({ status: 201, data: { id: 2 } });
  });

  test('reads and idempotent writes are untouched: a PATCH 502 is retried by the retry plugin as before', async () => {
    nock(API)
      .patch(`${R}/issues/comments/5`).once().reply(502, { message: 'Bad Gateway' })
      .patch(`${R}/issues/comments/5`).once().reply(200, { id: 5, html_url: 'u' });
    const octokit = createOctokit({ auth: 'test', throttle: false, retry: { retries: 3, retryAfterBaseValue: 1 } });
    await expect(octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...repo, comment_id: 5, body: 'x' })).resolves.toMatchObject({ status: 200 });
  });
});
