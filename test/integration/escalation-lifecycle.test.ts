/**
 * Issue #10 item 9, escalation parts, through the heal flow (FakeGitHub and a git ledger on it):
 * one root cause never opens a second issue, and the issue closes itself with a comment when the
 * workflow's next run on that branch succeeds.
 */
import { describe, expect, test } from '@jest/globals';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { heal } from '../../src/pipeline/heal.js';
import { HEALED_COMMENT_MARKER } from '../../src/engines/escalation-close.js';
import { AUTONOMY, FULL, LOGS, REPO, failedRun, jobFor, makeKit } from './pipeline-kit.js';

const escalationIssues = (gh: Awaited<ReturnType<typeof makeKit>>['gh']) => gh.issues(REPO).filter((i) => i.labels.includes('needs-human'));

describe('escalation issues over the heal flow', () => {
  test('the same root cause failing on two runs updates one issue; the next green run closes it with a comment', async () => {
    const { gh, ctx, clock } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    gh.seedSecret(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN', 'stale-value');

    const first = failedRun(gh, LOGS.credential);
    const r1 = await heal(ctx, jobFor({ repository: FULL, run_id: first.id }));
    expect(r1.status).toBe('escalated');
    expect(escalationIssues(gh)).toHaveLength(1);
    const number = escalationIssues(gh)[0]!.number;

    clock.advance(60);
    const second = failedRun(gh, LOGS.credential);
    const r2 = await heal(ctx, jobFor({ repository: FULL, run_id: second.id }));
    expect(r2.decision?.action).toBe('ESCALATE');
    expect(escalationIssues(gh)).toHaveLength(1);
    expect(gh.issue(REPO, number)?.body).toContain('Seen 2 times.');

    // A human rotates the credential; the deploy workflow's next run on main goes green.
    clock.advance(10);
    const green = gh.addRun(REPO, { conclusion: 'success', head_sha: second.head_sha });
    const r3 = await heal(ctx, jobFor({ repository: FULL, run_id: green.id }));
    expect(r3.status).toBe('noop');
    const issue = gh.issue(REPO, number);
    expect(issue?.state).toBe('closed');
    const comment = issue?.comments.find((c) => c.body.includes(HEALED_COMMENT_MARKER))?.body ?? '';
    expect(comment).toContain(`Run ${green.id} attempt 1`);
    expect(comment).toContain('succeeded, so Living Bridge closes this issue');

    // The same root cause failing again reopens that issue: still one.
    clock.advance(60);
    const third = failedRun(gh, LOGS.credential);
    await heal(ctx, jobFor({ repository: FULL, run_id: third.id }));
    expect(escalationIssues(gh)).toHaveLength(1);
    expect(gh.issue(REPO, number)?.state).toBe('open');
  });

  test('a green run of a repository that never escalated asks GitHub nothing about issues', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const green = gh.addRun(REPO, { conclusion: 'success' });
    await heal(ctx, jobFor({ repository: FULL, run_id: green.id }));
    expect(gh.callsTo('listOpenIssuesByMarker')).toHaveLength(0);
    expect(gh.callsTo('updateIssue')).toHaveLength(0);
  });
});
