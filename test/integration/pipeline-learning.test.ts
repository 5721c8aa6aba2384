/**
 * After an action, the re-run's conclusion is its outcome: outcome certificates chained to the
 * action's, EMA and fail streaks in the ledger's Governor state, a chain that verifies; and the PR
 * comment that tells the story, one per pull request.
 */
import { describe, expect, test } from '@jest/globals';
import { heal } from '../../src/pipeline/heal.js';
import { verifyLedger } from '../../src/pipeline/verify.js';
import { AUTONOMY, FULL, LOGS, REPO, failedRun, jobFor, makeKit, predicateOf, type Kit } from './pipeline-kit.js';

const ledgerOf = (kit: Kit) => kit.ctx.ledgerFor(REPO, 'bridge-ledger');

async function transientHealed(kit: Kit) {
  kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
  const run = failedRun(kit.gh, LOGS.transient);
  const first = await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id }));
  expect(first.status).toBe('healed');
  return { run, first };
}

describe('outcome learning', () => {
  test('a successful next attempt yields an outcome certificate chained to the action and raises the EMA', async () => {
    const kit = await makeKit();
    const { run, first } = await transientHealed(kit);
    const before = (await ledgerOf(kit).read()).state.ema.RERUN ?? 0.5;
    kit.clock.advance(3);
    kit.gh.completeRun(REPO, run.id, 'success');
    const second = await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: 2 }));
    expect(second.status).toBe('noop');
    const certs = await ledgerOf(kit).readCertificates();
    expect(certs).toHaveLength(2);
    const outcome = predicateOf(certs[1]);
    expect(outcome).toMatchObject({
      certificate_type: 'outcome',
      outcome: 'success',
      run_id: run.id,
      run_attempt: 2,
      judges_certificate_hash: first.certificate!.certificate_hash,
      previous_certificate_hash: first.certificate!.certificate_hash,
    });
    const state = (await ledgerOf(kit).read()).state;
    expect(state.ema.RERUN).toBeCloseTo(before * 0.9 + 0.1, 10);
    expect(state.actions.at(-1)?.outcome).toBe('success');
    // The same conclusion delivered again is not learned twice.
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: 2 }));
    expect(await ledgerOf(kit).readCertificates()).toHaveLength(2);
  });

  test('a failed next attempt counts in the fail streak, lowers the EMA, and the Governor decides again', async () => {
    const kit = await makeKit();
    const { run } = await transientHealed(kit);
    kit.clock.advance(3);
    kit.gh.completeRun(REPO, run.id, 'failure');
    kit.gh.addJob(REPO, run.id, { name: 'deploy', log: LOGS.transient });
    const again = await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: 2 }));
    const state = (await ledgerOf(kit).read()).state;
    expect(Object.values(state.fail_streaks)).toEqual([1]);
    expect(state.ema.RERUN).toBeCloseTo(0.45, 10);
    expect(again.status).toBe('healed');
    const types = (await ledgerOf(kit).readCertificates()).map((c) => [predicateOf(c).certificate_type, predicateOf(c).outcome]);
    expect(types).toEqual([['action', null], ['outcome', 'failure'], ['action', null]]);
  });

  test('three failed outcomes in a row on one target escalate instead of re-running again', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': `${AUTONOMY()}limits:\n  max_rerun_attempts: 10\n` });
    const run = failedRun(kit.gh, LOGS.transient);
    const decisions: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const r = await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: attempt }));
      decisions.push(r.decision?.action ?? 'none');
      if (r.decision?.action === 'ESCALATE') break;
      kit.clock.advance(3);
      kit.gh.completeRun(REPO, run.id, 'failure');
      kit.gh.addJob(REPO, run.id, { name: 'deploy', log: LOGS.transient });
    }
    expect(decisions).toEqual(['RERUN', 'RERUN', 'RERUN', 'ESCALATE']);
    expect(kit.gh.issues(REPO)).toHaveLength(1);
  });

  test('the certificate chain verifies after a sequence of heals, outcomes and escalations', async () => {
    const kit = await makeKit();
    const { run } = await transientHealed(kit);
    kit.clock.advance(3);
    kit.gh.completeRun(REPO, run.id, 'success');
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: 2 }));
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.credential).id }));
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.missingSecret()).id }));
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.codeFailure).id }));
    const verified = await verifyLedger(kit.ctx, FULL, { keys: { [kit.ctx.signer.keyid]: kit.ctx.signer.publicKey }, sources: ['test'] });
    expect(verified).toMatchObject({ ok: true, length: 5, brokenAt: null });
    const certs = await ledgerOf(kit).readCertificates();
    expect(verified.head).toBe(certs.at(-1)?.certificate_hash);
  });

  test('a tampered certificate breaks the chain', async () => {
    const kit = await makeKit();
    await transientHealed(kit);
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.credential).id }));
    const path = Object.keys(kit.gh.filesAt(REPO, 'bridge-ledger')).find((p) => p.startsWith('.bridge/certificates/000001'))!;
    const cert = JSON.parse(kit.gh.filesAt(REPO, 'bridge-ledger')[path]!) as { envelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(cert.envelope.payload, 'base64').toString('utf8')) as { predicate: { reason: string } };
    statement.predicate.reason = 'nothing to see here';
    cert.envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    kit.gh.seedFiles(REPO, { [path]: JSON.stringify(cert) }, { branch: 'bridge-ledger' });
    const verified = await verifyLedger(kit.ctx, FULL, { keys: { [kit.ctx.signer.keyid]: kit.ctx.signer.publicKey }, sources: ['test'] });
    expect(verified.ok).toBe(false);
    expect(verified.brokenAt).toBe(0);
  });
});

describe('the PR comment', () => {
  test('is found by head SHA when pull_requests is empty, and a second heal updates the same comment', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const sha = 'c'.repeat(40);
    const pr = kit.gh.addPullRequest(REPO, { head: 'fork:feature', headSha: sha });
    const first = await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.transient, { head_sha: sha, pull_requests: [] }).id }));
    expect(first.commentUrl).toContain(`/pull/${pr.number}#issuecomment-`);
    kit.clock.advance(5);
    const second = await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.credential, { head_sha: sha, pull_requests: [] }).id }));
    const comments = kit.gh.pullRequests(REPO)[0]!.comments;
    expect(comments).toHaveLength(1);
    expect(second.commentUrl).toBe(first.commentUrl);
    expect(comments[0]!.body).toContain('Escalated');
    expect(comments[0]!.body).not.toContain(first.certificate!.certificate_hash);
    expect(comments[0]!.body).toContain(second.certificate!.certificate_hash);
    expect(comments[0]!.body).toContain(`signed by key \`${kit.signer.keyid}\``);
    expect(kit.gh.checkRuns(REPO).map((c) => c.conclusion)).toEqual(['success', 'failure']);
  });

  test('pull_requests of the run are used directly when present', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const pr = kit.gh.addPullRequest(REPO, { head: 'feature', headSha: 'd'.repeat(40) });
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.transient, { pull_requests: [pr.number] }).id }));
    expect(kit.gh.callsTo('pullRequestsForCommit')).toEqual([]);
    expect(kit.gh.pullRequests(REPO)[0]!.comments).toHaveLength(1);
  });
});
