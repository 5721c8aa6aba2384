import { createHmac, createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Octokit } from '@octokit/rest';
import sodium from 'libsodium-wrappers';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');
let clock = T0;
let sb: Sandbox;
let gh: Octokit;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function seal(value: string, key: string): Promise<string> {
  await sodium.ready;
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), sodium.from_base64(key, sodium.base64_variants.ORIGINAL));
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}

async function putSecret(octokit: Octokit, owner: string, repo: string, name: string, value: string): Promise<number> {
  const { data: pk } = await octokit.actions.getRepoPublicKey({ owner, repo });
  const res = await octokit.actions.createOrUpdateRepoSecret({ owner, repo, secret_name: name, encrypted_value: await seal(value, pk.key), key_id: pk.key_id });
  return res.status;
}

async function status(p: Promise<unknown>): Promise<{ status: number; data: unknown }> {
  try {
    const r = (await p) as { status: number; data: unknown };
    return { status: r.status, data: r.data };
  } catch (err) {
    const e = err as { status?: number; response?: { data?: unknown } };
    if (typeof e.status !== 'number') throw err;
    return { status: e.status, data: e.response?.data };
  }
}

async function jobLog(owner: string, repo: string, jobId: number): Promise<string> {
  const res = await fetch(`${sb.apiUrl}/repos/${owner}/${repo}/actions/jobs/${jobId}/logs`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` }, redirect: 'manual' });
  expect(res.status).toBe(302);
  const loc = res.headers.get('location')!;
  return (await fetch(loc)).text();
}

beforeAll(async () => {
  sb = await startSandbox({ now: () => clock });
  gh = new Octokit({ log: quiet, baseUrl: sb.apiUrl, auth: SANDBOX_ADMIN_TOKEN });
});

afterAll(async () => {
  await sb.close();
});

describe('sandbox: secrets', () => {
  test('a sealed secret is decrypted with the repo keypair; 201 then 204; values never listed', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'secrets' });
    expect(await putSecret(gh, 'acme', 'secrets', 'DEPLOY_TOKEN', 's3cr3t-value')).toBe(201);
    expect(sb.state.secretValue('acme', 'secrets', 'DEPLOY_TOKEN')).toBe('s3cr3t-value');
    expect(await putSecret(gh, 'acme', 'secrets', 'DEPLOY_TOKEN', 'rotated-value')).toBe(204);
    expect(sb.state.secretValue('acme', 'secrets', 'DEPLOY_TOKEN')).toBe('rotated-value');

    const { data: list } = await gh.actions.listRepoSecrets({ owner: 'acme', repo: 'secrets' });
    expect(list.total_count).toBe(1);
    expect(list.secrets[0]).toEqual({ name: 'DEPLOY_TOKEN', created_at: expect.any(String), updated_at: expect.any(String) });
    expect(JSON.stringify(list)).not.toContain('rotated-value');

    const { data: one } = await gh.actions.getRepoSecret({ owner: 'acme', repo: 'secrets', secret_name: 'DEPLOY_TOKEN' });
    expect(Object.keys(one).sort()).toEqual(['created_at', 'name', 'updated_at']);

    const wrongKey = await status(gh.actions.createOrUpdateRepoSecret({ owner: 'acme', repo: 'secrets', secret_name: 'X', encrypted_value: 'AAAA', key_id: '123' }));
    expect(wrongKey.status).toBe(422);

    expect((await gh.actions.deleteRepoSecret({ owner: 'acme', repo: 'secrets', secret_name: 'DEPLOY_TOKEN' })).status).toBe(204);
    expect((await status(gh.actions.getRepoSecret({ owner: 'acme', repo: 'secrets', secret_name: 'DEPLOY_TOKEN' }))).status).toBe(404);
  });

  test('environment secrets use their own keypair', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'envsec' });
    await gh.request('PUT /repos/{owner}/{repo}/environments/{environment_name}', { owner: 'acme', repo: 'envsec', environment_name: 'production', wait_timer: 5 });
    const { data: pk } = await gh.request('GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key', { owner: 'acme', repo: 'envsec', environment_name: 'production' });
    expect(pk.key_id).not.toBe(sb.state.publicKey('acme', 'envsec').key_id);
    const res = await gh.request('PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}', {
      owner: 'acme', repo: 'envsec', environment_name: 'production', secret_name: 'API_KEY', encrypted_value: await seal('env-value', pk.key), key_id: pk.key_id,
    });
    expect(res.status).toBe(201);
    expect(sb.state.secretValue('acme', 'envsec', 'API_KEY', 'production')).toBe('env-value');
    expect(sb.state.secretValue('acme', 'envsec', 'API_KEY')).toBeUndefined();
    const { data: envs } = await gh.request('GET /repos/{owner}/{repo}/environments', { owner: 'acme', repo: 'envsec' });
    expect(envs.total_count).toBe(1);
    expect(envs.environments![0]!.protection_rules).toEqual([expect.objectContaining({ type: 'wait_timer', wait_timer: 5 })]);
  });

  test('a token without secrets:write gets 403 like GitHub; an unknown token 401', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'perms' });
    const readOnly = new Octokit({ log: quiet, baseUrl: sb.apiUrl, auth: sb.state.issueToken({ contents: 'read', actions: 'read' }) });
    const denied = await status(putSecret(readOnly, 'acme', 'perms', 'X', 'v'));
    expect(denied.status).toBe(403);
    expect(denied.data).toMatchObject({ message: 'Resource not accessible by integration' });
    expect((await status(readOnly.repos.get({ owner: 'acme', repo: 'perms' }))).status).toBe(200);
    const bad = await status(new Octokit({ log: quiet, baseUrl: sb.apiUrl, auth: 'ghs_nope' }).repos.get({ owner: 'acme', repo: 'perms' }));
    expect(bad.status).toBe(401);
    expect(bad.data).toMatchObject({ message: 'Bad credentials' });
  });

  test('app JWT mints an installation token that works on repo routes', async () => {
    const fakeJwt = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln';
    const app = new Octokit({ log: quiet, baseUrl: sb.apiUrl, auth: fakeJwt });
    const { data: inst } = await app.apps.getRepoInstallation({ owner: 'acme', repo: 'perms' });
    expect(inst.id).toBe(1);
    const { status: st, data: tok } = await app.apps.createInstallationAccessToken({ installation_id: 1 });
    expect(st).toBe(201);
    expect(tok.token).toMatch(/^ghs_/);
    expect(tok.permissions).toMatchObject({ secrets: 'write' });
    const inst2 = new Octokit({ log: quiet, baseUrl: sb.apiUrl, auth: tok.token });
    expect(await putSecret(inst2, 'acme', 'perms', 'FROM_APP', 'v')).toBe(201);
  });
});

describe('sandbox: variables, pagination and ETags', () => {
  test('variables CRUD, paginated with total_count and a Link header', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'vars' });
    for (let i = 0; i < 35; i++) {
      const r = await gh.actions.createRepoVariable({ owner: 'acme', repo: 'vars', name: `VAR_${String(i).padStart(2, '0')}`, value: `v${i}` });
      expect(r.status).toBe(201);
    }
    expect((await status(gh.actions.createRepoVariable({ owner: 'acme', repo: 'vars', name: 'VAR_00', value: 'x' }))).status).toBe(409);
    expect((await status(gh.actions.updateRepoVariable({ owner: 'acme', repo: 'vars', name: 'MISSING', value: 'x' }))).status).toBe(404);
    expect((await gh.actions.updateRepoVariable({ owner: 'acme', repo: 'vars', name: 'VAR_01', value: 'changed' })).status).toBe(204);

    const first = await gh.actions.listRepoVariables({ owner: 'acme', repo: 'vars' });
    expect(first.data.total_count).toBe(35);
    expect(first.data.variables).toHaveLength(30);
    expect(first.headers.link).toMatch(/page=2>; rel="next"/);
    expect(first.headers.link).toMatch(/page=2>; rel="last"/);
    const all = await gh.paginate(gh.actions.listRepoVariables, { owner: 'acme', repo: 'vars', per_page: 10 });
    expect(all).toHaveLength(35);
    expect(all.find((v) => v.name === 'VAR_01')?.value).toBe('changed');
    expect((await gh.actions.deleteRepoVariable({ owner: 'acme', repo: 'vars', name: 'VAR_34' })).status).toBe(204);
    expect((await gh.actions.getRepoVariable({ owner: 'acme', repo: 'vars', name: 'VAR_33' })).data.value).toBe('v33');
  });

  test('environment variables on the modern path', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'envvars' });
    sb.state.putEnvironment('acme', 'envvars', 'staging');
    const c = await gh.request('POST /repos/{owner}/{repo}/environments/{environment_name}/variables', { owner: 'acme', repo: 'envvars', environment_name: 'staging', name: 'REGION', value: 'eu' });
    expect(c.status).toBe(201);
    const l = await gh.request('GET /repos/{owner}/{repo}/environments/{environment_name}/variables', { owner: 'acme', repo: 'envvars', environment_name: 'staging' });
    expect(l.data).toMatchObject({ total_count: 1, variables: [{ name: 'REGION', value: 'eu' }] });
  });

  test('ETag + If-None-Match -> 304 with empty body, counted separately', async () => {
    sb.resetRequestCounts();
    const first = await gh.actions.listRepoVariables({ owner: 'acme', repo: 'vars' });
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    const raw = await fetch(`${sb.apiUrl}/repos/acme/vars/actions/variables`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'if-none-match': etag } });
    expect(raw.status).toBe(304);
    expect(await raw.text()).toBe('');
    expect(raw.headers.get('x-ratelimit-remaining')).toBeTruthy();
    const viaOctokit = await status(gh.actions.listRepoVariables({ owner: 'acme', repo: 'vars', headers: { 'if-none-match': etag } }));
    expect(viaOctokit.status).toBe(304);
    const counts = sb.requestCounts();
    expect(counts['GET /repos/{owner}/{repo}/actions/variables']).toBe(1);
    expect(counts['GET /repos/{owner}/{repo}/actions/variables 304']).toBe(2);
    expect(counts.total).toBe(3);
    await gh.actions.createRepoVariable({ owner: 'acme', repo: 'vars', name: 'NEW_ONE', value: 'x' });
    const changed = await fetch(`${sb.apiUrl}/repos/acme/vars/actions/variables`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(sb.requestCounts().writes).toBe(1);
  });
});

describe('sandbox: runs, logs, re-runs, webhooks', () => {
  test('missing secret: failing run with a realistic log; job logs 302 to a URL that expires after 60 s', async () => {
    const seeded = seedScenario(sb.state, 'missing-secret', 'acme');
    expect(seeded.conclusion).toBe('failure');
    const { data: run } = await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: seeded.runId! });
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', run_attempt: 1, event: 'push', path: '.github/workflows/deploy.yml', name: 'Build & Deploy' });
    expect(run.head_repository?.full_name).toBe('acme/missing-secret');
    const { data: jobs } = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: run.id });
    expect(jobs.jobs.map((j) => [j.name, j.conclusion])).toEqual([['build', 'success'], ['deploy', 'failure']]);
    const deploy = jobs.jobs.find((j) => j.name === 'deploy')!;
    expect(deploy.steps!.find((s) => s.name === 'Run ./scripts/deploy.sh')!.conclusion).toBe('failure');

    const res = await fetch(`${sb.apiUrl}/repos/acme/missing-secret/actions/jobs/${deploy.id}/logs`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` }, redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location.startsWith(`${sb.url}/_logs/`)).toBe(true);
    const logRes = await fetch(location);
    expect(logRes.headers.get('content-type')).toMatch(/^text\/plain/);
    const log = await logRes.text();
    expect(log).toMatch(/^2026-11-23T10:00:\d\d\.\d{7}Z /m);
    expect(log).toContain('##[group]Run ./scripts/deploy.sh');
    expect(log).toMatch(/Z {3}DEPLOY_TOKEN: $/m);
    expect(log).toContain('Error: DEPLOY_TOKEN is not set');
    expect(log).toContain('##[error]Process completed with exit code 1.');

    // octokit follows the redirect itself
    const viaOctokit = await gh.actions.downloadJobLogsForWorkflowRun({ owner: 'acme', repo: 'missing-secret', job_id: deploy.id });
    expect(String(viaOctokit.data)).toContain('DEPLOY_TOKEN is not set');

    clock += 61_000;
    expect((await fetch(location)).status).toBe(410);
    expect((await fetch(`${sb.url}/_logs/unknown`)).status).toBe(404);
  });

  test('re-run failed jobs flips a missing-secret run to success once the secret exists; webhook is signed', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const secret = 'whsec-test';
    sb.state.webhook = { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/github/webhooks`, secret };
    try {
      const runId = sb.state.repo('acme', 'missing-secret').runs[0]!.id;
      // still failing without the secret
      expect((await gh.actions.reRunWorkflowFailedJobs({ owner: 'acme', repo: 'missing-secret', run_id: runId })).status).toBe(201);
      expect((await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: runId })).data).toMatchObject({ run_attempt: 2, conclusion: 'failure' });

      await putSecret(gh, 'acme', 'missing-secret', 'DEPLOY_TOKEN', SCENARIO_VALUES.DEPLOY_TOKEN);
      const rr = await gh.actions.reRunWorkflowFailedJobs({ owner: 'acme', repo: 'missing-secret', run_id: runId });
      expect(rr.status).toBe(201);
      expect(rr.data).toEqual({});
      const { data: run } = await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: runId });
      expect(run).toMatchObject({ run_attempt: 3, conclusion: 'success', status: 'completed' });
      const { data: a1 } = await gh.actions.getWorkflowRunAttempt({ owner: 'acme', repo: 'missing-secret', run_id: runId, attempt_number: 1 });
      expect(a1.conclusion).toBe('failure');

      const latest = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: runId, filter: 'latest' });
      expect(latest.data.jobs.map((j) => [j.name, j.conclusion, j.run_attempt])).toEqual([['build', 'success', 1], ['deploy', 'success', 3]]);
      const all = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: runId, filter: 'all' });
      expect(all.data.total_count).toBe(4);
      const deployLog = await jobLog('acme', 'missing-secret', latest.data.jobs[1]!.id);
      expect(deployLog).toContain('DEPLOY_TOKEN: ***');
      expect(deployLog).not.toContain(SCENARIO_VALUES.DEPLOY_TOKEN);

      for (let i = 0; i < 50 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toHaveLength(2);
      const last = received[1]!;
      expect(last.headers['x-github-event']).toBe('workflow_run');
      expect(last.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      const expected = `sha256=${createHmac('sha256', secret).update(last.body).digest('hex')}`;
      expect(last.headers['x-hub-signature-256']).toBe(expected);
      const payload = JSON.parse(last.body) as { action: string; installation: { id: number }; repository: { full_name: string }; workflow_run: { id: number }; sender: { login: string } };
      expect(payload.action).toBe('completed');
      expect(payload.installation).toMatchObject({ id: 1 });
      expect(payload.repository.full_name).toBe('acme/missing-secret');
      expect(payload.workflow_run).toMatchObject({ id: runId, run_attempt: 3, conclusion: 'success' });
      expect(payload.sender.login).toBe('sandbox-admin');
      expect(sb.state.webhookPayloadFor('acme', 'missing-secret', runId).payload).toMatchObject({ action: 'completed', workflow_run: { id: runId } });
    } finally {
      sb.state.webhook = null;
      await new Promise((r) => receiver.close(r));
    }
  });

  test('flaky network fails once with ECONNRESET and a re-run succeeds', async () => {
    const s = seedScenario(sb.state, 'flaky-network');
    expect(s.conclusion).toBe('failure');
    const { data: jobs } = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'flaky-network', run_id: s.runId! });
    expect(jobs.jobs.map((j) => j.conclusion)).toEqual(['failure', 'skipped']);
    expect(await jobLog('acme', 'flaky-network', jobs.jobs[0]!.id)).toContain('npm ERR! code ECONNRESET');
    await gh.actions.reRunWorkflowFailedJobs({ owner: 'acme', repo: 'flaky-network', run_id: s.runId! });
    expect((await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'flaky-network', run_id: s.runId! })).data.conclusion).toBe('success');
  });

  test('wrong credential masks the value and shows 401; broken code shows a jest failure', async () => {
    const wc = seedScenario(sb.state, 'wrong-credential');
    const wcJobs = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'wrong-credential', run_id: wc.runId! });
    const log = await jobLog('acme', 'wrong-credential', wcJobs.data.jobs[1]!.id);
    expect(log).toContain('API_KEY: ***');
    expect(log).toContain('HTTP 401 Unauthorized: Bad credentials');
    expect(log).not.toContain(SCENARIO_VALUES.STALE_API_KEY);

    const bc = seedScenario(sb.state, 'broken-code');
    const bcJobs = await gh.actions.listJobsForWorkflowRun({ owner: 'acme', repo: 'broken-code', run_id: bc.runId! });
    expect(await jobLog('acme', 'broken-code', bcJobs.data.jobs[0]!.id)).toMatch(/Tests:\s+1 failed/);
    await gh.actions.reRunWorkflow({ owner: 'acme', repo: 'broken-code', run_id: bc.runId! });
    expect((await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'broken-code', run_id: bc.runId! })).data.conclusion).toBe('failure');
  });

  test('fork and Dependabot runs get no secrets; fork runs have empty pull_requests', async () => {
    sb.state.setSecret('acme', 'missing-secret', 'DEPLOY_TOKEN', 'present');
    const pr = sb.state.createPullRequest('acme', 'missing-secret', { headBranch: 'feature', fromFork: true });
    const fork = sb.state.triggerRun('acme', 'missing-secret', 'Build & Deploy', { pullRequest: pr.number, actor: 'contributor' });
    const { data } = await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: fork.id });
    expect(data).toMatchObject({ conclusion: 'failure', event: 'pull_request', pull_requests: [] });
    expect(data.head_repository.full_name).not.toBe('acme/missing-secret');
    const dep = sb.state.triggerRun('acme', 'missing-secret', 'Build & Deploy', { actor: 'dependabot[bot]' });
    expect(sb.state.latestAttempt(dep).conclusion).toBe('failure');
    const inRepo = sb.state.createPullRequest('acme', 'missing-secret', { headBranch: 'inside' });
    const own = sb.state.triggerRun('acme', 'missing-secret', 'Build & Deploy', { pullRequest: inRepo.number });
    const { data: ownRun } = await gh.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-secret', run_id: own.id });
    expect(ownRun.conclusion).toBe('success');
    expect(ownRun.pull_requests!.map((p) => p.number)).toEqual([inRepo.number]);
    const { data: prs } = await gh.repos.listPullRequestsAssociatedWithCommit({ owner: 'acme', repo: 'missing-secret', commit_sha: inRepo.headSha });
    expect(prs.map((p) => p.number)).toEqual([inRepo.number]);
  });

  test('more than 50 re-runs of a run are refused', async () => {
    const s = seedScenario(sb.state, 'broken-code', 'cap');
    for (let i = 0; i < 50; i++) sb.state.rerun('cap', 'broken-code', s.runId!, 'all');
    const refused = await status(gh.actions.reRunWorkflow({ owner: 'cap', repo: 'broken-code', run_id: s.runId! }));
    expect(refused.status).toBe(403);
    expect((refused.data as { message: string }).message).toMatch(/maximum of 50/);
  });
});

describe('sandbox: git data', () => {
  test('blob SHAs are real git object ids', async () => {
    sb.state.createRepo({ owner: 'acme', repo: 'git' });
    const { data } = await gh.git.createBlob({ owner: 'acme', repo: 'git', content: 'hello\n' });
    expect(data.sha).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    const expectedSha = createHash('sha1').update('blob 6\0hello\n').digest('hex');
    expect(data.sha).toBe(expectedSha);
  });

  test('compare-and-swap: the second of two racing commits gets 422 "Update is not a fast forward"', async () => {
    const o = { owner: 'acme', repo: 'git' };
    const { data: ref } = await gh.git.getRef({ ...o, ref: 'heads/main' });
    const base = ref.object.sha;
    const { data: baseCommit } = await gh.git.getCommit({ ...o, commit_sha: base });
    const mk = async (content: string) => {
      const { data: tree } = await gh.git.createTree({ ...o, base_tree: baseCommit.tree.sha, tree: [{ path: 'ledger/state.json', mode: '100644', type: 'blob', content }] });
      const { data: c } = await gh.git.createCommit({ ...o, message: `write ${content}`, tree: tree.sha, parents: [base] });
      return c.sha;
    };
    const a = await mk('{"writer":"a"}');
    const b = await mk('{"writer":"b"}');
    expect(a).not.toBe(b);
    expect((await gh.git.updateRef({ ...o, ref: 'heads/main', sha: a, force: false })).data.object.sha).toBe(a);
    const lost = await status(gh.git.updateRef({ ...o, ref: 'heads/main', sha: b, force: false }));
    expect(lost.status).toBe(422);
    expect(lost.data).toMatchObject({ message: 'Update is not a fast forward' });
    const { data: file } = await gh.repos.getContent({ ...o, path: 'ledger/state.json', ref: 'main' });
    expect(Buffer.from((file as { content: string }).content, 'base64').toString()).toBe('{"writer":"a"}');
    expect((await gh.git.updateRef({ ...o, ref: 'heads/main', sha: b, force: true })).data.object.sha).toBe(b);

    const { data: tree } = await gh.git.getTree({ ...o, tree_sha: 'main', recursive: 'true' });
    expect(tree.tree.map((e) => e.path)).toEqual(expect.arrayContaining(['README.md', '.github/workflows/deploy.yml', 'ledger/state.json']));
    const del = await gh.git.createTree({ ...o, base_tree: tree.sha, tree: [{ path: 'ledger/state.json', mode: '100644', type: 'blob', sha: null }] });
    expect(del.data.tree.map((e) => e.path)).not.toContain('ledger');

    expect((await gh.git.createRef({ ...o, ref: 'refs/heads/ledger', sha: a })).status).toBe(201);
    expect((await status(gh.git.createRef({ ...o, ref: 'refs/heads/ledger', sha: a }))).data).toMatchObject({ message: 'Reference already exists' });
    expect((await status(gh.git.getRef({ ...o, ref: 'heads/nope' }))).status).toBe(404);
    const { data: matching } = await gh.git.listMatchingRefs({ ...o, ref: 'heads/' });
    expect(matching.map((r) => r.ref)).toEqual(['refs/heads/ledger', 'refs/heads/main']);
  });

  test('contents API create/update with sha check', async () => {
    const o = { owner: 'acme', repo: 'git' };
    const c = await gh.repos.createOrUpdateFileContents({ ...o, path: 'docs/a.md', message: 'add', content: Buffer.from('one').toString('base64') });
    expect(c.status).toBe(201);
    const mismatch = await status(gh.repos.createOrUpdateFileContents({ ...o, path: 'docs/a.md', message: 'upd', content: Buffer.from('two').toString('base64'), sha: 'deadbeef' }));
    expect(mismatch.status).toBe(409);
    const u = await gh.repos.createOrUpdateFileContents({ ...o, path: 'docs/a.md', message: 'upd', content: Buffer.from('two').toString('base64'), sha: c.data.content!.sha! });
    expect(u.status).toBe(200);
  });
});

describe('sandbox: issues, checks, errors, chaos', () => {
  test('issues and comments', async () => {
    const o = { owner: 'acme', repo: 'git' };
    const { data: issue } = await gh.issues.create({ ...o, title: 'Deploy failing', labels: ['living-bridge'] });
    const { data: cm } = await gh.issues.createComment({ ...o, issue_number: issue.number, body: 'Healing…' });
    await gh.issues.updateComment({ ...o, comment_id: cm.id, body: 'Healed' });
    const { data: comments } = await gh.issues.listComments({ ...o, issue_number: issue.number });
    expect(comments.map((c) => c.body)).toEqual(['Healed']);
    const { data: listed } = await gh.issues.listForRepo({ ...o, labels: 'living-bridge' });
    expect(listed.map((i) => i.number)).toContain(issue.number);
    await gh.issues.update({ ...o, issue_number: issue.number, state: 'closed' });
    expect((await gh.issues.listForRepo({ ...o, labels: 'living-bridge' })).data).toHaveLength(0);
    expect((await status(gh.issues.create({ ...o, title: '' }))).status).toBe(422);
  });

  test('collaborator permission levels', async () => {
    sb.state.setCollaborator('acme', 'git', 'maintainer-mo', 'maintain');
    const get = async (username: string) => (await gh.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'git', username })).data;
    expect(await get('acme')).toMatchObject({ permission: 'admin', role_name: 'admin' });
    expect(await get('maintainer-mo')).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect(await get('stranger')).toMatchObject({ permission: 'read' });
  });

  test('check runs', async () => {
    const o = { owner: 'acme', repo: 'git' };
    const sha = sb.state.headSha('acme', 'git');
    const { data: cr } = await gh.checks.create({ ...o, name: 'Living Bridge', head_sha: sha, status: 'in_progress' });
    await gh.checks.update({ ...o, check_run_id: cr.id, conclusion: 'success', output: { title: 'Healed', summary: 'ok' } });
    const { data } = await gh.checks.listForRef({ ...o, ref: 'main' });
    expect(data.check_runs[0]).toMatchObject({ name: 'Living Bridge', status: 'completed', conclusion: 'success' });
  });

  test('unknown routes 404 JSON, invalid JSON 400, headers on every response', async () => {
    const res = await fetch(`${sb.apiUrl}/nope`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-github-request-id')).toBeTruthy();
    expect(await res.json()).toMatchObject({ message: 'Not Found', documentation_url: expect.any(String) });
    const bad = await fetch(`${sb.apiUrl}/repos/acme/git/issues`, { method: 'POST', headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ message: 'Problems parsing JSON' });
    const rl = await gh.rateLimit.get();
    for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-used', 'x-ratelimit-reset']) expect(rl.headers[h]).toBeDefined();
  });

  test('chaos: a secondary rate limit once, then normal', async () => {
    sb.state.chaos.secondaryRateLimitOnce('GET /repos/{owner}/{repo}');
    const r = await fetch(`${sb.apiUrl}/repos/acme/git`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
    expect(r.status).toBe(403);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(((await r.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    expect((await gh.repos.get({ owner: 'acme', repo: 'git' })).status).toBe(200);
    sb.state.chaos.failNext('GET /repos/{owner}/{repo}', 502);
    expect((await status(gh.repos.get({ owner: 'acme', repo: 'git' }))).status).toBe(502);
  });

  test('control endpoints never reveal secret values', async () => {
    const seeded = await fetch(`${sb.url}/_sandbox/repos`, { method: 'POST', body: JSON.stringify({ owner: 'ctl', scenario: 'wrong-credential' }) });
    expect(seeded.status).toBe(201);
    const st = await (await fetch(`${sb.url}/_sandbox/state/ctl/wrong-credential`)).text();
    expect(st).not.toContain(SCENARIO_VALUES.STALE_API_KEY);
    expect(st).toContain(createHash('sha256').update(SCENARIO_VALUES.STALE_API_KEY).digest('hex'));
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    const check = async (v: string) => (await (await fetch(`${sb.url}/_sandbox/secret-check/ctl/wrong-credential/API_KEY?expected_sha256=${sha(v)}`)).json()) as { match: boolean };
    expect((await check(SCENARIO_VALUES.STALE_API_KEY)).match).toBe(true);
    expect((await check(SCENARIO_VALUES.API_KEY)).match).toBe(false);
    const run = await fetch(`${sb.url}/_sandbox/runs`, { method: 'POST', body: JSON.stringify({ owner: 'ctl', repo: 'wrong-credential' }) });
    expect(((await run.json()) as { conclusion: string }).conclusion).toBe('failure');
  });

  test('collaborators can be set through the control endpoint and show in the permission route', async () => {
    await fetch(`${sb.url}/_sandbox/repos`, { method: 'POST', body: JSON.stringify({ owner: 'ctl', repo: 'collab' }) });
    const set = await fetch(`${sb.url}/_sandbox/collaborators`, { method: 'POST', body: JSON.stringify({ owner: 'ctl', repo: 'collab', login: 'ann', role: 'write' }) });
    expect(set.status).toBe(200);
    const { data } = await gh.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { owner: 'ctl', repo: 'collab', username: 'ann' });
    expect(data.permission).toBe('write');
    const bad = await fetch(`${sb.url}/_sandbox/collaborators`, { method: 'POST', body: JSON.stringify({ owner: 'ctl', repo: 'collab', login: 'ann', role: 'owner' }) });
    expect(bad.status).toBe(422);
  });
});
