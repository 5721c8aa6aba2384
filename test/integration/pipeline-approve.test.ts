/**
 * Suggestions and `/bridge approve|reject <id>`: who may answer, what is recorded, what is done.
 */
import { describe, expect, test } from '@jest/globals';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { handleApprovalComment, parseApprovalCommand } from '../../src/pipeline/approve.js';
import { setHalted } from '../../src/pipeline/control.js';
import { heal } from '../../src/pipeline/heal.js';
import { AUTONOMY, DEPLOY_TOKEN_VALUE, FULL, LOGS, REPO, auditLines, failedRun, jobFor, makeKit, predicateOf, writesOf, type Kit } from './pipeline-kit.js';

const SUGGEST_YML = AUTONOMY('', 'suggest');

async function suggested(kit: Kit, opts: { withPr?: boolean } = {}) {
  kit.gh.seedFiles(REPO, { '.github/autonomy.yml': SUGGEST_YML });
  const sha = 'e'.repeat(40);
  const pr = opts.withPr === false ? null : kit.gh.addPullRequest(REPO, { head: 'feature', headSha: sha });
  const run = failedRun(kit.gh, LOGS.missingSecret(), { head_sha: sha });
  const result = await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id }));
  expect(result.status).toBe('suggested');
  const snap = await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read();
  expect(snap.pendingApprovals).toHaveLength(1);
  return { run, result, pr, id: snap.pendingApprovals[0]!.id };
}

const answer = (kit: Kit, id: string, actor: string, verb: 'approve' | 'reject' = 'approve', issueNumber: number | null = 1) =>
  handleApprovalComment(kit.ctx, { repository: FULL, issueNumber, actor, command: { verb, id } });

describe('parseApprovalCommand', () => {
  test('reads the command on a line of its own', () => {
    expect(parseApprovalCommand('LGTM\n/bridge approve 123-abcdef01\nthanks')).toEqual({ verb: 'approve', id: '123-abcdef01' });
    expect(parseApprovalCommand('  /bridge reject x-1  ')).toEqual({ verb: 'reject', id: 'x-1' });
    expect(parseApprovalCommand('please /bridge approve 1')).toBeNull();
    expect(parseApprovalCommand('/bridge approve')).toBeNull();
  });
});

describe('suggestions', () => {
  test('a suggest-level repository gets a pending approval and a PR comment with the command; nothing is done', async () => {
    const kit = await makeKit();
    const { id, pr } = await suggested(kit);
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    const body = kit.gh.pullRequests(REPO).find((p) => p.number === pr!.number)!.comments[0]!.body;
    expect(body).toContain(`/bridge approve ${id}`);
    expect(body).toContain('Waiting for a human');
    expect(kit.gh.checkRuns(REPO)[0]?.conclusion).toBe('action_required');
  });

  test('without a pull request the suggestion opens an issue to answer on', async () => {
    const kit = await makeKit();
    const { id, result } = await suggested(kit, { withPr: false });
    const issue = kit.gh.issues(REPO)[0];
    expect(issue?.body).toContain(`/bridge approve ${id}`);
    expect(result.commentUrl).toBe(issue?.html_url);
  });
});

describe('approve', () => {
  test('by a user with write permission: executes, certifies with "approved by", records the decision', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    kit.gh.setPermissionLevel(REPO, 'maria', 'write');
    const out = await answer(kit, id, 'maria');
    expect(out.status).toBe('executed');
    expect(out.result?.status).toBe('healed');
    expect(kit.gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe(DEPLOY_TOKEN_VALUE);
    expect(predicateOf(out.result?.certificate).reason).toContain('approved by maria');
    const snap = await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read();
    expect(snap.pendingApprovals[0]).toMatchObject({ status: 'approved', decided_by: 'maria' });
    expect(snap.state.policy.weights.CREATE_SECRET).toBeGreaterThan(1);
    expect(auditLines(kit.gh).map((a) => a.event)).toEqual(['decision.suggest', 'approval.approve', 'action.CREATE_SECRET']);
  });

  test('by a read-only user: refused, nothing done, a reply says why', async () => {
    const kit = await makeKit();
    const { id, pr } = await suggested(kit);
    kit.gh.setPermissionLevel(REPO, 'rita', 'read');
    const out = await answer(kit, id, 'rita', 'approve', pr!.number);
    expect(out).toMatchObject({ status: 'refused', reason: 'actor may not approve' });
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    expect((await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read()).pendingApprovals[0]?.status).toBe('pending');
    expect(kit.gh.pullRequests(REPO)[0]!.comments.at(-1)?.body).toContain('@rita cannot approve');
  });

  test('approvers in autonomy.yml replace the permission check', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': `${SUGGEST_YML}approvers: [Lead]\n` });
    const { id } = await suggested(kit);
    kit.gh.setPermissionLevel(REPO, 'admin-al', 'admin');
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': `${SUGGEST_YML}approvers: [Lead]\n` });
    expect((await answer(kit, id, 'admin-al')).status).toBe('refused');
    expect((await answer(kit, id, 'lead')).status).toBe('executed');
  });

  test('reject: recorded with policy feedback, nothing done', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    kit.gh.setPermissionLevel(REPO, 'maria', 'maintain');
    const out = await answer(kit, id, 'maria', 'reject');
    expect(out.status).toBe('rejected');
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    const snap = await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read();
    expect(snap.pendingApprovals[0]).toMatchObject({ status: 'rejected', decided_by: 'maria' });
    expect(snap.state.policy.weights.CREATE_SECRET).toBeLessThan(1);
    expect(snap.certificateCount).toBe(0);
  });

  test('expired: refused and marked expired', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    kit.clock.advance(72 * 60 + 1);
    const out = await answer(kit, id, 'acme');
    expect(out).toMatchObject({ status: 'refused', reason: 'expired' });
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
    expect((await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read()).pendingApprovals[0]?.status).toBe('expired');
  });

  test('approving twice: the second is refused and nothing runs twice', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    expect((await answer(kit, id, 'acme')).status).toBe('executed');
    const second = await answer(kit, id, 'acme');
    expect(second).toMatchObject({ status: 'refused', reason: 'nothing pending under that id' });
    expect(writesOf(kit.gh, ['setSecret'])).toHaveLength(1);
  });

  test('two concurrent approvals: only one executes', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    const results = await Promise.all([answer(kit, id, 'acme'), answer(kit, id, 'acme')]);
    expect(results.map((r) => r.status).sort()).toEqual(['executed', 'refused']);
    expect(writesOf(kit.gh, ['setSecret'])).toHaveLength(1);
  });

  test('unknown id: refused', async () => {
    const kit = await makeKit();
    await suggested(kit);
    expect((await answer(kit, 'nope-1', 'acme')).status).toBe('refused');
  });

  test('a halted Governor does not execute an approval; it stays pending', async () => {
    const kit = await makeKit();
    const { id } = await suggested(kit);
    await setHalted(kit.ctx, FULL, true, 'freeze', 'acme');
    const out = await answer(kit, id, 'acme');
    expect(out.status).toBe('refused');
    expect(out.reason).toContain('halted');
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
    expect((await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read()).pendingApprovals[0]?.status).toBe('pending');
  });
});
