/**
 * Issue #10, items 2, 3 and 9 (governor parts), through heal() on the fake GitHub:
 * - a refusal (an unmet precondition, or an engine refusing or failing when it acts) counts toward
 *   the target's fail streak and opens the circuit like ESCALATE: the next failure of the same
 *   target is not re-run, commented on or checked again;
 * - the escalation's text says what happened (never a `/bridge approve` when nothing is pending);
 * - the core never proposes a step that cannot succeed (no declared source, no environment.json,
 *   a run at max_rerun_attempts, more failed jobs than max_failed_jobs_for_rerun).
 */
import { describe, expect, test } from '@jest/globals';
import { targetKey } from '../../src/core/governor/index.js';
import { heal } from '../../src/pipeline/heal.js';
import { storeGrant } from '../../src/pipeline/control.js';
import { memoryOutageStore } from '../../src/pipeline/outage.js';
import { AUTONOMY, FULL, GITHUB_WRITES, LOGS, REPO, deployWorkflow, failedRun, grantFor, jobFor, makeKit, ts, writesOf, type Kit } from './pipeline-kit.js';

const ledger = (kit: Kit) => kit.ctx.ledgerFor(REPO, 'bridge-ledger').read();
const healRun = (kit: Kit, runId: number) => heal(kit.ctx, jobFor({ repository: FULL, run_id: runId }));
const missingVariable = [ts('Run ./scripts/deploy.sh'), ts('Error: vars.API_URL is not set'), ts('##[error]Process completed with exit code 1.')].join('\n') + '\n';

describe('the core never proposes a step whose precondition is unmet (#10 item 3)', () => {
  test('secret.missing without a declared source escalates with the declaration to add; no suggestion, even with a grant', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': 'version: 1\ndefault_level: balanced\ncooldowns:\n  default_minutes: 0\n' });
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-secret', actions: ['CREATE_SECRET'] }), 'alice');
    const result = await healRun(kit, failedRun(kit.gh, LOGS.missingSecret()).id);
    expect(result.status).toBe('escalated');
    expect(result.decision).toMatchObject({ action: 'ESCALATE', guardrail: 'precondition', proposed_steps: ['CREATE_SECRET', 'RERUN'], unmet: { step: 'CREATE_SECRET', reason: 'no source is declared for DEPLOY_TOKEN' } });
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    const snap = await ledger(kit);
    expect(snap.pendingApprovals).toEqual([]);
    expect(snap.grantUses).toEqual({});
    const [issue] = kit.gh.issues(REPO);
    expect(issue?.body).toContain('Declare a source for DEPLOY_TOKEN in .github/autonomy.yml');
    expect(issue?.body).toContain('secrets:\n  DEPLOY_TOKEN:\n    source: generate');
    expect(issue?.body).not.toContain('/bridge approve');
  });

  test('variable.missing without .github/environment.json escalates instead of planning SYNC_AND_CERTIFY', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const result = await healRun(kit, failedRun(kit.gh, missingVariable).id);
    expect(result.incidents[0]?.kind).toBe('variable.missing');
    expect(result.decision).toMatchObject({ action: 'ESCALATE', guardrail: 'precondition', unmet: { step: 'SYNC_AND_CERTIFY', reason: 'there is no .github/environment.json' } });
    expect(writesOf(kit.gh, ['upsertVariable', 'rerunFailedJobs'])).toEqual([]);
    expect(kit.gh.issues(REPO)[0]?.body).toContain('Declare API_URL with its value in .github/environment.json');
  });

  test('with environment.json declaring the variable, SYNC_AND_CERTIFY is planned and done', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY(), '.github/environment.json': JSON.stringify({ version: 1, repository: { variables: { API_URL: 'https://api.example.com' } } }) });
    const result = await healRun(kit, failedRun(kit.gh, missingVariable).id);
    expect(result.decision?.steps).toEqual(['SYNC_AND_CERTIFY', 'RERUN']);
    expect(result.status).toBe('healed');
  });
});

describe('max_failed_jobs_for_rerun (#10 item 9)', () => {
  const manyFailed = (kit: Kit, jobs: number) => {
    const run = failedRun(kit.gh, LOGS.transient);
    for (let j = 2; j <= jobs; j++) kit.gh.addJob(REPO, run.id, { name: `deploy-${j}`, log: LOGS.transient });
    return run;
  };

  test('a run with more failed jobs than the limit (default 5) is not re-run: escalated, saying why', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const result = await healRun(kit, manyFailed(kit, 6).id);
    expect(result.decision).toMatchObject({ action: 'ESCALATE', guardrail: 'precondition', unmet: { step: 'RERUN' } });
    expect(result.decision?.unmet?.reason).toContain('6 jobs failed, more than limits.max_failed_jobs_for_rerun 5');
    expect(writesOf(kit.gh, ['rerunFailedJobs'])).toEqual([]);
  });

  test('within the limit (raised to 10 in autonomy.yml) the same run is re-run', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY('limits:\n  max_failed_jobs_for_rerun: 10\n') });
    const result = await healRun(kit, manyFailed(kit, 6).id);
    expect(result.decision?.steps).toEqual(['RERUN']);
    expect(writesOf(kit.gh, ['rerunFailedJobs'])).toHaveLength(1);
  });
});

describe('refusals count toward the fail streak and open the circuit (#10 item 2)', () => {
  test('a run at max_rerun_attempts: escalated once; the next failure of the same target gets nothing (no re-run, comment, check or issue)', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const first = await healRun(kit, failedRun(kit.gh, LOGS.transient, { run_attempt: 3 }).id);
    expect(first.status).toBe('escalated');
    expect(first.decision).toMatchObject({ guardrail: 'precondition', unmet: { step: 'RERUN', reason: 'run is at attempt 3 and limits.max_rerun_attempts is 3: not re-running again' } });
    const issueBody = kit.gh.issues(REPO)[0]?.body ?? '';
    expect(issueBody).toContain('re-running it again is not allowed');
    expect(issueBody).not.toContain('/bridge approve');
    const key = targetKey(FULL, first.incidents[0]!);
    let snap = await ledger(kit);
    expect(snap.state.fail_streaks[key]).toBe(1);
    expect(snap.state.escalations[key]).toMatchObject({ probe_used: false });

    kit.clock.advance(5);
    const callsBefore = kit.gh.calls.length;
    const second = await healRun(kit, failedRun(kit.gh, LOGS.transient).id);
    expect(second).toMatchObject({ status: 'noop', decision: { guardrail: 'half_open' } });
    expect(writesOf({ ...kit.gh, calls: kit.gh.calls.slice(callsBefore) } as typeof kit.gh, GITHUB_WRITES)).toEqual([]);
    expect(kit.gh.issues(REPO)).toHaveLength(1);
    snap = await ledger(kit);
    expect(snap.state.actions.filter((a) => a.action === 'RERUN')).toEqual([]);
  });

  test('an engine that fails when it acts (from_env source unset): the step is judged failed now, the streak counts, the circuit opens', async () => {
    const kit = await makeKit({ env: { DEPLOY_TOKEN_SOURCE: undefined } });
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const first = await healRun(kit, failedRun(kit.gh, LOGS.missingSecret()).id);
    expect(first.status).toBe('escalated');
    expect(first.decision?.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    expect(first.reports.map((r) => [r.action, r.ok])).toEqual([['CREATE_SECRET', false], ['ESCALATE', true]]);
    expect(kit.gh.issues(REPO)[0]?.body).toContain('CREATE_SECRET could not be done: set DEPLOY_TOKEN_SOURCE in the Living Bridge environment');
    const key = targetKey(FULL, first.incidents[0]!);
    const snap = await ledger(kit);
    expect(snap.state.fail_streaks[key]).toBe(1);
    expect(snap.state.escalations[key]).toMatchObject({ probe_used: false });
    expect(snap.state.actions.at(-1)).toMatchObject({ action: 'CREATE_SECRET', outcome: 'failure' });

    kit.clock.advance(5);
    const second = await healRun(kit, failedRun(kit.gh, LOGS.missingSecret()).id);
    expect(second).toMatchObject({ status: 'noop', decision: { guardrail: 'half_open' } });
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
  });
});

describe('the outage brake (#10 item 9)', () => {
  const repos = ['acme/one', 'acme/two', 'acme/three'].map((full) => ({ full, ref: { owner: 'acme', repo: full.split('/')[1]! } }));

  function failIn(kit: Kit, ref: { owner: string; repo: string }, conclusion: 'failure' | 'success' = 'failure') {
    const head = kit.gh.seedFiles(ref, { '.github/workflows/deploy.yml': deployWorkflow() }, { message: 'deploy workflow' });
    const run = kit.gh.addRun(ref, { head_sha: head, conclusion });
    if (conclusion === 'failure') kit.gh.addJob(ref, run.id, { name: 'deploy', log: LOGS.transient });
    return run;
  }

  test('three repositories of one installation failing alike within minutes hold re-runs (noop outage) until one succeeds', async () => {
    const kit = await makeKit();
    kit.ctx.outages = memoryOutageStore();
    for (const r of repos) kit.gh.seedFiles(r.ref, { '.github/autonomy.yml': AUTONOMY() });
    const healIn = (r: (typeof repos)[number], conclusion?: 'failure' | 'success') => heal(kit.ctx, jobFor({ repository: r.full, run_id: failIn(kit, r.ref, conclusion).id }));

    expect((await healIn(repos[0]!)).decision?.steps).toEqual(['RERUN']);
    kit.clock.advance(2);
    expect((await healIn(repos[1]!)).decision?.steps).toEqual(['RERUN']);
    kit.clock.advance(2);
    const held = await healIn(repos[2]!);
    expect(held).toMatchObject({ status: 'noop', decision: { guardrail: 'outage', proposed_steps: ['RERUN'] } });
    expect(held.decision?.reason).toContain('3 repositories of this installation failed with signature');
    expect(writesOf(kit.gh, ['rerunFailedJobs'])).toHaveLength(2);
    // Recorded: the noop has its audit line in that repository's ledger.
    const audit = Object.entries(kit.gh.filesAt(repos[2]!.ref, 'bridge-ledger')).filter(([p]) => p.startsWith('.bridge/audit/')).map(([, t]) => t).join('\n');
    expect(audit).toContain('"event":"decision.noop"');
    expect(audit).toContain('outage: 3 repositories');

    // One of them succeeds: the hold is lifted, the next failure is re-run again.
    kit.clock.advance(1);
    expect((await healIn(repos[1]!, 'success')).status).toBe('noop');
    kit.clock.advance(1);
    expect((await healIn(repos[2]!)).decision?.steps).toEqual(['RERUN']);
  });

  test('without an outage store (the CLI, the Action) nothing is ever held', async () => {
    const kit = await makeKit();
    for (const r of repos) kit.gh.seedFiles(r.ref, { '.github/autonomy.yml': AUTONOMY() });
    for (const r of repos) expect((await heal(kit.ctx, jobFor({ repository: r.full, run_id: failIn(kit, r.ref).id }))).decision?.steps).toEqual(['RERUN']);
  });
});
