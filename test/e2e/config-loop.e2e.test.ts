/**
 * The config loop end to end: the real App process and the sandbox process over HTTP, correctly
 * signed webhooks. A deploy fails on a broken vercel.json; Living Bridge regenerates it, proposes it,
 * follows the pull request's checks, merges under the promotion lock, dispatches the deploy, and rolls
 * back when that deploy fails. Assertions are on what the sandbox (GitHub) holds.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { GitHubAdapter } from '../../src/github/index.js';
import { createGitLedger } from '../../src/ledger/index.js';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { eventually, sendWebhook, startAppProcess, startSandboxProcess, sandboxControl, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { CONFIG_BROKEN, fileOn, seedConfigRepo } from '../../src/demo/config-scenario.js';

jest.setTimeout(180_000);

let sandbox: ManagedProcess;
let app: AppProcess;

interface LoopJob { status: string; result?: { status: string; summary: string; decision: { candidates: { action: string; ema: number }[] } | null; config_loop?: { status: string; pull_request: number; merge_commit: string | null; dispatched_runs: number[]; certificates: string[]; ema?: number } } }

const job = (jobId: string) =>
  eventually(async () => {
    const res = await fetch(`${app.url}/api/autonomy/jobs/${jobId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
    const body = (await res.json()) as LoopJob;
    return res.status === 200 && body.status !== 'queued' ? body : undefined;
  }, 90_000, `job ${jobId}`);

const gh = (): Octokit => new Octokit({ auth: SANDBOX_ADMIN_TOKEN, baseUrl: `${sandbox.url}/api/v3`, log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
const RENDERED = '{\n  "buildCommand": "npm run build",\n  "regions": ["fra1"]\n}\n';

async function heal(fullName: string, payload: Record<string, unknown>): Promise<LoopJob> {
  const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', payload);
  expect(sent.status).toBe(202);
  return job(`wh-${sent.deliveryId}`);
}

async function verify(fullName: string): Promise<{ ok: boolean; length: number }> {
  const res = await fetch(`${app.url}/api/autonomy/verify?repository=${fullName}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
  return (await res.json()) as { ok: boolean; length: number; reason: string | null };
}

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { LOG_LEVEL: 'info' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

describe('config loop end to end', () => {
  test('config failure → PR → checks green → merged → deploy dispatched and green → certified', async () => {
    const seeded = await seedConfigRepo(sandbox.url, { repo: 'loop-green', workflowOnPullRequests: true, statuses: { 'ci/integration': 'success' }, requiredChecks: ['build', 'deploy', 'ci/integration'] });
    const result = await heal(seeded.fullName, seeded.payload);
    expect(result.result?.status).toBe('healed');
    const loop = result.result!.config_loop!;
    expect(loop).toMatchObject({ status: 'deployed' });
    const [owner, repo] = seeded.fullName.split('/') as [string, string];
    const { data: pr } = await gh().pulls.get({ owner, repo, pull_number: loop.pull_request });
    expect(pr).toMatchObject({ merged: true, state: 'closed', merge_commit_sha: loop.merge_commit });
    expect(await fileOn(sandbox.url, seeded.fullName, 'vercel.json')).toBe(RENDERED);
    expect(loop.dispatched_runs).toHaveLength(1);
    const { data: run } = await gh().actions.getWorkflowRun({ owner, repo, run_id: loop.dispatched_runs[0]! });
    expect(run).toMatchObject({ event: 'workflow_dispatch', head_branch: 'main', head_sha: loop.merge_commit, conclusion: 'success' });
    // generate → promote → dispatch, then the outcome certificate; the whole chain verifies.
    expect(loop.certificates).toHaveLength(3);
    const chain = await verify(seeded.fullName);
    expect(chain).toMatchObject({ ok: true, reason: null });
    expect(chain.length).toBeGreaterThanOrEqual(4);
    const comments = (await gh().issues.listComments({ owner, repo, issue_number: loop.pull_request })).data;
    expect(comments.find((c) => c.body?.includes('living-bridge:config-loop'))?.body).toContain('Merged and deployed');
  });

  test('deploy failing → revert merged → redeployed → EMA lowered', async () => {
    const seeded = await seedConfigRepo(sandbox.url, { repo: 'loop-rollback', statuses: { 'ci/integration': 'success' }, requiredChecks: ['ci/integration'], failNextDeploys: 1 });
    const result = await heal(seeded.fullName, seeded.payload);
    const loop = result.result!.config_loop!;
    expect(loop.status).toBe('rolled_back');
    const [owner, repo] = seeded.fullName.split('/') as [string, string];
    const pulls = (await gh().pulls.list({ owner, repo, state: 'all' })).data;
    const revert = pulls.find((p) => p.title.startsWith('Living Bridge: revert vercel.json'));
    expect(revert).toBeDefined();
    expect((await gh().pulls.get({ owner, repo, pull_number: revert!.number })).data.merged).toBe(true);
    expect((await gh().pulls.get({ owner, repo, pull_number: loop.pull_request })).data.merged).toBe(true);
    // The file is as it was before the promotion, and the deploy ran again on the revert.
    expect(await fileOn(sandbox.url, seeded.fullName, 'vercel.json')).toBe(CONFIG_BROKEN);
    const runs = (await gh().actions.listWorkflowRunsForRepo({ owner, repo, event: 'workflow_dispatch' })).data.workflow_runs;
    expect(runs).toHaveLength(2);
    const before = result.result!.decision!.candidates.find((c) => c.action === 'REGENERATE_CONFIG')!.ema;
    expect(loop.ema).toBeLessThan(before);
    expect((await verify(seeded.fullName)).ok).toBe(true);
  });

  test('checks red → the PR is left open, nothing is merged, and the PR says why', async () => {
    const seeded = await seedConfigRepo(sandbox.url, { repo: 'loop-red', statuses: { 'ci/integration': 'failure' }, requiredChecks: ['ci/integration'] });
    const mainBefore = (await gh().repos.getBranch({ owner: 'acme', repo: 'loop-red', branch: 'main' })).data.commit.sha;
    const result = await heal(seeded.fullName, seeded.payload);
    expect(result.result?.status).toBe('suggested');
    const loop = result.result!.config_loop!;
    expect(loop.status).toBe('left_for_human');
    const { data: pr } = await gh().pulls.get({ owner: 'acme', repo: 'loop-red', pull_number: loop.pull_request });
    expect(pr).toMatchObject({ state: 'open', merged: false });
    expect((await gh().repos.getBranch({ owner: 'acme', repo: 'loop-red', branch: 'main' })).data.commit.sha).toBe(mainBefore);
    expect((await gh().actions.listWorkflowRunsForRepo({ owner: 'acme', repo: 'loop-red', event: 'workflow_dispatch' })).data.total_count).toBe(0);
    const comment = (await gh().issues.listComments({ owner: 'acme', repo: 'loop-red', issue_number: loop.pull_request })).data.find((c) => c.body?.includes('living-bridge:config-loop'));
    expect(comment?.body).toContain('Left for a human: checks failed: ci/integration');
  });

  test('a promotion lock held by a crashed worker expires and is taken over', async () => {
    const seeded = await seedConfigRepo(sandbox.url, { repo: 'loop-crashed-lock', statuses: { 'ci/integration': 'success' }, requiredChecks: ['ci/integration'] });
    // A worker took the lock an hour ago and died: its lock expired 45 minutes ago.
    const ledger = createGitLedger(new GitHubAdapter(gh()), { owner: 'acme', repo: 'loop-crashed-lock' }, 'bridge-ledger');
    const past = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await ledger.commit('promotion lock: crashed-worker', () => ({ files: { 'locks/promotion.json': JSON.stringify({ holder: 'crashed-worker', acquired_at: past(60), expires_at: past(45), pull_request: 1, purpose: 'promote vercel.json (#1)' }) } }));
    const result = await heal(seeded.fullName, seeded.payload);
    expect(result.result!.config_loop!.status).toBe('deployed');
    const audit = (await ledger.readFile(`audit/${new Date().toISOString().slice(0, 7)}.jsonl`)) ?? '';
    expect(audit).toContain('took over the expired lock of crashed-worker');
    // Released at the end: the next promotion finds it free.
    expect(JSON.parse((await ledger.readFile('locks/promotion.json'))!)).toBeNull();
  });
});
