/**
 * End to end: the real App process and the sandbox process, spoken to over HTTP only, with
 * correctly signed webhooks. Assertions are on the sandbox's state (what GitHub would hold).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, putFile, repoState, seedDemoRepo, sha256 } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${app.url}${path}`, { ...init, headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
};
const job = (jobId: string) =>
  eventually(async () => {
    const r = await api(`/api/autonomy/jobs/${jobId}`);
    return r.status === 200 && r.body.status !== 'queued' ? (r.body as { status: string; result?: { status: string; decision: { action: string; steps: string[]; guardrail: string | null } | null; certificate_hash: string | null } }) : undefined;
  }, 30_000, `job ${jobId}`);

/** Every blob on the ledger branch, read through the sandbox's REST API. */
async function ledgerTexts(fullName: string): Promise<string[]> {
  const headers = { authorization: `token ${SANDBOX_ADMIN_TOKEN}` };
  const base = `${sandbox.url}/api/v3/repos/${fullName}`;
  const ref = await fetch(`${base}/git/ref/heads/bridge-ledger`, { headers });
  if (!ref.ok) return [];
  const commitSha = ((await ref.json()) as { object: { sha: string } }).object.sha;
  const commit = (await (await fetch(`${base}/git/commits/${commitSha}`, { headers })).json()) as { tree: { sha: string } };
  const tree = (await (await fetch(`${base}/git/trees/${commit.tree.sha}?recursive=1`, { headers })).json()) as { tree: { type: string; sha: string; path: string }[] };
  const texts: string[] = [];
  for (const entry of tree.tree.filter((e) => e.type === 'blob')) {
    const blob = (await (await fetch(`${base}/git/blobs/${entry.sha}`, { headers })).json()) as { content: string };
    texts.push(Buffer.from(blob.content, 'base64').toString('utf8'));
  }
  return texts;
}

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', LOG_LEVEL: 'debug' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

describe('heal loop end to end', () => {
  test('a missing secret is created from its declared source, the run re-runs green, certificates chain', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-missing-secret' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    expect(sent.status).toBe(202);
    const result = await job(`wh-${sent.deliveryId}`);
    expect(result.result?.status).toBe('healed');
    expect(result.result?.decision?.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    const check = await sandboxControl<{ exists: boolean; match: boolean }>(sandbox.url, 'GET', `/_sandbox/secret-check/${repo.fullName}/DEPLOY_TOKEN?expected_sha256=${sha256(SCENARIO_VALUES.DEPLOY_TOKEN)}`);
    expect(check).toMatchObject({ exists: true, match: true });
    const state = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.runs.find((r) => r.id === run.runId)?.conclusion === 'success' ? s : undefined;
    }, 20_000, 're-run success');
    expect(state.runs.find((r) => r.id === run.runId)?.attempts).toEqual(['failure', 'success']);
    const comment = state.comments.find((c) => c.issue_number === repo.pullNumber);
    expect(comment?.body).toContain('Healed');
    expect(comment?.body).toContain(result.result!.certificate_hash!);
    const verified = await eventually(async () => {
      const v = await api(`/api/autonomy/verify?repository=${repo.fullName}`);
      return v.body.ok === true && (v.body.length as number) >= 2 ? v.body : undefined;
    }, 20_000, 'outcome certificate');
    expect(verified.ok).toBe(true);
  });

  test('a wrong credential is escalated, never overwritten', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'wrong-credential', { repo: 'e2e-wrong-credential', autonomyYml: DEMO_AUTONOMY_YML.replace(/DEPLOY_TOKEN/g, 'API_KEY') });
    const before = (await repoState(sandbox.url, repo.fullName)).secrets.find((s) => s.name === 'API_KEY');
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    const result = await job(`wh-${sent.deliveryId}`);
    expect(result.result?.decision?.action).toBe('ESCALATE');
    const after = await repoState(sandbox.url, repo.fullName);
    expect(after.secrets.find((s) => s.name === 'API_KEY')).toEqual(before);
    const issues = after.issues.filter((i) => !i.pull_request && i.labels.includes('living-bridge'));
    expect(issues).toHaveLength(1);
  });

  test('bad or missing signatures are rejected and nothing happens', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-bad-signature' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const forged = await sendWebhook(app.url, 'not-the-secret', 'workflow_run', run.payload);
    const unsigned = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload, { signature: null });
    expect(forged.status).toBe(401);
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    const state = await repoState(sandbox.url, repo.fullName);
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(state.refs['refs/heads/bridge-ledger']).toBeUndefined();
  });

  test('the same delivery twice leads to one action', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-duplicate' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const first = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    const second = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload, { deliveryId: first.deliveryId });
    const third = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload); // new delivery, same run attempt
    expect(second.body).toMatchObject({ duplicate: true });
    expect(third.body).toMatchObject({ duplicate: true });
    await job(`wh-${first.deliveryId}`);
    const state = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.runs.find((r) => r.id === run.runId)?.conclusion === 'success' ? s : undefined;
    }, 20_000, 're-run');
    expect(state.runs.find((r) => r.id === run.runId)?.attempts).toEqual(['failure', 'success']);
  });

  test('a run from a fork never gets a secret written', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-fork', fromFork: true });
    const run = await failingRun(sandbox.url, repo.fullName, repo, { fromFork: true });
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    const result = await job(`wh-${sent.deliveryId}`);
    expect(result.result?.decision?.steps ?? []).not.toContain('CREATE_SECRET');
    const state = await repoState(sandbox.url, repo.fullName);
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('three failed outcomes in a row on one target escalate', async () => {
    const created = await sandboxControl<{ full_name: string }>(sandbox.url, 'POST', '/_sandbox/repos', {
      repo: 'e2e-streak',
      workflow: { name: 'Build & Deploy', requirements: { flaky: { failAttempts: 20, error: 'ECONNRESET' } } },
    });
    await putFile(sandbox.url, created.full_name, '.github/autonomy.yml', `default_level: full\ncooldowns:\n  default_minutes: 0\nlimits:\n  max_rerun_attempts: 10\n`);
    const [owner, name] = created.full_name.split('/') as [string, string];
    await sandboxControl(sandbox.url, 'POST', '/_sandbox/runs', { owner, repo: name });
    // The sandbox announces every completed attempt; the App re-runs, learns each failure, and escalates at the third.
    const state = await eventually(async () => {
      const s = await repoState(sandbox.url, created.full_name);
      return s.issues.some((i) => !i.pull_request && i.labels.includes('living-bridge')) ? s : undefined;
    }, 40_000, 'escalation after a fail streak');
    const run = state.runs[0]!;
    expect(run.attempts.length).toBeGreaterThanOrEqual(3);
    expect(run.attempts.length).toBeLessThanOrEqual(5);
  });

  test('the incident API needs the bearer token and validates its body', async () => {
    const noToken = await fetch(`${app.url}/api/autonomy/incident`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toEqual({ error: 'unauthorized' });
    const wrong = await fetch(`${app.url}/api/autonomy/incident`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(401);
    const bad = await api('/api/autonomy/incident', { method: 'POST', body: JSON.stringify({ repository: 'not a repo' }) });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toContain('request body: repository');
  });

  test('the incident API heals a declared incident', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-api' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const res = await api('/api/autonomy/incident?wait=true', { method: 'POST', body: JSON.stringify({ repository: repo.fullName, run_id: run.runId }) });
    expect(res.status).toBe(200);
    expect((res.body.result as { status: string }).status).toBe('healed');
  });

  test('no secret value appears in logs, comments, issues or the ledger', async () => {
    await app.stop();
    const haystack = [app.output(), sandbox.output()];
    for (const name of ['e2e-missing-secret', 'e2e-duplicate', 'e2e-api', 'e2e-wrong-credential']) {
      const s = await repoState(sandbox.url, `acme/${name}`);
      haystack.push(...s.comments.map((c) => c.body), JSON.stringify(s.issues));
      haystack.push(...(await ledgerTexts(`acme/${name}`)));
    }
    const all = haystack.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const value of [SCENARIO_VALUES.DEPLOY_TOKEN, SCENARIO_VALUES.API_KEY, SCENARIO_VALUES.STALE_API_KEY, app.signingKey, app.webhookSecret, app.apiToken]) {
      expect(all).not.toContain(value);
    }
  });
});
