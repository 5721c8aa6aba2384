/**
 * A replayed heal job (an earlier try started it; src/pipeline/resume.ts): it re-reads the run
 * (latest attempt). With a recorded decision it resumes that decision; without one nothing was done
 * yet, and a run that moved on to a later attempt meanwhile is not healed again (that attempt has
 * its own event). null: start over normally.
 */
import { actingEnvironment } from '../../core/governor/environment.js';
import type { HealResult } from '../context.js';
import { finish } from '../heal-announce.js';
import { executeDecision } from './execute.js';
import type { Loaded } from './state.js';

export async function resumeReplay(s: Loaded): Promise<HealResult | null> {
  const { ctx, repo, journal } = s;
  const request = s.job.request;
  const attempt = request.run_attempt ?? 1;
  const latest = await ctx.github.getRun(repo, request.run_id!);
  const decided = journal.decided();
  ctx.log.info({ intent: journal.key, latestAttempt: latest.run_attempt, conclusion: latest.conclusion, decided: decided !== null }, 'replayed heal job: resuming from its intent records');
  if (decided) {
    const run = latest.run_attempt === attempt ? latest : await ctx.github.getRun(repo, latest.id, attempt);
    return executeDecision(ctx, {
      repo, repository: s.repository, config: s.config, envFile: s.envFile, incident: decided.incident, incidents: decided.incidents,
      decision: decided.decision, run, latest, environment: actingEnvironment(decided.incident.environment) ?? request.environment, grantId: decided.grantId, journal,
    });
  }
  if (latest.run_attempt > attempt) {
    return finish(ctx, { status: 'noop', repository: s.repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `run ${latest.id} moved on to attempt ${latest.run_attempt} (${latest.conclusion ?? latest.status}) before this job acted: nothing to resume` });
  }
  return null;
}
