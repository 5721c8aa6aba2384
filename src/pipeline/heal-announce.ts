/**
 * How a heal is told to humans: the check run on the run's commit (which also anchors the ledger
 * checkpoint), one comment per pull request, an issue when there is no pull request to answer on,
 * and the report of an unreadable `.github/autonomy.yml`. Best effort: the ledger is already written.
 */
import type { Certificate, Decision, GovernorState, HealJob, Incident, RepoConfig, RepoRef, SchemaError, SignedCheckpoint } from '../core/schemas/index.js';
import type { IssueRef, WorkflowRun } from '../ports/index.js';
import { closeHealedEscalations } from '../engines/escalation-close.js';
import { COMMENT_MARKER, CONFIG_ISSUE_MARKER, renderCheckpoint, renderConfigErrorComment, renderHealComment } from './announce.js';
import type { EngineReport, HealResult, HealStatus, PipelineContext } from './context.js';
import { safeMessage } from './safe-message.js';
import { CHECK_RUN_NAME } from './verify.js';

export async function announce(
  ctx: PipelineContext,
  repo: RepoRef,
  repository: string,
  run: WorkflowRun | null,
  incident: Incident,
  decision: Decision,
  reports: EngineReport[],
  certificate: Certificate | null,
  config: RepoConfig,
  status: HealStatus,
  approvalId: string | null,
  ledgerPath: string | null = null,
  checkpoint: SignedCheckpoint | null = null,
): Promise<string | null> {
  const body = renderHealComment({
    status,
    repository,
    runId: run?.id ?? null,
    runUrl: run?.html_url,
    incident,
    decision,
    reports,
    certificate,
    signerKeyId: ctx.signer.keyid,
    ledgerBranch: config.ledger.branch,
    ledgerPath,
    publicApiBase: ctx.publicApiBase,
    approvalId,
    checkpoint,
  });
  let url: string | null = null;
  if (!run) return approvalId ? suggestionIssue(ctx, repo, approvalId, incident, body) : null;
  try {
    // The check run first: it is the anchor of the ledger checkpoint (only this App can change it).
    await ctx.github.createCheckRun(repo, {
      name: CHECK_RUN_NAME,
      head_sha: run.head_sha,
      conclusion: status === 'healed' ? 'success' : status === 'suggested' ? 'action_required' : status === 'escalated' || status === 'failed' ? 'failure' : 'neutral',
      title: `${status}: ${decision.steps.join(' → ') || decision.action}`,
      summary: body,
    });
    // workflow_run.pull_requests is empty for fork PRs: ask by head SHA instead.
    const prs = run.pull_requests.length ? run.pull_requests : await ctx.github.pullRequestsForCommit(repo, run.head_sha);
    for (const pr of prs) {
      // One comment per pull request, updated in place by every later heal of that PR.
      const c = await ctx.github.ensureComment(repo, pr, COMMENT_MARKER, body);
      url ??= c.html_url;
    }
  } catch (err) {
    // Announcing is best effort: the certificate is already committed.
    ctx.log.warn({ err: safeMessage(err) }, 'could not announce the heal');
  }
  // A suggestion nobody sees cannot be approved: without a pull request, it gets an issue to answer on.
  if (approvalId && url === null) url = await suggestionIssue(ctx, repo, approvalId, incident, body);
  return url;
}

/** A check run on the run's commit whose only job is to anchor a ledger checkpoint (outcome commits). */
export async function anchorCheckpoint(ctx: PipelineContext, repo: RepoRef, run: WorkflowRun, checkpoint: SignedCheckpoint, title: string): Promise<void> {
  try {
    await ctx.github.createCheckRun(repo, { name: CHECK_RUN_NAME, head_sha: run.head_sha, conclusion: 'neutral', title: `${title} · ledger checkpoint #${checkpoint.checkpoint.sequence}`, summary: renderCheckpoint(checkpoint) });
  } catch (err) {
    ctx.log.warn({ err: safeMessage(err) }, 'could not anchor the ledger checkpoint in a check run');
  }
}

/**
 * A run that succeeded heals what was escalated on an earlier run of its workflow and branch: those
 * issues close themselves with a comment (src/engines/escalation-close.ts). Asks GitHub only when
 * this repository's ledger has escalated something; best effort, like every announcement.
 */
export async function closeHealed(ctx: PipelineContext, repo: RepoRef, run: WorkflowRun, state: GovernorState): Promise<IssueRef[]> {
  if (run.conclusion !== 'success') return [];
  if (Object.keys(state.escalations).length === 0 && !state.actions.some((a) => a.action === 'ESCALATE')) return [];
  try {
    const closed = await closeHealedEscalations(ctx.github, repo, run);
    if (closed.length > 0) ctx.log.info({ run: run.id, issues: closed.map((i) => i.number) }, 'closed the escalation issues this successful run heals');
    return closed;
  } catch (err) {
    ctx.log.warn({ err: safeMessage(err) }, 'could not close the healed escalation issues');
    return [];
  }
}

async function suggestionIssue(ctx: PipelineContext, repo: RepoRef, approvalId: string, incident: Incident, body: string): Promise<string | null> {
  const marker = `<!-- living-bridge:suggestion:${approvalId} -->`;
  const title = `Living Bridge suggests an action: ${incident.kind}${incident.target ? ` on ${incident.target.name}` : ''}`;
  try {
    return (await ctx.github.ensureIssue(repo, { marker, title, body, labels: ['living-bridge'] })).html_url;
  } catch (err) {
    ctx.log.warn({ err: safeMessage(err) }, 'could not open the suggestion issue');
    return null;
  }
}

/**
 * `.github/autonomy.yml` does not parse or validate. Living Bridge will not guess a configuration (the
 * autonomy level, the ledger branch and the declared sources all live there), so it acts on nothing
 * and tells humans where they will look: the run's check run, the PR comment and one issue (found again
 * by its marker, updated in place). Nothing is written to the ledger, whose branch the file names.
 */
export async function configInvalid(ctx: PipelineContext, job: HealJob, repo: RepoRef, err: SchemaError): Promise<HealResult> {
  const request = job.request;
  const repository = request.repository;
  const summary = `cannot heal: ${err.source} is invalid (${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}) — fix the file on the default branch`;
  const result: HealResult = { status: 'failed', repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary };
  ctx.log.warn({ ...repositoryField(ctx, repository), file: err.source, issues: err.issues }, 'repository config is invalid; nothing is done');
  if (request.dry_run) return finish(ctx, result);
  let run: WorkflowRun | null = null;
  if (request.run_id !== undefined) run = await ctx.github.getRun(repo, request.run_id).catch(() => null);
  if (run && run.conclusion !== 'failure') return finish(ctx, { ...result, summary: `${summary} (run ${run.id} concluded ${run.conclusion ?? run.status}: nothing to report)` });
  const body = renderConfigErrorComment({ file: err.source, issues: err.issues, repository, runId: run?.id ?? null, runUrl: run?.html_url });
  try {
    result.issueUrl = (await ctx.github.ensureIssue(repo, { marker: CONFIG_ISSUE_MARKER, title: `Living Bridge cannot read ${err.source}`, body, labels: ['living-bridge', 'needs-human'] })).html_url;
  } catch (e) {
    ctx.log.warn({ err: safeMessage(e) }, 'could not open the config issue');
  }
  if (run) {
    try {
      const prs = run.pull_requests.length ? run.pull_requests : await ctx.github.pullRequestsForCommit(repo, run.head_sha);
      for (const pr of prs) result.commentUrl ??= (await ctx.github.ensureComment(repo, pr, COMMENT_MARKER, body)).html_url;
      await ctx.github.createCheckRun(repo, { name: CHECK_RUN_NAME, head_sha: run.head_sha, conclusion: 'failure', title: `invalid ${err.source}`, summary: body });
    } catch (e) {
      ctx.log.warn({ err: safeMessage(e) }, 'could not announce the config error');
    }
  }
  return finish(ctx, result);
}


/** `repository` for a log line, unless the logger already binds it (a key twice makes JSON ambiguous). */
const repositoryField = (ctx: PipelineContext, repository: string): { repository?: string } =>
  typeof ctx.log.bindings === 'function' && 'repository' in ctx.log.bindings() ? {} : { repository };

export function finish(ctx: PipelineContext, result: HealResult): HealResult {
  ctx.log.info({ ...repositoryField(ctx, result.repository), status: result.status, action: result.decision?.action, certificate: result.certificate?.certificate_hash }, result.summary);
  return result;
}
