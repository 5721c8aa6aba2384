/**
 * The engine registry: one engine per action, keyed by action. A flow plans a step with the core's
 * `planFor` and hands the plan to `runEngine`; nothing else dispatches on the action.
 */
import type { PlanOf, StepPlan } from '../core/governor/index.js';
import type { ActionKind, Decision, Incident, RepoRef } from '../core/schemas/index.js';
import type { EngineReport, GitHubPort, WorkflowRun } from '../ports/index.js';
import { executeCreateSecret } from './create-secret.js';
import { executeEscalate } from './escalate.js';
import { executeRegenerateConfig } from './regenerate-config.js';
import { executeRerun } from './rerun.js';
import { executeRollback } from './rollback.js';

/** What engines get besides their plan: the port, the repository and the flow's own capabilities. */
export interface EngineDeps {
  github: GitHubPort;
  repo: RepoRef;
  /** What `from_env` sources may read (already narrowed to the operator's allowlist). */
  env: Record<string, string | undefined>;
  randomBytes(length: number): Uint8Array;
  /** Key of the value fingerprints (derived from the signing key). */
  fingerprintKey(): Promise<string>;
  /** The intent record just before a secret is written (see src/pipeline/resume.ts). */
  beforeWrite(fingerprint: string): Promise<void>;
  /** SYNC_AND_CERTIFY is the env sync flow for one variable; the flow injects it. */
  syncVariable(name: string, environment: string | undefined): Promise<EngineReport>;
  incident: Incident;
  decision: Decision;
  /** What was tried before this step, one line each (an escalation tells it). */
  tried: string[];
  run: WorkflowRun | null;
  /** The run as it is now, when a replay re-read it. */
  latest: WorkflowRun | null;
}

/** An engine's report, with what an escalation adds for the ledger and the result. */
export type StepReport = EngineReport & { postmortem?: string; postmortemPath?: string; issue?: { html_url: string } };

export type Engine<A extends ActionKind> = (plan: PlanOf<A>, deps: EngineDeps) => Promise<StepReport>;

export const ENGINES: { readonly [A in ActionKind]: Engine<A> } = {
  CREATE_SECRET: async (plan, d) =>
    executeCreateSecret(d.github, {
      repo: d.repo,
      scope: plan.scope,
      name: plan.name,
      source: plan.source,
      env: d.env,
      randomBytes: d.randomBytes,
      fingerprintKey: await d.fingerprintKey(),
      beforeWrite: d.beforeWrite,
    }),
  SYNC_AND_CERTIFY: (plan, d) => d.syncVariable(plan.name, plan.environment),
  REGENERATE_CONFIG: async (plan, d) =>
    executeRegenerateConfig(d.github, {
      repo: d.repo,
      path: plan.path,
      template: plan.template,
      variables: plan.variables,
      baseBranch: await d.github.getDefaultBranch(d.repo),
      ...(plan.schema ? { schema: plan.schema } : {}),
    }),
  RERUN: (plan, d) => executeRerun(d.github, { repo: d.repo, runId: plan.runId, attempt: plan.attempt, maxAttempts: plan.maxAttempts, current: d.latest ?? d.run ?? undefined }),
  ROLLBACK: (plan, d) => executeRollback(d.github, { repo: d.repo, workflowId: plan.workflowId, branch: plan.branch, failedRunId: plan.failedRunId }),
  ESCALATE: (plan, d) => executeEscalate(d.github, { repo: d.repo, incident: d.incident, decision: d.decision, tried: d.tried, instruction: plan.instruction, runUrl: d.run?.html_url }),
  NOOP: async (plan) => ({ action: plan.action, ok: true, changes: [], notes: ['nothing to do'] }),
};

/** Runs the engine of a plan's action. */
export function runEngine(plan: StepPlan, deps: EngineDeps): Promise<StepReport> {
  const engine = ENGINES[plan.action] as Engine<ActionKind>;
  return engine(plan as never, deps);
}
