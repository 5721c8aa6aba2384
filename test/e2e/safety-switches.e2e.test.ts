/**
 * Safety edges at the App door (issue #10, items 5 and 8), end to end: the real App process and the
 * sandbox process over HTTP, correctly signed webhooks, assertions on what the sandbox holds.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { PROJECT_ROOT, appPrivateKey, eventually, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;
let haltedApp: AppProcess;
/** No LIVING_BRIDGE_FROM_ENV_ALLOW, but the host has DEPLOY_TOKEN and Probot's OAuth secret. */
let noAllowApp: AppProcess;
/** An allowlist whose pattern would cover GITHUB_CLIENT_SECRET, and one scoped to another owner. */
let wideAllowApp: AppProcess;

const jobOf = (a: AppProcess, jobId: string) =>
  eventually(async () => {
    const res = await fetch(`${a.url}/api/autonomy/jobs/${jobId}`, { headers: { authorization: `Bearer ${a.apiToken}` } });
    const body = (await res.json()) as { status: string; result?: { status: string; summary: string; decision: { guardrail: string | null } | null } };
    return res.status === 200 && body.status !== 'queued' ? body : undefined;
  }, 30_000, `job ${jobId}`);

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'sandbox-deploy-token', LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
  haltedApp = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'sandbox-deploy-token', LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', AUTONOMY_ENABLED: 'off' });
  noAllowApp = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'sandbox-deploy-token', GITHUB_CLIENT_SECRET: OAUTH_SECRET });
  wideAllowApp = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'sandbox-deploy-token', GITHUB_CLIENT_SECRET: OAUTH_SECRET, LIVING_BRIDGE_FROM_ENV_ALLOW: 'GITHUB_*,someone-else:DEPLOY_TOKEN' });
});

const OAUTH_SECRET = 'probot-oauth-client-secret-0123456789';

afterAll(async () => {
  await app?.stop();
  await haltedApp?.stop();
  await noAllowApp?.stop();
  await wideAllowApp?.stop();
  await sandbox?.stop();
});

function runApp(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/app/main.ts')], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', APP_ID: '1', PRIVATE_KEY: appPrivateKey(), WEBHOOK_SECRET: 'whsec-0123456789abcdef', TRUTH_SIGNING_KEY: Buffer.alloc(32, 5).toString('base64'), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('item 8: boolean settings', () => {
  test('AUTONOMY_ENABLED=off is the kill switch: healthz says so and a failed run gets NOOP(halted)', async () => {
    const health = (await (await fetch(`${haltedApp.url}/healthz`)).json()) as { autonomy_enabled: boolean };
    expect(health.autonomy_enabled).toBe(false);
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-kill-switch-off' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(haltedApp.url, haltedApp.webhookSecret, 'workflow_run', run.payload);
    expect(sent.status).toBe(202);
    const done = await jobOf(haltedApp, `wh-${sent.deliveryId}`);
    expect(done.result?.status).toBe('noop');
    expect(done.result?.decision?.guardrail).toBe('halted');
    const state = await repoState(sandbox.url, repo.fullName);
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test.each(['maybe', 'disabled', 'nein'])('AUTONOMY_ENABLED=%s: the App refuses to start and names the variable', async (word) => {
    const r = await runApp({ AUTONOMY_ENABLED: word });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('AUTONOMY_ENABLED');
    expect(r.stderr).toContain('true, 1, yes, on, false, 0, no, off');
  });

  test('LIVING_BRIDGE_CLIENT_PACING=sometimes is refused the same way', async () => {
    const r = await runApp({ LIVING_BRIDGE_CLIENT_PACING: 'sometimes' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('LIVING_BRIDGE_CLIENT_PACING');
  });
});

describe('item 5: ledger.branch', () => {
  async function healWithLedgerBranch(name: string, branch: string, prepare?: (fullName: string) => Promise<void>) {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: name, autonomyYml: `${DEMO_AUTONOMY_YML}ledger:\n  branch: ${JSON.stringify(branch)}\n` });
    await prepare?.(repo.fullName);
    const before = await repoState(sandbox.url, repo.fullName);
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    const done = await jobOf(app, `wh-${sent.deliveryId}`);
    const after = await repoState(sandbox.url, repo.fullName);
    return { done, before, after };
  }

  test('the default branch is refused with a clear error; nothing is committed onto it, nothing is done', async () => {
    const { done, before, after } = await healWithLedgerBranch('e2e-ledger-main', 'main');
    expect(done.result?.status).toBe('failed');
    expect(done.result?.summary).toContain('ledger.branch');
    expect(done.result?.summary).toContain('default branch');
    expect(after.refs['refs/heads/main']).toBe(before.refs['refs/heads/main']);
    expect(after.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(after.issues.some((i) => i.title.includes('cannot read .github/autonomy.yml'))).toBe(true);
  });

  test('a protected branch is refused', async () => {
    const { done, after } = await healWithLedgerBranch('e2e-ledger-protected', 'audit-trail', async (fullName) => {
      const headers = { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const main = (await repoState(sandbox.url, fullName)).refs['refs/heads/main'];
      expect((await fetch(`${sandbox.url}/api/v3/repos/${fullName}/git/refs`, { method: 'POST', headers, body: JSON.stringify({ ref: 'refs/heads/audit-trail', sha: main }) })).status).toBe(201);
      expect((await fetch(`${sandbox.url}/api/v3/repos/${fullName}/branches/audit-trail/protection`, { method: 'PUT', headers, body: JSON.stringify({ required_status_checks: null, enforce_admins: false, required_pull_request_reviews: null, restrictions: null }) })).status).toBe(200);
    });
    expect(done.result?.status).toBe('failed');
    expect(done.result?.summary).toContain('protected branch');
    expect(after.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test.each(['../main', 'a..b', 'ledger.lock', '-x', 'has space', 'x:y'])('an invalid ref name %s is refused at config validation', async (branch) => {
    const { done, after } = await healWithLedgerBranch(`e2e-ledger-bad-${Buffer.from(branch).toString('hex')}`, branch);
    expect(done.result?.status).toBe('failed');
    expect(done.result?.summary).toContain('is not a valid branch name');
    expect(Object.keys(after.refs).filter((r) => r !== 'refs/heads/main' && !r.startsWith('refs/heads/feature') && !r.startsWith('refs/pull'))).toEqual([]);
  });
});

describe('item 4: from_env reads only what the operator allowlisted', () => {
  async function issueBodies(fullName: string): Promise<string[]> {
    const res = await fetch(`${sandbox.url}/api/v3/repos/${fullName}/issues?state=all`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
    return ((await res.json()) as { body: string | null; pull_request?: unknown }[]).filter((i) => !i.pull_request).map((i) => i.body ?? '');
  }

  async function healOn(a: AppProcess, name: string, env: string) {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: name, autonomyYml: DEMO_AUTONOMY_YML.replace('env: DEPLOY_TOKEN', `env: ${env}`) });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(a.url, a.webhookSecret, 'workflow_run', run.payload);
    const done = await jobOf(a, `wh-${sent.deliveryId}`);
    return { done, repo, state: await repoState(sandbox.url, repo.fullName), issues: await issueBodies(repo.fullName) };
  }

  test('without an allowlist from_env is refused, the escalation says how to allow it, no secret is written', async () => {
    const { done, state, issues } = await healOn(noAllowApp, 'e2e-from-env-no-allow', 'DEPLOY_TOKEN');
    expect(done.result?.status).toBe('escalated');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(issues.join('\n')).toContain('LIVING_BRIDGE_FROM_ENV_ALLOW=DEPLOY_TOKEN');
  });

  test("Probot's GITHUB_CLIENT_SECRET is never copied into a repository, even when a pattern covers it", async () => {
    for (const [i, a] of [noAllowApp, wideAllowApp].entries()) {
      const { state } = await healOn(a, `e2e-from-env-oauth-${i}`, 'GITHUB_CLIENT_SECRET');
      expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    }
    expect(noAllowApp.output() + wideAllowApp.output()).not.toContain(OAUTH_SECRET);
  });

  test('an entry scoped to another owner does not apply', async () => {
    const { done, state, issues } = await healOn(wideAllowApp, 'e2e-from-env-other-owner', 'DEPLOY_TOKEN');
    expect(done.result?.status).toBe('escalated');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(issues.join('\n')).toContain('does not allow it for acme/e2e-from-env-other-owner');
  });

  test('an allowlisted name is read', async () => {
    const { done, state } = await healOn(app, 'e2e-from-env-allowed', 'DEPLOY_TOKEN');
    expect(done.result?.status).toBe('healed');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeDefined();
  });
});
