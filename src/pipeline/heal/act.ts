/**
 * Stage 6 of a heal: act. Each step of the decision is planned by the core (`planFor`) and run by
 * its engine (the registry in src/engines/registry.ts), with its intent recorded before and its
 * report after (a replay reuses or reconciles them). A step that cannot be taken becomes an
 * escalation with the reason.
 */
import { planFor, secretSourceFor, type EscalationCause, type PlanFacts } from '../../core/governor/index.js';
import type { Decision, EnvironmentFile, Incident, RepoConfig, RepoRef } from '../../core/schemas/index.js';
import { runEngine, type StepReport } from '../../engines/registry.js';
import { isTransientError } from '../../engines/report.js';
import type { WorkflowRun } from '../../ports/index.js';
import type { PipelineContext } from '../context.js';
import { fingerprintKeyOf } from '../fingerprint-key.js';
import { reconcileStep, recordable, type StepJournal } from '../resume.js';
import { safeMessage } from '../safe-message.js';
import { syncForIncident } from '../sync.js';

export type { StepReport };

/** What acting on a decision needs: the decision, where it acts, and the job's journal. */
export interface ActInput {
  ctx: PipelineContext;
  repo: RepoRef;
  repository: string;
  config: RepoConfig;
  envFile: EnvironmentFile | null;
  incident: Incident;
  decision: Decision;
  run: WorkflowRun | null;
  /** The run as it is now, when a replay re-read it (its latest attempt may be past `run`'s). */
  latest: WorkflowRun | null;
  environment: string | undefined;
  journal: StepJournal;
}

export interface Acted {
  reports: StepReport[];
  /** One line per step: what was tried and how it went. */
  tried: string[];
  escalated: boolean;
}

export const planFacts = (a: Pick<ActInput, 'ctx' | 'run' | 'environment' | 'envFile'>): PlanFacts => ({
  environment: a.environment,
  envFile: a.envFile,
  run: a.run,
  fromEnvRefusal: (name) => a.ctx.fromEnvRefusal(name),
});

/** Plans one step and runs its engine; a step that cannot be planned reports why. */
async function runStep(step: Decision['action'], a: ActInput, stepId: string, tried: string[], cause?: EscalationCause): Promise<StepReport> {
  const planned = planFor(step, a.incident, a.config, planFacts(a), cause ?? a.decision.unmet);
  if (!planned.ok) return { action: step, ok: false, changes: [], notes: [], error: planned.error };
  const { ctx } = a;
  return runEngine(planned.plan, {
    github: ctx.github,
    repo: a.repo,
    env: ctx.env,
    randomBytes: ctx.randomBytes,
    fingerprintKey: () => fingerprintKeyOf(ctx.signer),
    beforeWrite: (fingerprint) => a.journal.begin(stepId, { fingerprint }),
    syncVariable: (name, environment) => syncForIncident(ctx, a.repository, environment, name),
    incident: a.incident,
    decision: a.decision,
    tried,
    run: a.run,
    latest: a.latest,
  });
}

/** A step an earlier try finished or began, as GitHub shows it now; null when it must be done (again). */
async function resumedStep(step: Decision['action'], stepId: string, a: ActInput): Promise<StepReport | null> {
  const done = a.journal.doneReport(stepId);
  if (done) return done as StepReport;
  const begun = a.journal.begun(stepId);
  if (!begun) return null;
  const name = a.incident.target?.type === 'secret' ? a.incident.target.name : null;
  const declared = name ? secretSourceFor(name, a.environment, a.config, a.envFile) : null;
  return (await reconcileStep(step, begun, {
    github: a.ctx.github,
    repo: a.repo,
    latest: a.latest,
    attempt: a.run?.run_attempt ?? null,
    secret: name && declared ? { scope: declared.scope, name } : null,
  })) as StepReport | null;
}

export async function act(a: ActInput): Promise<Acted> {
  const { decision, journal } = a;
  const reports: StepReport[] = [];
  const tried: string[] = [];
  let escalated = decision.action === 'ESCALATE';
  for (const [index, step] of decision.steps.entries()) {
    const stepId = `${step}#${index}`;
    let report: StepReport;
    try {
      report = (await resumedStep(step, stepId, a)) ?? (await (async () => {
        await journal.begin(stepId);
        return runStep(step, a, stepId, tried);
      })());
    } catch (err) {
      report = { action: step, ok: false, changes: [], notes: [], error: safeMessage(err), missingPermission: (err as { permission?: string }).permission, ...(isTransientError(err) ? { transient: true } : {}) };
    }
    if (!report.ok && report.transient && journal.key && step !== 'ESCALATE') {
      // A job of the App's intake: a step that failed on GitHub's side (5xx, timeout, rate limit past
      // the client's retries) is not a question for a human. The job fails this try and its intake
      // tries it again with backoff; the replay resumes at this step (its intent stays open, so what
      // the step did is read back), and a job that keeps failing is dead-lettered, visibly.
      throw new Error(`${step} failed on a transient GitHub error, the job is tried again: ${report.error ?? 'unknown error'}`);
    }
    await journal.done(stepId, recordable(report));
    reports.push(report);
    tried.push(`${step}: ${report.ok ? 'done' : `failed (${report.error ?? 'unknown error'})`}`);
    if (!report.ok) {
      if (step !== 'ESCALATE') {
        // An action that could not be taken becomes a question for a human, with the reason.
        escalated = true;
        try {
          reports.push(await runStep('ESCALATE', a, '', tried, { step, reason: report.error ?? 'unknown error' }));
        } catch (err) {
          reports.push({ action: 'ESCALATE', ok: false, changes: [], notes: [], error: safeMessage(err) });
        }
      }
      break;
    }
  }
  return { reports, tried, escalated };
}
