/**
 * Issue #10 items 2 and 3 at the App door, end to end: the real App process and the sandbox process
 * over HTTP, correctly signed webhooks, assertions on what the sandbox holds.
 * - A step that cannot succeed is never proposed: the App escalates with what would make it possible.
 * - A refusal opens the circuit: the next failed run of the same failure gets no second re-run,
 *   comment, check run or issue.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { eventually, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
/** DEPLOY_TOKEN is on the host, but LIVING_BRIDGE_FROM_ENV_ALLOW does not list it: from_env is refused. */
let app: AppProcess;

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'sandbox-deploy-token', LIVING_BRIDGE_FROM_ENV_ALLOW: 'LB_SOURCE_*' });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

type JobAnswer = { status: string; result?: { status: string; summary: string; decision: { guardrail: string | null; action: string; unmet?: { step: string; reason: string } } | null } };

const jobOf = (jobId: string) =>
  eventually(async () => {
    const res = await fetch(`${app.url}/api/autonomy/jobs/${jobId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
    const body = (await res.json()) as JobAnswer;
    return res.status === 200 && body.status !== 'queued' ? body : undefined;
  }, 30_000, `job ${jobId}`);

async function issueBodies(fullName: string): Promise<string[]> {
  const res = await fetch(`${sandbox.url}/api/v3/repos/${fullName}/issues?state=all`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
  return ((await res.json()) as { body: string | null; pull_request?: unknown }[]).filter((i) => !i.pull_request).map((i) => i.body ?? '');
}

async function failAndDeliver(repo: { fullName: string; pullNumber: number; headSha: string }): Promise<JobAnswer> {
  const run = await failingRun(sandbox.url, repo.fullName, repo);
  const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
  expect(sent.status).toBe(202);
  return jobOf(`wh-${sent.deliveryId}`);
}

describe('preconditions at the App door (item 3)', () => {
  test('a missing secret with no declared source is escalated with the declaration to add, never suggested', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-precondition-no-source', autonomyYml: 'version: 1\ndefault_level: balanced\ndeploy_workflows: ["Build & Deploy"]\n' });
    const done = await failAndDeliver(repo);
    expect(done.result?.status).toBe('escalated');
    expect(done.result?.decision).toMatchObject({ action: 'ESCALATE', guardrail: 'precondition', unmet: { step: 'CREATE_SECRET' } });
    const bodies = await issueBodies(repo.fullName);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('Declare a source for DEPLOY_TOKEN in .github/autonomy.yml');
    expect(bodies[0]).not.toContain('/bridge approve');
    const state = await repoState(sandbox.url, repo.fullName);
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    // No suggestion was made: no comment offers an approval.
    expect(state.comments.filter((c) => c.body.includes('/bridge approve'))).toEqual([]);
  });
});

describe('a refusal opens the circuit (item 2)', () => {
  test('from_env refused: escalated once; the next failed run of the same failure is left alone', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-refusal-circuit', autonomyYml: DEMO_AUTONOMY_YML });
    const first = await failAndDeliver(repo);
    expect(first.result?.status).toBe('escalated');
    expect(first.result?.decision?.unmet?.reason).toContain('DEPLOY_TOKEN');
    const before = await repoState(sandbox.url, repo.fullName);
    expect(before.issues.filter((i) => !i.pull_request)).toHaveLength(1);

    const second = await failAndDeliver(repo);
    expect(second.result?.status).toBe('noop');
    expect(second.result?.decision?.guardrail).toBe('half_open');
    const after = await repoState(sandbox.url, repo.fullName);
    // Nothing new on GitHub: no re-run, no comment, no check run, no second issue, no secret.
    expect(after.runs.map((r) => r.run_attempt)).toEqual(before.runs.map((r) => r.run_attempt).concat(1));
    expect(after.comments).toHaveLength(before.comments.length);
    expect(after.check_runs).toHaveLength(before.check_runs.length);
    expect(after.issues.filter((i) => !i.pull_request)).toHaveLength(1);
    expect(after.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });
});
