/**
 * The idempotent port verbs (src/ports/ensure.ts) over the in-memory fake, and the escalation
 * promises built on them: one root cause = one issue, no write when nothing changed, and the issue
 * closing itself on the workflow's next green run (issue #10 item 9).
 */
import type { Decision, Incident, RepoRef } from '../../src/core/schemas/index.js';
import { executeEscalate, healsWithMarker, rootCauseMarker } from '../../src/engines/escalate.js';
import { HEALED_COMMENT_MARKER, closeHealedEscalations, type SucceededRun } from '../../src/engines/escalation-close.js';
import { ProposalPullRequestError, gitBlobSha, hashOf } from '../../src/ports/index.js';
import { FakeGitHub, FakeGitHubError } from '../support/fake-github.js';

const repo: RepoRef = { owner: 'acme', repo: 'shop' };

describe('ensureIssue', () => {
  const spec = { marker: '<!-- m -->', title: 'T', body: 'hello', labels: ['x'] };

  it('creates once, then writes nothing while title and body hash the same', async () => {
    const gh = new FakeGitHub();
    const first = await gh.ensureIssue(repo, spec);
    expect(first).toMatchObject({ number: 1, status: 'created', previous: null, state: 'open' });
    expect(gh.issue(repo, 1)?.body).toMatch(/^<!-- m -->\nhello\n<!-- living-bridge:hash:[0-9a-f]{16} -->$/);
    const again = await gh.ensureIssue(repo, spec);
    expect(again).toMatchObject({ number: 1, status: 'unchanged' });
    expect(gh.callsTo('createIssue')).toHaveLength(1);
    expect(gh.callsTo('updateIssue')).toHaveLength(0);
    // A changed title is a change (the hash covers it).
    expect(await gh.ensureIssue(repo, { ...spec, title: 'T2' })).toMatchObject({ status: 'updated' });
    expect(gh.issue(repo, 1)?.title).toBe('T2');
  });

  it('reopens a closed issue even when unchanged, unless reopen is false', async () => {
    const gh = new FakeGitHub();
    await gh.ensureIssue(repo, spec);
    await gh.updateIssue(repo, 1, { state: 'closed' });
    expect(await gh.ensureIssue(repo, { ...spec, reopen: false })).toMatchObject({ status: 'unchanged', state: 'closed' });
    expect(await gh.ensureIssue(repo, spec)).toMatchObject({ status: 'updated', state: 'open' });
    expect(gh.issue(repo, 1)?.state).toBe('open');
  });

  it('finds an issue by an older marker (alias) and hands the body function what it found', async () => {
    const gh = new FakeGitHub();
    await gh.createIssue(repo, 'old', '<!-- old -->\nseen 1');
    const seen: (string | null)[] = [];
    const r = await gh.ensureIssue(repo, { marker: '<!-- new -->', aliases: ['<!-- old -->'], title: 'T', body: (e) => { seen.push(e?.body ?? null); return `${e?.body ?? ''}+1`; } });
    expect(r).toMatchObject({ number: 1, status: 'updated' });
    expect(seen).toEqual(['<!-- old -->\nseen 1']);
    expect(gh.issue(repo, 1)?.body).toContain('<!-- new -->');
    expect(gh.issues(repo)).toHaveLength(1);
  });

  it('a create that failed with a 5xx is looked up by marker and tried again; a 4xx is not retried', async () => {
    const gh = new FakeGitHub();
    gh.failNext('createIssue', new FakeGitHubError(502, 'bad gateway'));
    expect(await gh.ensureIssue(repo, spec)).toMatchObject({ number: 1, status: 'created' });
    expect(gh.callsTo('createIssue')).toHaveLength(2);
    expect(gh.issues(repo)).toHaveLength(1);
    const gh2 = new FakeGitHub();
    gh2.failNext('createIssue', new FakeGitHubError(422, 'invalid'));
    await expect(gh2.ensureIssue(repo, spec)).rejects.toThrow('invalid');
    expect(gh2.callsTo('createIssue')).toHaveLength(1);
  });

  it('hashOf reads the hash ensureIssue wrote', async () => {
    const gh = new FakeGitHub();
    const r = await gh.ensureIssue(repo, spec);
    expect(hashOf(r.body)).toMatch(/^[0-9a-f]{16}$/);
    expect(hashOf('no hash here')).toBeNull();
  });
});

describe('proposeFile', () => {
  const proposal = { branch: 'living-bridge/p', base: 'main', path: 'cfg.json', content: '{"a":1}\n', message: 'propose cfg', pr: { title: 'P', body: 'B' } };

  it('commits the file onto a new branch and opens one pull request; the same proposal again commits nothing', async () => {
    const gh = new FakeGitHub();
    const first = await gh.proposeFile(repo, proposal);
    expect(first).toMatchObject({ blobSha: gitBlobSha(proposal.content), branchBefore: null, committed: true, pullRequest: { created: true } });
    expect((await gh.readFile(repo, 'cfg.json', 'living-bridge/p'))?.content).toBe(proposal.content);
    expect((await gh.readFile(repo, 'cfg.json', 'main'))).toBeNull();
    const commitsBefore = gh.callsTo('createCommit').length;
    const second = await gh.proposeFile(repo, proposal);
    expect(second).toMatchObject({ committed: false, commitSha: first.commitSha, pullRequest: { number: first.pullRequest.number, created: false } });
    expect(gh.callsTo('createCommit')).toHaveLength(commitsBefore);
    expect(gh.callsTo('createPullRequest')).toHaveLength(1);
  });

  it('a changed proposal moves the branch fast-forward (base merged in) and keeps the pull request', async () => {
    const gh = new FakeGitHub();
    const first = await gh.proposeFile(repo, proposal);
    const second = await gh.proposeFile(repo, { ...proposal, content: '{"a":2}\n' });
    expect(second).toMatchObject({ committed: true, branchBefore: first.commitSha, pullRequest: { number: first.pullRequest.number, created: false } });
    expect((await gh.readFile(repo, 'cfg.json', 'living-bridge/p'))?.content).toBe('{"a":2}\n');
  });

  it('sameAs decides what counts as already proposed', async () => {
    const gh = new FakeGitHub();
    await gh.proposeFile(repo, proposal);
    const r = await gh.proposeFile(repo, { ...proposal, content: '{ "a": 1 }\n', sameAs: (text) => JSON.parse(text).a === 1 });
    expect(r.committed).toBe(false);
  });

  it('refuses the base branch, and reports a commit whose pull request could not be opened', async () => {
    const gh = new FakeGitHub();
    await expect(gh.proposeFile(repo, { ...proposal, branch: 'main' })).rejects.toThrow('refusing to propose onto main');
    gh.failNext('createPullRequest', new FakeGitHubError(422, 'nope'));
    const err = await gh.proposeFile(repo, proposal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalPullRequestError);
    expect((err as ProposalPullRequestError).partial).toMatchObject({ committed: true, branchBefore: null });
  });
});

function incident(over: Partial<Incident> = {}): Incident {
  return {
    kind: 'secret.missing',
    target: { type: 'secret', name: 'DEPLOY_TOKEN' },
    confidence: 0.9,
    fingerprint: 'fp-deploy-job',
    summary: 'DEPLOY_TOKEN is not set',
    evidence: [{ job_name: 'deploy', step: 'Deploy', line: 3, text: 'Error: DEPLOY_TOKEN is not set' }],
    repo,
    run: { id: 42, attempt: 1, from_fork: false, pull_requests: [], head_sha: 'abc1234', head_branch: 'main', workflow_name: 'Build & Deploy' },
    ...over,
  };
}
function decision(over: Partial<Decision> = {}): Decision {
  return {
    verdict: 'execute', action: 'ESCALATE', steps: ['ESCALATE'], guardrail: null, reason: 'no declared source',
    incident_kind: 'secret.missing', target: { type: 'secret', name: 'DEPLOY_TOKEN' }, incident_fingerprint: 'fp-deploy-job',
    cooldown_key: 'acme/shop|-|secret.missing|ESCALATE', candidates: [], policy_version: 1, blueprint_mode: 'adaptive', decided_at: '2026-03-01T10:00:00Z',
    ...over,
  };
}
const plan = (i: Incident = incident(), d: Decision = decision()) => ({ repo, incident: i, decision: d, tried: [], instruction: 'Set DEPLOY_TOKEN.' });
const green = (over: Partial<SucceededRun> = {}): SucceededRun => ({ id: 50, run_attempt: 1, name: 'Build & Deploy', head_branch: 'main', html_url: 'https://github.com/acme/shop/actions/runs/50', conclusion: 'success', ...over });

describe('escalation issues: one per root cause', () => {
  it('a second failure of the same target (another job, another kind) updates the open issue instead of opening another', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    const other = incident({ kind: 'credential.invalid', fingerprint: 'fp-release-job', run: { ...incident().run!, id: 43 } });
    const second = await executeEscalate(gh, plan(other, decision({ incident_kind: 'credential.invalid', incident_fingerprint: 'fp-release-job', decided_at: '2026-03-01T11:00:00Z' })));
    expect(gh.issues(repo)).toHaveLength(1);
    expect(second.issue).toMatchObject({ number: 1, created: false, occurrences: 2 });
    expect(gh.issue(repo, 1)?.body).toContain(rootCauseMarker('acme/shop', other));
  });

  it('another target is another root cause: its own issue', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    await executeEscalate(gh, plan(incident({ target: { type: 'secret', name: 'NPM_TOKEN' }, fingerprint: 'fp-npm' })));
    expect(gh.issues(repo)).toHaveLength(2);
  });

  it('an issue opened before root-cause markers (incident marker only) is found and kept', async () => {
    const gh = new FakeGitHub();
    await gh.createIssue(repo, 'old', '<!-- living-bridge:incident:fp-deploy-job -->\nold body', ['living-bridge', 'needs-human']);
    const r = await executeEscalate(gh, plan());
    expect(r.issue).toMatchObject({ number: 1, created: false });
    expect(gh.issues(repo)).toHaveLength(1);
  });

  it('a replayed decision writes nothing (the content hash is unchanged)', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    const again = await executeEscalate(gh, plan());
    expect(gh.callsTo('updateIssue')).toHaveLength(0);
    expect(again.changes[0]).toMatchObject({ op: 'noop' });
    expect(again.certified).toBe(true);
  });
});

describe('escalation issues close themselves when healed', () => {
  it('the workflow\'s next green run on the branch closes the issue with a comment', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    expect(gh.issue(repo, 1)?.body).toContain(healsWithMarker(incident()) as string);
    const closed = await closeHealedEscalations(gh, repo, green());
    expect(closed).toEqual([{ number: 1, html_url: gh.issue(repo, 1)?.html_url }]);
    expect(gh.issue(repo, 1)?.state).toBe('closed');
    const comment = gh.issue(repo, 1)?.comments[0]?.body ?? '';
    expect(comment).toContain(HEALED_COMMENT_MARKER);
    expect(comment).toContain('[Run 50 attempt 1](https://github.com/acme/shop/actions/runs/50) of "Build & Deploy" on `main` succeeded');
  });

  it('a later attempt of the escalated run heals it too (the re-run a human started after fixing the cause)', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    expect(await closeHealedEscalations(gh, repo, green({ id: 42, run_attempt: 2 }))).toHaveLength(1);
  });

  it('does not close on a failure, another workflow, another branch, or a run older than the escalated one', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    for (const run of [green({ conclusion: 'failure' }), green({ name: 'Lint' }), green({ head_branch: 'feature' }), green({ id: 41 }), green({ id: 42, run_attempt: 1 })]) {
      expect(await closeHealedEscalations(gh, repo, run)).toEqual([]);
    }
    expect(gh.issue(repo, 1)?.state).toBe('open');
    expect(gh.callsTo('updateIssue')).toHaveLength(0);
  });

  it('the same root cause failing again reopens the closed issue (still one issue)', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    await closeHealedEscalations(gh, repo, green());
    const again = await executeEscalate(gh, plan(incident({ run: { ...incident().run!, id: 60 } }), decision({ decided_at: '2026-03-02T10:00:00Z' })));
    expect(again.issue).toMatchObject({ number: 1, reopened: true, occurrences: 2 });
    expect(gh.issues(repo)).toHaveLength(1);
    // It now waits for a green run after run 60.
    expect(await closeHealedEscalations(gh, repo, green({ id: 55 }))).toEqual([]);
    expect(await closeHealedEscalations(gh, repo, green({ id: 61 }))).toHaveLength(1);
  });

  it('an incident without a run (the incident API) carries no heals-with marker and is left to a human', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan(incident({ run: undefined })));
    expect(healsWithMarker(incident({ run: undefined }))).toBeNull();
    expect(gh.issue(repo, 1)?.body).toContain('close it once fixed');
  });
});
