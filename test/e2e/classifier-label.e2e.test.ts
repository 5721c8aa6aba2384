/**
 * `/bridge label` end to end over HTTP: the real App process against the sandbox. A failing run is classified and
 * reported with its failure signature; a reader's label is refused; a writer's label is stored in the ledger's
 * classifier memory; the same failure (a new run with the same log) is then classified as labelled, citing the label.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { eventually, sandboxControl, sendPullRequestComment, sendWebhook, startAppProcess, type AppProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(180_000);

let sandbox: Sandbox;
let app: AppProcess;

beforeAll(async () => {
  sandbox = await startSandbox();
  app = await startAppProcess(sandbox.url, {});
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

const comment = (fullName: string, pullNumber: number, login: string, body: string) =>
  sendPullRequestComment(app, { repository: fullName, pullNumber, login, body, installationId: 1 });

describe('/bridge label over HTTP', () => {
  test('a writer labels a failure signature; the same failure is classified as labelled from then on', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'broken-code', { repo: 'e2e-label', autonomyYml: DEMO_AUTONOMY_YML.replace('default_level: full', 'default_level: suggest') });
    const [owner, name] = repo.fullName.split('/') as [string, string];
    sandbox.state.setCollaborator(owner, name, 'maria', 'write');
    sandbox.state.setCollaborator(owner, name, 'rita', 'read');

    const first = await failingRun(sandbox.url, repo.fullName, repo);
    expect((await sendWebhook(app.url, app.webhookSecret, 'workflow_run', first.payload)).status).toBe(202);
    const report = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.find((c) => c.issue_number === repo.pullNumber && c.body.includes('/bridge label '));
    }, 60_000, 'the heal comment with the failure signature');
    expect(report.body).toContain('`code.failure`');
    const signature = /\/bridge label ([0-9a-f]{16}) /.exec(report.body)![1]!;

    // A reader may not label; a malformed kind is explained; nothing is stored.
    expect(await comment(repo.fullName, repo.pullNumber, 'rita', `/bridge label ${signature} transient.network`)).toMatchObject({ status: 202, body: { accepted: 'label' } });
    await eventually(async () => ((await repoState(sandbox.url, repo.fullName)).comments.some((c) => c.body.includes('@rita cannot label')) ? true : undefined), 30_000, 'the refusal');
    await comment(repo.fullName, repo.pullNumber, 'maria', `/bridge label ${signature} flaky`);
    await eventually(async () => ((await repoState(sandbox.url, repo.fullName)).comments.some((c) => c.body.includes('`flaky` is not a kind')) ? true : undefined), 30_000, 'the bad-kind reply');

    expect(await comment(repo.fullName, repo.pullNumber, 'maria', `/bridge label ${signature} transient.network`)).toMatchObject({ status: 202, body: { accepted: 'label' } });
    await eventually(async () => ((await repoState(sandbox.url, repo.fullName)).comments.some((c) => c.body.includes(`Labelled by @maria: failure signature \`${signature}\``)) ? true : undefined), 30_000, 'the label reply');

    // Stored in the ledger branch's classifier memory.
    const model = sandbox.state.repo(owner, name);
    const ledgerSha = model.refs.get('refs/heads/bridge-ledger');
    expect(ledgerSha).toBeDefined();
    const stored = model.git.fileAt(ledgerSha!, '.bridge/classifier/memory.json')?.content.toString('utf8');
    expect(JSON.parse(stored ?? '{}').signatures[signature].label).toMatchObject({ kind: 'transient.network', by: 'maria' });

    // The same failure again (a new run, the same log): classified as labelled, the label cited.
    const second = await failingRun(sandbox.url, repo.fullName, repo);
    expect(second.runId).not.toBe(first.runId);
    expect((await sendWebhook(app.url, app.webhookSecret, 'workflow_run', second.payload)).status).toBe(202);
    const relabelled = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.find((c) => c.issue_number === repo.pullNumber && c.body.includes(`#${second.runId}`) && c.body.includes('Labelled `transient.network` by @maria'));
    }, 60_000, 'the second run classified as labelled');
    expect(relabelled.body).toContain('**Incident:** `transient.network`');
  });
});
