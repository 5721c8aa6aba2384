/**
 * The sandbox as a product: scenarios seed the configuration they need so each heals (or is
 * correctly escalated) through the CLI; comments are sent to the App as `issue_comment` webhooks;
 * html_url links open real pages; the ledger branch can be fetched to a directory and verified offline.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIOS, SCENARIO_EXPECTED, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
let signingKey = '';
let publicKey = '';
const tmp = mkdtempSync(join(tmpdir(), 'lb-sandbox-product-'));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // Nothing but a token, a key and no pacing: the seeded configuration is all the scenario needs.
  const code = await runCli(['--api-url', sandbox.apiUrl, ...argv], {
    out: (s) => { out += s; }, err: (s) => { err += s; },
    env: { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent' },
  });
  return { code, out, err };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  await runCli(['keygen'], { out: (s) => { signingKey = /TRUTH_SIGNING_KEY=(\S+)/.exec(s)?.[1] ?? ''; publicKey = /# public key (\S+)/.exec(s)?.[1] ?? ''; }, err: () => undefined, env: {} });
  expect(publicKey).not.toBe('');
});
afterAll(async () => {
  await sandbox.close();
});

describe('scenarios seed their configuration', () => {
  test.each(SCENARIOS.map((s) => [s, SCENARIO_EXPECTED[s]] as const))('%s: `living-bridge heal` ends %s with no further setup', async (scenario, expected) => {
    const seeded = seedScenario(sandbox.state, scenario, 'acme', { repo: `cfg-${scenario}`, config: true });
    const r = await cli(['heal', '--repo', `acme/cfg-${scenario}`, '--run-id', String(seeded.runId), '--json']);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ status: expected });
    const run = sandbox.state.run('acme', `cfg-${scenario}`, seeded.runId!);
    // Healed: the re-run is green. Escalated: nothing was re-run and the stale credential was never overwritten.
    expect(sandbox.state.latestAttempt(run).conclusion).toBe(expected === 'healed' ? 'success' : 'failure');
    if (scenario === 'wrong-credential') expect(sandbox.state.secretValue('acme', `cfg-${scenario}`, 'API_KEY')).toMatch(/rotated_out/);
  });

  test('without config: true nothing is committed (callers that bring their own config keep it)', async () => {
    seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'cfg-none' });
    seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'cfg-some', config: true });
    const read = (repo: string) => fetch(`${sandbox.apiUrl}/repos/acme/${repo}/contents/.github/autonomy.yml`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
    expect((await read('cfg-none')).status).toBe(404);
    expect((await read('cfg-some')).status).toBe(200);
  });
});

describe('ledger fetch', () => {
  test('writes the ledger branch to a new directory; verify --dir passes on it; a non-empty directory is refused', async () => {
    const seeded = seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'ledger-fetch', config: true });
    expect((await cli(['heal', '--repo', 'acme/ledger-fetch', '--run-id', String(seeded.runId)])).code).toBe(0);
    const dir = join(tmp, 'ledger');
    const fetched = await cli(['ledger', 'fetch', '--repo', 'acme/ledger-fetch', '--dir', dir, '--json']);
    expect(fetched.err).toBe('');
    const out = JSON.parse(fetched.out) as { branch: string; commit: string; files: number };
    expect(out).toMatchObject({ branch: 'bridge-ledger', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(out.files).toBeGreaterThan(2);
    expect(readdirSync(join(dir, '.bridge', 'certificates')).length).toBeGreaterThan(0);
    const keys = join(tmp, 'keys.pub');
    writeFileSync(keys, `${publicKey}\n`);
    const verified = await cli(['verify', '--dir', dir, '--keys', keys, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, status: 'ok' });
    expect(JSON.parse(readFileSync(join(dir, '.ledger-source.json'), 'utf8'))).toMatchObject({ repository: 'acme/ledger-fetch', commit: out.commit });
    const again = await cli(['ledger', 'fetch', '--repo', 'acme/ledger-fetch', '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/is not empty/);
    seedScenario(sandbox.state, 'flaky-network', 'acme', { repo: 'ledger-none', trigger: false });
    expect((await cli(['ledger', 'fetch', '--repo', 'acme/ledger-none', '--dir', join(tmp, 'none')])).code).toBe(3);
  });
});

describe('issue_comment webhooks', () => {
  let receiver: Server;
  const got: { event: string; signature: string; body: string }[] = [];
  const SECRET = 'sandbox-comment-secret';
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ event: String(req.headers['x-github-event']), signature: String(req.headers['x-hub-signature-256']), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    sandbox.state.webhook = { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: SECRET };
  });
  afterAll(async () => {
    sandbox.state.webhook = null;
    await new Promise((r) => receiver.close(r));
  });

  test('a person\'s comment through /_sandbox/comments reaches the App as issue_comment.created, signed', async () => {
    seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'comments', trigger: false });
    const pull = sandbox.state.createPullRequest('acme', 'comments', { headBranch: 'feature/x' });
    const res = await fetch(`${sandbox.url}/_sandbox/comments`, { method: 'POST', body: JSON.stringify({ owner: 'acme', repo: 'comments', issue_number: pull.number, user: 'maria', body: '/bridge approve 1-abcdef01' }) });
    expect(res.status).toBe(201);
    const deadline = Date.now() + 5000;
    while (!got.some((g) => g.event === 'issue_comment') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hook = got.find((g) => g.event === 'issue_comment')!;
    expect(hook.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`);
    const payload = JSON.parse(hook.body) as { action: string; issue: { number: number; pull_request?: unknown }; comment: { body: string; user: { login: string; type: string } }; repository: { full_name: string }; installation: { id: number } };
    expect(payload).toMatchObject({ action: 'created', issue: { number: pull.number, pull_request: expect.any(Object) }, comment: { body: '/bridge approve 1-abcdef01', user: { login: 'maria', type: 'User' } }, repository: { full_name: 'acme/comments' }, installation: { id: sandbox.state.installation.id } });
    const bad = await fetch(`${sandbox.url}/_sandbox/comments`, { method: 'POST', body: JSON.stringify({ owner: 'acme', repo: 'comments', issue_number: 0, body: 'x' }) });
    expect(bad.status).toBe(422);
    const missing = await fetch(`${sandbox.url}/_sandbox/comments`, { method: 'POST', body: JSON.stringify({ owner: 'acme', repo: 'comments', issue_number: 999, body: 'x' }) });
    expect(missing.status).toBe(404);
  });
});

describe('html pages', () => {
  test('run, job, issue, pull request and repository links open HTML; the API keeps answering JSON', async () => {
    const seeded = seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'pages' });
    const pull = sandbox.state.createPullRequest('acme', 'pages', { headBranch: 'feature/p', title: 'Add <b>things</b>' });
    sandbox.state.createComment('acme', 'pages', pull.number, 'Living Bridge — <script>alert(1)</script>', 'living-bridge[bot]');
    const run = sandbox.state.run('acme', 'pages', seeded.runId!);
    const job = sandbox.state.jobs.get(run.attempts[0]!.jobIds.at(-1)!)!;
    const get = async (path: string) => {
      const res = await fetch(`${sandbox.url}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const runPage = await get(`/acme/pages/actions/runs/${run.id}`);
    expect(runPage).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(runPage.text).toContain('Build &amp; Deploy');
    expect(runPage.text).toContain('DEPLOY_TOKEN is not set');
    expect((await get(`/acme/pages/actions/runs/${run.id}/job/${job.id}`)).text).toContain(esc(job.name));
    const prPage = await get(`/acme/pages/pull/${pull.number}`);
    expect(prPage.text).toContain('Add &lt;b&gt;things&lt;/b&gt;');
    expect(prPage.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(prPage.text).not.toContain('<script>alert(1)');
    expect(prPage.text).toContain('/_sandbox/comments');
    expect((await get('/acme/pages')).text).toContain(`/acme/pages/actions/runs/${run.id}`);
    expect((await get(`/acme/pages/issues/${pull.number}`)).status).toBe(404); // a PR is not shown as an issue
    expect((await get('/acme/pages/actions/runs/1')).status).toBe(404);
    expect((await get('/acme/nope')).status).toBe(404);
    const api = await fetch(`${sandbox.apiUrl}/repos/acme/pages`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
    expect(api.headers.get('content-type')).toMatch(/application\/json/);
  });
});

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
