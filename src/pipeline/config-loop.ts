/**
 * REGENERATE_CONFIG closes the loop (docs/engines.md, "The config loop"): after the proposal's pull
 * request is opened, follow its head's checks; when every rule allows it, merge under the repository's
 * promotion lock, dispatch the deploy workflow on the base branch, and follow that run. A failed deploy
 * is reverted (a revert pull request, merged under the same rules) and redeployed, and the Governor
 * learns a failure. Anything a rule forbids is left for a human, and the pull request says why.
 */
import { chooseMergeMethod, judgeChecks, pollDelay, promotionVerdict, type ChecksVerdict } from '../core/promotion/index.js';
import type { Decision, MergeMethod, PromotionRecord, RepoConfig, RepoRef } from '../core/schemas/index.js';
import type { PromotionPort, WorkflowRun } from '../ports/index.js';
import { executeDispatch, executeMerge, executeRevertProposal } from '../engines/promote.js';
import type { Ledger } from '../ledger/types.js';
import type { EngineReport, HealResult, PipelineContext } from './context.js';
import { announceLoop } from './config-loop-announce.js';
import { PromotionLockHeldError, acquireLock, certifyStep, readPromotions, recordDeployOutcome, releaseLock, renewLock, saveRecord } from './promotion-ledger.js';

export type LoopStatus = 'left_for_human' | 'deployed' | 'deploy_failed' | 'rolled_back' | 'rollback_failed';

export interface ConfigLoopResult {
  status: LoopStatus;
  summary: string;
  notes: string[];
  reports: EngineReport[];
  record: PromotionRecord;
  /** The REGENERATE_CONFIG EMA after the deploy's outcome was learned (when it was). */
  ema?: number;
}

export interface ConfigLoopInput {
  repo: RepoRef;
  repository: string;
  config: RepoConfig;
  decision: Decision;
  failedRun: WorkflowRun | null;
  proposal: { path: string; base: string; beforeBlob: string | null; afterBlob: string };
  pullRequest: { number: number; html_url: string };
  generateCertificate: string | null;
}

interface Loop {
  ctx: PipelineContext;
  port: PromotionPort;
  ledger: Ledger;
  repo: RepoRef;
  repository: string;
  config: RepoConfig;
  holder: string;
  workflow: string | number | null;
  notes: string[];
  reports: EngineReport[];
}

const sleeper = (ctx: PipelineContext) => ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
const minutes = (m: number): number => m * 60_000;

/** Polls the head's checks with backoff (woken early by check webhooks) until they settle or time runs out. */
async function followChecks(l: Loop, sha: string, required: string[]): Promise<ChecksVerdict> {
  const timeout = minutes(l.config.promotion.checks_timeout_minutes);
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const verdict = judgeChecks(await l.port.listHeadChecks(l.repo, sha), required);
    if (verdict.state !== 'pending' || waited >= timeout) return verdict;
    const ms = Math.min(pollDelay(attempt), timeout - waited);
    if (l.ctx.checkSignals) await l.ctx.checkSignals.wait(l.repository, sha, ms);
    else await sleeper(l.ctx)(ms);
    waited += ms;
  }
}

/** Follows a run to completion, keeping the lock alive; null when the deploy timeout passes first. */
async function followRun(l: Loop, run: WorkflowRun): Promise<WorkflowRun | null> {
  const timeout = minutes(l.config.promotion.deploy_timeout_minutes);
  const renewEvery = minutes(l.config.promotion.lock_ttl_minutes) / 3;
  let waited = 0;
  let sinceRenew = 0;
  let current = run;
  for (let attempt = 1; current.status !== 'completed'; attempt++) {
    if (waited >= timeout) return null;
    const ms = Math.min(pollDelay(attempt, 5_000, 60_000), timeout - waited);
    await sleeper(l.ctx)(ms);
    waited += ms;
    sinceRenew += ms;
    if (sinceRenew >= renewEvery) {
      await renewLock(l.ctx, l.ledger, l.holder, l.config.promotion.lock_ttl_minutes);
      sinceRenew = 0;
    }
    current = await l.ctx.github.getRun(l.repo, run.id);
  }
  return current;
}

/** Takes the promotion lock, waiting (with backoff) for another holder up to the checks timeout. */
async function takeLock(l: Loop, pullRequest: number, purpose: string): Promise<string | null> {
  const timeout = minutes(l.config.promotion.checks_timeout_minutes);
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const { tookOverFrom } = await acquireLock(l.ctx, l.ledger, l.repository, l.holder, l.config.promotion.lock_ttl_minutes, pullRequest, purpose);
      if (tookOverFrom) l.notes.push(`Took over the promotion lock of ${tookOverFrom.holder}, which expired at ${tookOverFrom.expires_at} (its worker is presumed dead).`);
      return null;
    } catch (err) {
      if (!(err instanceof PromotionLockHeldError)) throw err;
      if (waited >= timeout) return err.message;
      const ms = Math.min(pollDelay(attempt), timeout - waited);
      await sleeper(l.ctx)(ms);
      waited += ms;
    }
  }
}

interface Attempt {
  record: PromotionRecord;
  pullRequest: number;
  action: 'REGENERATE_CONFIG' | 'ROLLBACK';
  isRollback: boolean;
  predictedSuccess: number | null;
  level: Decision['autonomy_level'];
  title: string;
}
type AttemptOutcome = { merged: false; reasons: string[]; record: PromotionRecord } | { merged: true; record: PromotionRecord; run: WorkflowRun | null; finished: WorkflowRun | null };

/** One promotion: checks → rules → lock → merge → certificate → dispatch → certificate → the run. */
async function promote(l: Loop, a: Attempt): Promise<AttemptOutcome> {
  const { repo, port, ctx } = l;
  let record = a.record;
  const pr = await port.getPullRequest(repo, a.pullRequest);
  if (pr.state !== 'open' || pr.merged) return { merged: false, reasons: [`pull request #${pr.number} is ${pr.merged ? 'already merged' : 'closed'}`], record };
  let rules = null;
  let rulesUnknown = false;
  try {
    rules = await port.getBranchRules(repo, pr.base_ref);
  } catch (err) {
    if ((err as { name?: string }).name !== 'GitHubPermissionError') throw err;
    rulesUnknown = true;
  }
  const checks = await followChecks(l, pr.head_sha, rules?.required_checks ?? []);
  l.notes.push(`Checks on ${pr.head_sha.slice(0, 7)} (${checks.basis === 'required' ? 'required by branch protection' : 'all reported'}): ${checks.state}${checks.passed.length ? `; passed ${checks.passed.join(', ')}` : ''}${checks.failing.length ? `; failing ${checks.failing.join(', ')}` : ''}${checks.pending.length + checks.missing.length ? `; pending ${[...checks.pending, ...checks.missing].join(', ')}` : ''}.`);
  const allowed = await port.getMergeMethods(repo);
  const method = chooseMergeMethod(l.config.promotion.merge_method, allowed);
  const halted = (await l.ledger.read()).state.halted;
  const verdict = promotionVerdict({ level: a.level, predictedSuccess: a.predictedSuccess, minSuccess: l.config.prediction.min_success_probability, checks, rules, rulesUnknown, method, halted, autonomyEnabled: ctx.autonomyEnabled, isRollback: a.isRollback });
  if (!verdict.promote) return { merged: false, reasons: verdict.reasons, record };

  const lockRefusal = await takeLock(l, pr.number, `${a.isRollback ? 'roll back' : 'promote'} ${record.path} (#${pr.number})`);
  if (lockRefusal) return { merged: false, reasons: [lockRefusal], record };
  const fallback: MergeMethod[] = allowed ? [] : ['squash', 'merge', 'rebase'];
  const merge = await executeMerge(port, ctx.github, {
    repo, action: a.action, pullRequest: pr.number, headSha: pr.head_sha, base: pr.base_ref, path: record.path,
    beforeBlob: record.before_blob, afterBlob: record.after_blob, method: verdict.method, fallbackMethods: fallback, title: a.title,
  });
  l.reports.push(merge);
  l.notes.push(...merge.notes);
  if (!merge.ok || !merge.mergeCommit) return { merged: false, reasons: [merge.error ?? 'the merge failed'], record };
  record = { ...record, merge_commit: merge.mergeCommit, status: a.isRollback ? 'rolled_back' : 'promoted' };
  ({ record } = await certifyStep(ctx, l.ledger, l.repository, {
    stage: a.isRollback ? 'rollback' : 'promote', action: a.action, certified: merge.certified, changes: merge.changes, runId: null, targets: [record.path],
    reason: a.isRollback ? `reverted ${record.path} after the deploy of ${record.rollback_of} failed` : `checks passed on #${pr.number}; merged (${merge.method})`,
    details: { merge_commit: merge.mergeCommit, method: merge.method, before_blob: record.before_blob, after_blob: record.after_blob, checks: checks.passed }, report: merge,
  }, record));

  if (l.workflow === null) return { merged: true, record, run: null, finished: null };
  const dispatch = await executeDispatch(port, ctx.github, { repo, action: a.action, workflow: l.workflow, base: pr.base_ref, expectedSha: merge.mergeCommit, sleep: sleeper(ctx) });
  l.reports.push(dispatch);
  l.notes.push(...(dispatch.ok ? dispatch.notes : [`Dispatching the deploy failed: ${dispatch.error}`]));
  if (!dispatch.ok || !dispatch.run) return { merged: true, record, run: null, finished: null };
  record = { ...record, dispatched_runs: [...record.dispatched_runs, dispatch.run.id] };
  ({ record } = await certifyStep(ctx, l.ledger, l.repository, {
    stage: 'dispatch', action: a.action, certified: dispatch.certified, changes: dispatch.changes, runId: dispatch.run.id, targets: [String(l.workflow)],
    reason: `dispatched ${dispatch.run.name} on ${pr.base_ref} at ${merge.mergeCommit.slice(0, 7)}`, details: { merge_commit: merge.mergeCommit, run: dispatch.run.id, rollback: a.isRollback }, report: dispatch,
  }, record));
  const finished = await followRun(l, dispatch.run);
  l.notes.push(finished ? `Run ${finished.id} concluded ${finished.conclusion}: ${finished.html_url}` : `Run ${dispatch.run.id} did not complete within ${l.config.promotion.deploy_timeout_minutes} minutes.`);
  return { merged: true, record, run: dispatch.run, finished };
}

function loopOf(ctx: PipelineContext, repo: RepoRef, repository: string, config: RepoConfig, port: PromotionPort, workflow: string | number | null): Loop {
  const holder = `${ctx.door}-${Buffer.from(ctx.randomBytes(6)).toString('hex')}`;
  return { ctx, port, ledger: ctx.ledgerFor(repo, config.ledger.branch), repo, repository, config, holder, workflow, notes: [], reports: [] };
}

/** Reverts a merged promotion and redeploys; the Governor learns a failure. Never for a rollback (automatically). */
export async function rollBack(l: Loop, record: PromotionRecord, opts: { manual: boolean; level: Decision['autonomy_level'] }): Promise<{ status: LoopStatus; record: PromotionRecord; ema?: number }> {
  if (record.rollback_of && !opts.manual) return { status: 'rollback_failed', record };
  if (!record.merge_commit) {
    l.notes.push(`Promotion ${record.id} was never merged: there is nothing to roll back.`);
    return { status: 'rollback_failed', record };
  }
  const revert = await executeRevertProposal(l.ctx.github, { repo: l.repo, base: record.base, path: record.path, promotedBlob: record.after_blob ?? '', restoreBlob: record.before_blob, promotionMerge: record.merge_commit, promotionPullRequest: record.pull_request });
  l.reports.push(revert);
  l.notes.push(...(revert.ok ? revert.notes : [`Could not propose the revert: ${revert.error}`]));
  let failedRecord: PromotionRecord = { ...record, status: 'deploy_failed' };
  if (!revert.ok || !revert.pullRequest) {
    failedRecord = await saveRecord(l.ctx, l.ledger, l.repository, { ...failedRecord, status: 'rollback_failed' }, 'promotion.rollback_failed', revert.error ?? 'no revert');
    const learned = await recordDeployOutcome(l.ctx, l.ledger, l.repository, l.config, failedRecord, 'failure', 'the deploy failed and could not be reverted');
    return { status: 'rollback_failed', record: failedRecord, ema: learned.ema };
  }
  const rb: PromotionRecord = {
    ...record, id: `rollback:${record.id}`, pull_request: revert.pullRequest.number, before_blob: record.after_blob, after_blob: record.before_blob,
    merge_commit: null, dispatched_runs: [], status: 'left_for_human', certificates: [], rollback_of: record.id, failed_run_id: null, workflow: record.workflow, updated_at: l.ctx.now().toISOString(),
  };
  const out = await promote(l, { record: rb, pullRequest: revert.pullRequest.number, action: 'ROLLBACK', isRollback: true, predictedSuccess: null, level: opts.level, title: `Living Bridge: revert ${record.path}` });
  const learned = await recordDeployOutcome(l.ctx, l.ledger, l.repository, l.config, record, 'failure', opts.manual ? 'rolled back by hand' : `the deploy after #${record.pull_request} failed; reverted in #${revert.pullRequest.number}`);
  if (!out.merged) {
    l.notes.push(`The revert (#${revert.pullRequest.number}) was left for a human: ${out.reasons.join('; ')}.`);
    await saveRecord(l.ctx, l.ledger, l.repository, { ...out.record, status: 'left_for_human' }, 'promotion.left_for_human', out.reasons.join('; '));
    return { status: 'rollback_failed', record: await saveRecord(l.ctx, l.ledger, l.repository, { ...record, status: 'rollback_failed' }, 'promotion.rollback_failed', out.reasons.join('; ')), ema: learned.ema };
  }
  const redeploy = out.finished?.conclusion ?? 'unknown';
  if (redeploy !== 'success') l.notes.push(`The redeploy after the revert concluded ${redeploy}. A rollback is never rolled back automatically: a human has to look at ${record.path}.`);
  await saveRecord(l.ctx, l.ledger, l.repository, out.record, 'promotion.rolled_back', `redeploy ${redeploy}`);
  return { status: 'rolled_back', record: await saveRecord(l.ctx, l.ledger, l.repository, { ...record, status: 'rolled_back' }, 'promotion.reverted', `reverted in #${revert.pullRequest.number}`), ema: learned.ema };
}

export async function runConfigLoop(ctx: PipelineContext, input: ConfigLoopInput): Promise<ConfigLoopResult> {
  const { repo, repository, config, decision, proposal, pullRequest } = input;
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  let record: PromotionRecord = {
    id: `${proposal.path}@${proposal.afterBlob.slice(0, 12)}#${pullRequest.number}`, path: proposal.path, base: proposal.base, pull_request: pullRequest.number,
    before_blob: proposal.beforeBlob, after_blob: proposal.afterBlob, merge_commit: null, dispatched_runs: [], status: 'left_for_human',
    certificates: input.generateCertificate ? [input.generateCertificate] : [], failed_run_id: input.failedRun?.id ?? null, rollback_of: null, workflow: config.promotion.deploy_workflow ?? input.failedRun?.workflow_id ?? null, updated_at: ctx.now().toISOString(),
  };
  const finish = async (status: LoopStatus, l: Loop | null, reasons: string[], ema?: number): Promise<ConfigLoopResult> => {
    const notes = [...(l?.notes ?? []), ...(reasons.length ? [`Left for a human: ${reasons.join('; ')}.`] : [])];
    if (status === 'left_for_human') record = await saveRecord(ctx, ledger, repository, { ...record, status }, 'promotion.left_for_human', reasons.join('; '));
    const summary = status === 'left_for_human' ? `PR #${pullRequest.number} left for a human: ${reasons.join('; ')}` : `config loop ${status.replace('_', ' ')} (PR #${pullRequest.number})`;
    await announceLoop(ctx, repo, { status, pullRequest, record, notes, ema, ledgerBranch: config.ledger.branch });
    return { status, summary, notes, reports: l?.reports ?? [], record, ...(ema !== undefined ? { ema } : {}) };
  };

  const port = ctx.github.promotion;
  if (!config.promotion.enabled) return finish('left_for_human', null, ['promotion.enabled is false in .github/autonomy.yml']);
  if (!port) return finish('left_for_human', null, ['this door\'s GitHub connection cannot merge pull requests']);
  const workflow = record.workflow;
  const l = loopOf(ctx, repo, repository, config, port, workflow);
  if (workflow === null) l.notes.push('No deploy workflow is known (set promotion.deploy_workflow): nothing will be dispatched after the merge.');
  try {
    const predicted = decision.candidates.find((c) => c.action === 'REGENERATE_CONFIG')?.predicted_success ?? null;
    const out = await promote(l, { record, pullRequest: pullRequest.number, action: 'REGENERATE_CONFIG', isRollback: false, predictedSuccess: predicted, level: decision.autonomy_level, title: `Living Bridge: regenerate ${proposal.path}` });
    record = out.record;
    if (!out.merged) return await finish('left_for_human', l, out.reasons);
    if (!out.finished) {
      record = await saveRecord(ctx, ledger, repository, record, 'promotion.promoted', 'merged; deploy not followed to the end');
      return await finish('deploy_failed', l, [out.run ? 'the deploy did not finish in time; a human has to judge it (no automatic rollback without a result)' : 'no deploy run was dispatched or found']);
    }
    if (out.finished.conclusion === 'success') {
      record = await saveRecord(ctx, ledger, repository, { ...record, status: 'deployed' }, 'promotion.deployed', `run ${out.finished.id} success`);
      const learned = await recordDeployOutcome(ctx, ledger, repository, config, record, 'success', `run ${out.finished.id} (dispatched after merging #${pullRequest.number}) concluded success`);
      return await finish('deployed', l, [], learned.ema);
    }
    l.notes.push(`The deploy failed: rolling back the promotion of ${proposal.path}.`);
    const rb = await rollBack(l, record, { manual: false, level: decision.autonomy_level });
    record = rb.record;
    return await finish(rb.status, l, [], rb.ema);
  } finally {
    await releaseLock(ctx, ledger, repository, l.holder).catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, 'could not release the promotion lock (it expires by itself)'));
  }
}

/** `living-bridge rollback <certificate>`: revert the promotion that certificate belongs to, by hand. */
export async function rollBackByHand(ctx: PipelineContext, a: { repo: RepoRef; repository: string; config: RepoConfig; certificate: string }): Promise<{ status: LoopStatus; notes: string[]; ema?: number }> {
  const port = ctx.github.promotion;
  if (!port) return { status: 'rollback_failed', notes: ['this GitHub connection cannot merge pull requests'] };
  const prefix = a.certificate.toLowerCase();
  if (!/^[0-9a-f]{12,64}$/.test(prefix)) return { status: 'rollback_failed', notes: [`"${a.certificate}" is not a certificate hash (12 to 64 hex digits)`] };
  const records = await readPromotions(ctx.ledgerFor(a.repo, a.config.ledger.branch));
  const record = records.find((r) => r.certificates.some((c) => c.startsWith(prefix)));
  if (!record) return { status: 'rollback_failed', notes: [`no promotion in the ledger of ${a.repository} has a certificate ${prefix}`] };
  const l = loopOf(ctx, a.repo, a.repository, a.config, port, record.workflow);
  try {
    // By hand the operator is the authority: the environment's level does not hold the revert back.
    const rb = await rollBack(l, record, { manual: true, level: 'full' });
    return { status: rb.status, notes: l.notes, ...(rb.ema !== undefined ? { ema: rb.ema } : {}) };
  } finally {
    await releaseLock(ctx, l.ledger, a.repository, l.holder).catch(() => undefined);
  }
}

/** After a heal's certificate is committed: run the loop on the REGENERATE_CONFIG proposal it made, if any. */
export async function followProposal(ctx: PipelineContext, a: { repo: RepoRef; repository: string; config: RepoConfig; decision: Decision; run: WorkflowRun | null; reports: EngineReport[]; certificateHash: string | null }): Promise<NonNullable<HealResult['configLoop']> | null> {
  const report = a.reports.find((r) => r.action === 'REGENERATE_CONFIG' && r.ok) as (EngineReport & { proposal?: ConfigLoopInput['proposal']; pullRequest?: ConfigLoopInput['pullRequest'] }) | undefined;
  if (!report?.proposal || !report.pullRequest) return null;
  const out = await runConfigLoop(ctx, { repo: a.repo, repository: a.repository, config: a.config, decision: a.decision, failedRun: a.run, proposal: report.proposal, pullRequest: report.pullRequest, generateCertificate: a.certificateHash });
  return {
    status: out.status, summary: out.summary, pull_request: out.record.pull_request, merge_commit: out.record.merge_commit,
    dispatched_runs: out.record.dispatched_runs, certificates: out.record.certificates, ...(out.ema !== undefined ? { ema: out.ema } : {}),
  };
}

/** Heal leaves the runs the loop dispatched to the loop, which judges them itself. */
export async function dispatchedByLoop(ctx: PipelineContext, repo: RepoRef, config: RepoConfig, run: WorkflowRun): Promise<PromotionRecord | null> {
  if (run.event !== 'workflow_dispatch') return null;
  const records = await readPromotions(ctx.ledgerFor(repo, config.ledger.branch));
  return records.find((r) => r.dispatched_runs.includes(run.id)) ?? null;
}
