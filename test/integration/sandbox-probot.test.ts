import { generateKeyPairSync } from 'node:crypto';
import { Probot } from 'probot';
import { seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(async () => {
  await sb.close();
});

test('Probot (GitHub Enterprise layout) authenticates as the app and as installation 1', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const probot = new Probot({ appId: 1001, privateKey, baseUrl: sb.apiUrl, logLevel: 'fatal' });
  seedScenario(sb.state, 'missing-variable');

  const appOctokit = await probot.auth();
  const { data: app } = await appOctokit.rest.apps.getAuthenticated();
  expect(app?.slug).toBe('living-bridge-sandbox');
  const { data: inst } = await appOctokit.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'missing-variable' });
  expect(inst.id).toBe(1);

  const octokit = await probot.auth(inst.id);
  const { data: runs } = await octokit.rest.actions.listWorkflowRunsForRepo({ owner: 'acme', repo: 'missing-variable' });
  expect(runs.workflow_runs[0]).toMatchObject({ conclusion: 'failure' });
  const created = await octokit.rest.actions.createRepoVariable({ owner: 'acme', repo: 'missing-variable', name: 'DEPLOY_REGION', value: 'eu-west-1' });
  expect(created.status).toBe(201);
  await octokit.rest.actions.reRunWorkflowFailedJobs({ owner: 'acme', repo: 'missing-variable', run_id: runs.workflow_runs[0]!.id });
  const { data: run } = await octokit.rest.actions.getWorkflowRun({ owner: 'acme', repo: 'missing-variable', run_id: runs.workflow_runs[0]!.id });
  expect(run).toMatchObject({ run_attempt: 2, conclusion: 'success' });
  expect(sb.requestCounts()['POST /app/installations/{installation_id}/access_tokens']).toBe(1);
});
