/**
 * `/bridge approve` end to end over HTTP: the real App process against a sandbox. A repository at
 * `default_level: suggest` gets a suggestion comment; a signed issue_comment webhook from a reader is
 * refused; one from a user with write access approves it and the secret is created.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { INSTALLATION_ID, SCENARIO_VALUES, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { eventually, sandboxControl, sendPullRequestComment, sendWebhook, startAppProcess, type AppProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo, sha256 } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: Sandbox;
let app: AppProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

const comment = (fullName: string, pullNumber: number, login: string, body: string) =>
  sendPullRequestComment(app, { repository: fullName, pullNumber, login, body, installationId: INSTALLATION_ID });

describe('/bridge approve over HTTP', () => {
  test('a suggestion is approved by a writer, after a reader was refused', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-approve', autonomyYml: DEMO_AUTONOMY_YML.replace('default_level: full', 'default_level: suggest') });
    const [owner, name] = repo.fullName.split('/') as [string, string];
    sandbox.state.setCollaborator(owner, name, 'maria', 'write');
    sandbox.state.setCollaborator(owner, name, 'rita', 'read');
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    expect(sent.status).toBe(202);

    const suggestion = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.find((c) => c.issue_number === repo.pullNumber && c.body.includes('/bridge approve '));
    }, 30_000, 'the suggestion comment');
    expect(suggestion.body).toContain('Waiting for a human');
    const id = /\/bridge approve ([\w:.-]+)/.exec(suggestion.body)![1]!;
    expect((await repoState(sandbox.url, repo.fullName)).secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();

    const refused = await comment(repo.fullName, repo.pullNumber, 'rita', `/bridge approve ${id}`);
    expect(refused).toMatchObject({ status: 202, body: { accepted: 'approve' } });
    await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.some((c) => c.body.includes('@rita cannot approve')) ? true : undefined;
    }, 20_000, 'the refusal reply');
    expect((await repoState(sandbox.url, repo.fullName)).secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();

    const approved = await comment(repo.fullName, repo.pullNumber, 'maria', `Looks right.\n/bridge approve ${id}\n`);
    expect(approved.status).toBe(202);
    const check = await eventually(async () => {
      const c = await sandboxControl<{ exists: boolean; match: boolean }>(sandbox.url, 'GET', `/_sandbox/secret-check/${repo.fullName}/DEPLOY_TOKEN?expected_sha256=${sha256(SCENARIO_VALUES.DEPLOY_TOKEN)}`);
      return c.exists ? c : undefined;
    }, 30_000, 'the approved secret');
    expect(check.match).toBe(true);
    const state = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.runs.find((r) => r.id === run.runId)?.conclusion === 'success' && s.comments.some((c) => c.body.includes('Approved by @maria')) ? s : undefined;
    }, 30_000, 're-run success and the approval reply');
    expect(state.runs.find((r) => r.id === run.runId)?.attempts).toEqual(['failure', 'success']);

    // A second approval of the same suggestion finds nothing pending.
    await comment(repo.fullName, repo.pullNumber, 'maria', `/bridge approve ${id}`);
    await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.some((c) => c.body.includes(`No pending Living Bridge suggestion \`${id}\``)) ? true : undefined;
    }, 20_000, 'the second approval refused');
    expect(app.output()).not.toContain(SCENARIO_VALUES.DEPLOY_TOKEN);
  });
});
