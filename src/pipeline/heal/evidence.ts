/**
 * Stage 2 of a heal: gather evidence — the failed run (a replay resumes instead), what its failed
 * jobs' logs show, and the deployment environment(s) it ran in. A run that is not a deploy, was
 * dispatched by the config loop, or did not fail ends the heal here (a green run is judged as the
 * outcome of what was done before it).
 */
import { environmentLabel, levelForResolution } from '../../core/governor/environment.js';
import { noteSuccess } from '../../core/governor/index.js';
import type { Incident } from '../../core/schemas/index.js';
import type { WorkflowRun } from '../../ports/index.js';
import { rememberSuccess, successMemory } from '../classifier-memory.js';
import { dispatchedByLoop } from '../config-loop.js';
import type { HealResult } from '../context.js';
import { resolveEnvironment, resolutionNote } from '../environment.js';
import { gatherEvidence } from '../evidence.js';
import { closeHealed, finish } from '../heal-announce.js';
import { JOB_STEP } from '../resume.js';
import { learnFromRun } from './learn.js';
import { resumeReplay } from './replay.js';
import type { Evidenced, Finished, Loaded } from './state.js';

const nothing = (repository: string, summary: string): Omit<HealResult, 'status'> => ({
  repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary,
});

/** The incident a door reported without a run (the incident API, the CLI's --kind). */
function reportedIncident(s: Loaded): Incident[] {
  const given = s.request.incident!;
  return [
    {
      kind: given.kind,
      target: given.target,
      confidence: given.confidence,
      fingerprint: `${given.kind}:${given.target?.name ?? '-'}`,
      summary: given.summary ?? `${given.kind} reported through ${s.job.door}`,
      evidence: given.evidence,
      repo: s.repo,
      environment: s.request.environment,
    },
  ];
}

/** A run that did not fail: judged as the outcome of the action before it, nothing healed. */
async function finishedRun(s: Loaded, run: WorkflowRun): Promise<Finished> {
  const { ctx, request, repository } = s;
  const before = request.dry_run ? null : await s.ledger.read();
  // What the classifier learns from a passing re-run travels in the outcome's commit (staged), or in its own when there is none.
  const success = before && run.conclusion === 'success' ? successMemory(ctx, run, before) : null;
  const staging = success !== null && s.ledger.stage !== undefined && s.ledger.flush !== undefined;
  if (staging) s.ledger.stage!(success.message, success.mutate);
  const learnedRun = before ? await learnFromRun(s, run, null, before) : null;
  if (staging) await s.ledger.flush!().catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, 'could not record the passing re-run'));
  else if (success) await rememberSuccess(ctx, s.ledger, run, before!);
  if (learnedRun) await closeHealed(ctx, s.repo, run, learnedRun.snapshot.state);
  // A run that succeeds lifts the outage holds its repository took part in.
  if (run.conclusion === 'success' && !request.dry_run) ctx.outages?.update((w) => noteSuccess(w, repository));
  // A green re-run is the outcome of what we did: the result names the outcome certificate it committed.
  const learned = learnedRun?.outcome ?? null;
  const summary = learned
    ? `run ${run.id} attempt ${run.run_attempt} concluded ${run.conclusion}: recorded as the outcome of ${learned.action.action} (outcome certificate ${learned.certificate.certificate_hash})`
    : `run ${run.id} concluded ${run.conclusion ?? run.status}: nothing to heal`;
  return { finished: finish(ctx, { ...nothing(repository, summary), status: 'noop', certificate: learned?.certificate ?? null }) };
}

export async function collectEvidence(s: Loaded): Promise<Evidenced | Finished> {
  const { ctx, job, request, repository, repo, config, journal } = s;
  let run: WorkflowRun | null = null;
  let incidents: Incident[];
  let failedJobNames: string[] = [];
  let failedJobs: number | null = null;
  if (request.run_id !== undefined) {
    if (journal.replayed) {
      // A replay re-reads the run: the payload's picture (and the first try's) may be stale.
      const resumed = await resumeReplay(s);
      if (resumed) return { finished: resumed };
    }
    await journal.begin(JOB_STEP);
    // The webhook door hands over the run from the payload; other doors read it.
    run = job.workflow_run && job.workflow_run.id === request.run_id ? job.workflow_run : await ctx.github.getRun(repo, request.run_id);
    if (job.door === 'webhook' && !config.deploy_workflows.includes(run.name)) {
      return { finished: finish(ctx, { ...nothing(repository, `workflow "${run.name}" is not a deploy workflow (deploy_workflows in .github/autonomy.yml)`), status: 'noop' }) };
    }
    const dispatched = await dispatchedByLoop(ctx, repo, config, run);
    if (dispatched) {
      return { finished: finish(ctx, { ...nothing(repository, `run ${run.id} was dispatched by the config loop (promotion ${dispatched.id}), which judges it`), status: 'noop' }) };
    }
    if (run.conclusion !== 'failure') return finishedRun(s, run);
    incidents = await gatherEvidence(ctx.github, repo, run, request.environment, (jobs) => {
      failedJobNames = jobs.map((j) => j.name);
      failedJobs = jobs.length;
    });
  } else {
    incidents = reportedIncident(s);
  }
  // The run's deployment environment(s), as GitHub defines them; unresolved means the strictest level.
  const resolution = await resolveEnvironment(ctx, repo, run, request.environment, failedJobNames);
  return {
    ...s,
    run,
    failedJobs,
    incidents,
    resolution,
    environmentName: environmentLabel(resolution) ?? undefined,
    environment: resolution.names.length === 1 ? resolution.names[0] : undefined,
    level: levelForResolution(config, resolution),
    environmentResolution: resolutionNote(resolution),
  };
}
