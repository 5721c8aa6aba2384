/**
 * The App's doors answer bad input with a 4xx and its reason, never a 500 (issue #10, item 6), and
 * API tokens are scoped, with the token named in the audit trail (item 7). The real App process and
 * the sandbox process, over HTTP.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { putFile } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;
const OPS_A = `ops-a-${randomBytes(12).toString('hex')}`;
const OPS_ACME = `ops-acme-${randomBytes(12).toString('hex')}`;

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  for (const repo of ['e2e-scoped-a', 'e2e-scoped-b']) {
    const created = await sandboxControl<{ full_name: string }>(sandbox.url, 'POST', '/_sandbox/repos', { repo, workflow: { name: 'Build & Deploy', requirements: {} } });
    await putFile(sandbox.url, created.full_name, '.github/autonomy.yml', 'default_level: full\n');
  }
  const tokens = [
    { name: 'ops-a', token_sha256: createHash('sha256').update(OPS_A).digest('hex'), scopes: ['acme/e2e-scoped-a'] },
    { name: 'ops-acme', token: OPS_ACME, scopes: ['acme/*'] },
  ];
  app = await startAppProcess(sandbox.url, { LIVING_BRIDGE_API_TOKENS: JSON.stringify(tokens) });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

const call = async (path: string, init: RequestInit & { token?: string } = {}) => {
  const res = await fetch(`${app.url}${path}`, { ...init, headers: { authorization: `Bearer ${init.token ?? app.apiToken}`, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
};

const signedPost = async (raw: string, event = 'workflow_run') => {
  const res = await fetch(`${app.url}/api/github/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomBytes(8).toString('hex'), 'x-hub-signature-256': `sha256=${createHmac('sha256', app.webhookSecret).update(raw).digest('hex')}` },
    body: raw,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
};

async function auditLines(fullName: string): Promise<{ actor: string; event: string; door: string }[]> {
  const headers = { authorization: `token ${SANDBOX_ADMIN_TOKEN}` };
  const base = `${sandbox.url}/api/v3/repos/${fullName}`;
  const ref = await fetch(`${base}/git/ref/heads/bridge-ledger`, { headers });
  if (!ref.ok) return [];
  const sha = ((await ref.json()) as { object: { sha: string } }).object.sha;
  const tree = (await (await fetch(`${base}/git/trees/${sha}?recursive=1`, { headers })).json()) as { tree: { path: string; sha: string }[] };
  const lines: { actor: string; event: string; door: string }[] = [];
  for (const e of tree.tree.filter((t) => t.path.startsWith('.bridge/audit/'))) {
    const blob = (await (await fetch(`${base}/git/blobs/${e.sha}`, { headers })).json()) as { content: string };
    lines.push(...Buffer.from(blob.content, 'base64').toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { actor: string; event: string; door: string }));
  }
  return lines;
}

const run = (patch: Record<string, unknown>) => ({ action: 'completed', workflow_run: { id: 7001, run_attempt: 1, conclusion: 'failure', ...patch }, repository: { full_name: 'acme/e2e-scoped-a' }, installation: { id: 1 } });

describe('item 6: signed but malformed input is a 4xx with the reason', () => {
  test.each([
    ['a JSON null body', 'null', 400, 'not a JSON object'],
    ['a JSON array', '[1,2]', 400, 'not a JSON object'],
    ['workflow_run.id: -5', JSON.stringify(run({ id: -5 })), 422, 'run_id'],
    ['run_attempt: 0', JSON.stringify(run({ run_attempt: 0 })), 422, 'run_attempt'],
    ['full_name "not a repo"', JSON.stringify({ ...run({}), repository: { full_name: 'not a repo' } }), 422, 'repository'],
    ['full_name "../.."', JSON.stringify({ ...run({}), repository: { full_name: '../..' } }), 422, 'repository'],
  ])('webhook with %s → %i', async (_what, raw, status, reason) => {
    const r = await signedPost(raw);
    expect(r.status).toBe(status);
    expect(String(r.body?.error)).toContain(reason);
  });

  test('issue_comment with a /bridge command for "../.." → 422', async () => {
    const r = await signedPost(JSON.stringify({ action: 'created', comment: { body: '/bridge approve x', user: { login: 'octocat', type: 'User' } }, repository: { full_name: '../..' }, issue: { number: 1 } }), 'issue_comment');
    expect(r.status).toBe(422);
  });

  test.each([
    ['reason: {}', { repository: 'acme/e2e-scoped-a', reason: {} }, 'reason'],
    ['no repository', {}, 'repository'],
    ['repository "../.."', { repository: '../..' }, 'repository'],
    ['a free-text actor', { repository: 'acme/e2e-scoped-a', actor: 'the-ceo' }, 'actor'],
  ])('halt with %s → 400', async (_what, body, reason) => {
    const r = await call('/api/autonomy/halt', { method: 'POST', body: JSON.stringify(body) });
    expect(r.status).toBe(400);
    expect(String(r.body?.error)).toContain(reason);
  });

  test('halt, resume for a repository the App is not installed on → 404', async () => {
    for (const path of ['/api/autonomy/halt', '/api/autonomy/resume']) {
      const r = await call(path, { method: 'POST', body: JSON.stringify({ repository: 'nobody/nothing-here' }) });
      expect(r.status).toBe(404);
      expect(String(r.body?.error)).toContain('not installed');
    }
  });

  test('verify with repository=../.. → 400', async () => {
    const r = await call('/api/autonomy/verify?repository=../..');
    expect(r.status).toBe(400);
  });

  test('oversize bodies get 413, not a reset or "not valid JSON"', async () => {
    expect((await call('/api/autonomy/incident', { method: 'POST', body: JSON.stringify({ repository: 'acme/x', run_id: 1, pad: 'x'.repeat(1024 * 1024 + 10) }) })).status).toBe(413);
    expect((await call('/api/autonomy/halt', { method: 'POST', body: JSON.stringify({ repository: 'acme/x', reason: 'x'.repeat(65 * 1024) }) })).status).toBe(413);
    expect((await signedPost(' '.repeat(25 * 1024 * 1024 + 1))).status).toBe(413);
  });
});

describe('item 7: scoped API tokens', () => {
  test('a token acts only within its scopes, and the audit line names the token, not a free-text actor', async () => {
    const ok = await call('/api/autonomy/halt', { method: 'POST', token: OPS_A, body: JSON.stringify({ repository: 'acme/e2e-scoped-a', reason: 'maintenance' }) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ halted: true, by: 'api-token:ops-a' });
    const lines = await auditLines('acme/e2e-scoped-a');
    expect(lines.find((l) => l.event === 'kill_switch.halt')).toMatchObject({ actor: 'api-token:ops-a', door: 'api' });

    const outside = await call('/api/autonomy/halt', { method: 'POST', token: OPS_A, body: JSON.stringify({ repository: 'acme/e2e-scoped-b' }) });
    expect(outside.status).toBe(403);
    expect(String(outside.body?.error)).toContain('may not act on acme/e2e-scoped-b');
    expect((await call('/api/autonomy/incident', { method: 'POST', token: OPS_A, body: JSON.stringify({ repository: 'acme/e2e-scoped-b', run_id: 1 }) })).status).toBe(403);
    expect((await call('/api/autonomy/verify?repository=acme/e2e-scoped-b', { token: OPS_A })).status).toBe(403);
    expect(await auditLines('acme/e2e-scoped-b')).toEqual([]);
  });

  test('an owner-wide token covers the owner; AUTONOMY_API_TOKEN stays an all-scope token', async () => {
    const acme = await call('/api/autonomy/resume', { method: 'POST', token: OPS_ACME, body: JSON.stringify({ repository: 'acme/e2e-scoped-a' }) });
    expect(acme.status).toBe(200);
    expect((await call('/api/autonomy/halt', { method: 'POST', token: OPS_ACME, body: JSON.stringify({ repository: 'other/repo' }) })).status).toBe(403);
    const legacy = await call('/api/autonomy/verify?repository=acme/e2e-scoped-a');
    expect(legacy.status).toBe(200);
    const lines = await auditLines('acme/e2e-scoped-a');
    expect(lines.find((l) => l.event === 'kill_switch.resume')?.actor).toBe('api-token:ops-acme');
  });

  test('a job is visible only to tokens that cover its repository; wrong tokens get 401', async () => {
    const submitted = await call('/api/autonomy/incident', { method: 'POST', token: OPS_ACME, body: JSON.stringify({ repository: 'acme/e2e-scoped-b', incident: { kind: 'unknown' }, dry_run: true }) });
    expect(submitted.status).toBe(202);
    const id = String(submitted.body?.job_id);
    expect((await call(`/api/autonomy/jobs/${id}`, { token: OPS_A })).status).toBe(404);
    expect((await call(`/api/autonomy/jobs/${id}`, { token: OPS_ACME })).status).toBe(200);
    expect((await call(`/api/autonomy/jobs/${id}`, { token: 'not-a-token-at-all-000' })).status).toBe(401);
    const hook = await sendWebhook(app.url, app.webhookSecret, 'ping', { zen: 'x' });
    expect(hook.status).toBe(202);
  });
});
