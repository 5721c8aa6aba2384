/**
 * Acting on an execute decision (a heal's, a replay's, or a human's approval of a suggestion):
 * act → certify and record → the config loop for a proposed config → announce.
 */
import type { Certificate, Decision, EnvironmentFile, Incident, RepoConfig, RepoRef } from '../../core/schemas/index.js';
import type { WorkflowRun } from '../../ports/index.js';
import { followProposal } from '../config-loop.js';
import type { HealResult, HealStatus, PipelineContext } from '../context.js';
import { announce, finish } from '../heal-announce.js';
import { intentLedgerPath, StepJournal } from '../resume.js';
import { act, type Acted, type ActInput } from './act.js';
import { certifyAndRecord, type Certified } from './certify.js';

export interface ExecuteInput {
  repo: RepoRef;
  repository: string;
  config: RepoConfig;
  envFile: EnvironmentFile | null;
  incident: Incident;
  incidents: Incident[];
  decision: Decision;
  run: WorkflowRun | null;
  latest?: WorkflowRun | null;
  environment: string | undefined;
  approvedBy?: string;
  grantId?: string | null;
  journal?: StepJournal;
}

/** Crashed after the ledger commit: the act is certified already (its intent is in that commit); certifying it again would be a duplicate. */
async function alreadyCertified(ctx: PipelineContext, a: ExecuteInput, journal: StepJournal): Promise<HealResult | null> {
  if (!journal.replayed || !journal.key) return null;
  const recorded = await ctx.ledgerFor(a.repo, a.config.ledger.branch).readFile(intentLedgerPath(journal.key));
  if (!recorded) return null;
  const { certificate_hash: hash, status } = JSON.parse(recorded) as { certificate_hash: string; status: HealStatus };
  return finish(ctx, { status, repository: a.repository, incidents: a.incidents, decision: a.decision, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `${status}: already done and certified by the first try (certificate ${hash.slice(0, 16)}); nothing repeated` });
}

/** Stage 8 of a heal: announce (check run, PR comment, issue) and the result. */
async function announceHeal(ctx: PipelineContext, a: ActInput & ExecuteInput, acted: Acted, done: Certified): Promise<HealResult> {
  const { repo, repository, config, decision, run } = a;
  const { reports, tried, escalated } = acted;
  // A REGENERATE_CONFIG proposal goes on through the config loop: checks, merge, deploy, rollback.
  const loop = done.certified ? await followProposal(ctx, { repo, repository, config, decision, run, reports, certificateHash: done.certificate.certificate_hash }) : null;
  const status: HealStatus = escalated ? 'escalated' : !done.certified ? 'failed' : !loop || loop.status === 'deployed' ? 'healed' : loop.status === 'left_for_human' ? 'suggested' : 'failed';
  // The checkpoint to anchor: the config loop may have added certificates after the action's own.
  const checkpoint = loop ? (await ctx.ledgerFor(repo, config.ledger.branch).read()).checkpoint : done.snapshot.checkpoint;
  const commentUrl = await announce(ctx, repo, repository, run, a.incident, decision, reports, done.certificate, config, status, null, done.ledgerPath, checkpoint);
  const issueUrl = reports.find((r) => r.issue)?.issue?.html_url ?? null;
  const cert: Certificate = done.certificate;
  return finish(ctx, {
    status,
    repository,
    incidents: a.incidents,
    decision,
    reports: reports.map(({ postmortem: _p, postmortemPath: _pp, ...r }) => r),
    certificate: cert,
    commentUrl,
    issueUrl,
    summary: `${status}: ${tried.join('; ')} — certificate ${cert.certificate_hash.slice(0, 16)}${loop ? ` — ${loop.summary}` : ''}`,
    ...(loop ? { configLoop: loop } : {}),
  });
}

/** Acts on an execute decision (also used when a human approves a suggestion). */
export async function executeDecision(ctx: PipelineContext, a: ExecuteInput): Promise<HealResult> {
  const journal = a.journal ?? StepJournal.none(ctx.now);
  const resumed = await alreadyCertified(ctx, a, journal);
  if (resumed) return resumed;
  const input: ActInput & ExecuteInput = { ...a, ctx, latest: a.latest ?? null, journal };
  const acted = await act(input);
  const done = await certifyAndRecord(input, acted);
  return announceHeal(ctx, input, acted, done);
}
