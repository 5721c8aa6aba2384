/**
 * Issue #10 item 9 (escalation parts) end to end: the real App process and the sandbox process over
 * HTTP. A wrong credential is escalated into one issue; the same root cause failing again updates it;
 * a human stores the right value and re-runs the failed jobs; the sandbox announces the green attempt,
 * and the App closes the issue with a comment.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createOctokit, GitHubAdapter } from '../../src/github/index.js';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;

const jobResult = (jobId: string) =>
  eventually(async () => {
    const res = await fetch(`${app.url}/api/autonomy/jobs/${jobId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
    const body = (await res.json().catch(() => null)) as { status: string; result?: { status: string; decision: { action: string } | null } } | null;
    return res.status === 200 && body && body.status !== 'queued' && body.status !== 'running' ? body : undefined;
  }, 30_000, `job ${jobId}`);

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { LOG_LEVEL: 'info' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

describe('escalation issues end to end', () => {
  test('one issue per root cause; closed with a comment when the fixed re-run goes green', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'wrong-credential', { repo: 'e2e-escalation-close', autonomyYml: `${DEMO_AUTONOMY_YML.replace(/DEPLOY_TOKEN/g, 'API_KEY')}cooldowns:\n  default_minutes: 0\n` });
    const escalationIssues = async () => (await repoState(sandbox.url, repo.fullName)).issues.filter((i) => !i.pull_request && i.labels.includes('needs-human'));

    const first = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', first.payload);
    expect((await jobResult(`wh-${sent.deliveryId}`)).result?.decision?.action).toBe('ESCALATE');
    expect(await escalationIssues()).toHaveLength(1);

    // The same root cause on another run: never a second issue.
    const second = await failingRun(sandbox.url, repo.fullName, repo);
    const sent2 = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', second.payload);
    await jobResult(`wh-${sent2.deliveryId}`);
    const open = await escalationIssues();
    expect(open).toHaveLength(1);
    expect(open[0]?.state).toBe('open');

    // A human stores the right credential and re-runs the failed jobs of the latest run (REST, as on GitHub).
    const human = new GitHubAdapter(createOctokit({ baseUrl: `${sandbox.url}/api/v3`, auth: SANDBOX_ADMIN_TOKEN, throttle: false, retry: { enabled: false } }), { cache: false });
    const [owner, name] = repo.fullName.split('/') as [string, string];
    await human.setSecret({ owner, repo: name }, REPOSITORY_SCOPE, 'API_KEY', SCENARIO_VALUES.API_KEY);
    await human.rerunFailedJobs({ owner, repo: name }, second.runId);

    // The sandbox announces the green attempt 2; the App closes the issue with a comment.
    const closed = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      const issue = s.issues.find((i) => i.number === open[0]!.number);
      return issue?.state === 'closed' ? s : undefined;
    }, 40_000, 'escalation issue closed');
    const comment = closed.comments.find((c) => c.issue_number === open[0]!.number && c.body.includes('<!-- living-bridge:healed -->'));
    expect(comment?.body).toContain(`Run ${second.runId} attempt 2`);
    expect(comment?.body).toContain('succeeded, so Living Bridge closes this issue');
    expect(closed.issues.filter((i) => !i.pull_request && i.labels.includes('needs-human'))).toHaveLength(1);
  });
});
