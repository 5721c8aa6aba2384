/**
 * What must hold for a step to be able to succeed, checked before anything is proposed
 * (`authorize` turns a decision with an unmet precondition into an escalation that says what would
 * make the step possible). Pure: everything it knows comes in as facts — the declared sources,
 * whether `.github/environment.json` exists and declares the variable, fork/Dependabot runs, the
 * run's attempt and how many of its jobs failed.
 */
import type { ActionKind } from '../schemas/common.js';
import type { Incident } from '../schemas/incident.js';
import { ENVIRONMENT_FILE_PATH } from '../schemas/environment-file.js';
import { REPO_CONFIG_PATH, type RepoConfig } from '../schemas/repo-config.js';
import { secretlessRun } from './candidates.js';
import { missingSourceInstruction, planFor, secretSourceFor, type PlanFacts } from './plan.js';

/** GitHub refuses to re-run a workflow run more than this many times in total. */
export const GITHUB_MAX_RUN_ATTEMPTS = 50;

export interface PreconditionFacts extends PlanFacts {
  /** How many jobs of the run failed (null: not known, e.g. an incident reported without a run). */
  failedJobs: number | null;
}

/** A step that cannot succeed: why, and what a human can do to make it possible. */
export interface Unmet {
  step: ActionKind;
  reason: string;
  instruction: string;
}

/** Why a re-run is not allowed at `attempt`, or null when it is (the RERUN engine applies the same rule). */
export function rerunRefusal(attempt: number, maxAttempts: number): string | null {
  if (attempt >= GITHUB_MAX_RUN_ATTEMPTS) {
    return `run is at attempt ${attempt}: GitHub allows at most ${GITHUB_MAX_RUN_ATTEMPTS} attempts of a run`;
  }
  if (attempt >= maxAttempts) {
    return `run is at attempt ${attempt} and limits.max_rerun_attempts is ${maxAttempts}: not re-running again`;
  }
  return null;
}

const declaresVariable = (facts: PlanFacts, name: string): boolean => {
  const file = facts.envFile;
  if (!file) return false;
  const upper = name.toUpperCase();
  const has = (vars: Record<string, unknown>): boolean => Object.keys(vars).some((k) => k.toUpperCase() === upper);
  if (has(file.repository.variables)) return true;
  if (facts.environment) return has(file.environments[facts.environment]?.variables ?? {});
  return Object.values(file.environments).some((e) => has(e.variables));
};

function secretUnmet(incident: Incident, config: RepoConfig, facts: PlanFacts): Unmet | null {
  const step = 'CREATE_SECRET';
  const name = incident.target?.name ?? 'the secret';
  const noSecrets = secretlessRun(incident);
  if (noSecrets) return { step, reason: noSecrets, instruction: 'This run comes from a fork or Dependabot, which GitHub gives no secrets by design. Review the change and run the deploy from a branch of this repository.' };
  const declared = incident.target ? secretSourceFor(name, facts.environment, config, facts.envFile) : null;
  if (incident.target && !declared) return { step, reason: `no source is declared for ${name}`, instruction: `Declare a source for ${name} in ${REPO_CONFIG_PATH}, so Living Bridge can create it (it never invents a value):\n\n\`\`\`yaml\n${missingSourceInstruction(name)}\n\`\`\`\n\nOr declare it under \`secrets\` in ${ENVIRONMENT_FILE_PATH}, or set ${name} by hand; then re-run the workflow.` };
  if (declared?.source.source === 'external') return { step, reason: `${name} is declared \`source: external\``, instruction: `${name} is declared \`source: external\`: Living Bridge never writes it. Set ${name} by hand and re-run the workflow.` };
  return null;
}

/** The first unmet precondition of one step, or null when the step can be attempted. */
export function unmetPrecondition(step: ActionKind, incident: Incident, config: RepoConfig, facts: PreconditionFacts): Unmet | null {
  if (step === 'CREATE_SECRET') {
    const unmet = secretUnmet(incident, config, facts);
    if (unmet) return unmet;
  }
  const planned = planFor(step, incident, config, facts);
  if (!planned.ok) {
    const name = incident.target?.name ?? 'the failing item';
    const declared = step === 'CREATE_SECRET' && incident.target ? secretSourceFor(name, facts.environment, config, facts.envFile) : null;
    const instruction = declared?.source.source === 'from_env'
      ? `${name} is declared \`from_env: ${declared.source.env}\`, which the operator has not allowed: ${planned.error}. Or set ${name} by hand, then re-run the workflow.`
      : `${planned.error}. Declare what is missing, then re-run the workflow.`;
    return { step, reason: planned.error, instruction };
  }
  const plan = planned.plan;
  if (plan.action === 'SYNC_AND_CERTIFY' && !declaresVariable(facts, plan.name)) {
    const where = facts.envFile ? `${ENVIRONMENT_FILE_PATH} does not declare ${plan.name}` : `there is no ${ENVIRONMENT_FILE_PATH}`;
    return {
      step,
      reason: where,
      instruction: `Declare ${plan.name} with its value in ${ENVIRONMENT_FILE_PATH} (under \`repository.variables\`${facts.environment ? ` or \`environments.${facts.environment}.variables\`` : ''}); Living Bridge never invents a variable. Or set it by hand and re-run the workflow.`,
    };
  }
  if (plan.action === 'RERUN') {
    const refused = rerunRefusal(plan.attempt, plan.maxAttempts);
    if (refused) {
      return { step, reason: refused, instruction: `The run failed ${plan.attempt} time(s); re-running it again is not allowed. Investigate the evidence above, fix the cause, then re-run the workflow by hand (or raise limits.max_rerun_attempts in ${REPO_CONFIG_PATH}).` };
    }
    const max = config.limits.max_failed_jobs_for_rerun;
    if (facts.failedJobs !== null && facts.failedJobs > max) {
      return {
        step,
        reason: `${facts.failedJobs} jobs failed, more than limits.max_failed_jobs_for_rerun ${max}: a run in which that many jobs fail at once is rarely transient`,
        instruction: `${facts.failedJobs} jobs of this run failed at once, which is rarely transient: investigate the evidence above and re-run by hand once fixed (or raise limits.max_failed_jobs_for_rerun in ${REPO_CONFIG_PATH}).`,
      };
    }
  }
  return null;
}

/** The first step of `steps` whose precondition is unmet. ESCALATE and NOOP are always possible. */
export function firstUnmet(steps: readonly ActionKind[], incident: Incident, config: RepoConfig, facts: PreconditionFacts): Unmet | null {
  for (const step of steps) {
    if (step === 'ESCALATE' || step === 'NOOP') continue;
    const unmet = unmetPrecondition(step, incident, config, facts);
    if (unmet) return unmet;
  }
  return null;
}
