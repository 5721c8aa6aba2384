/**
 * Which engine plan a decided step becomes: `planFor(step, incident, config, facts)`. Pure: the
 * facts (the run, the acting environment, `.github/environment.json`, what the operator allows
 * `from_env` to read) are arguments. A step that cannot be planned says why, in words a human can
 * act on; the heal flow escalates with it.
 */
import type { ActionKind } from '../schemas/common.js';
import type { EnvironmentFile } from '../schemas/environment-file.js';
import type { Incident } from '../schemas/incident.js';
import { REPO_CONFIG_PATH, type RepoConfig } from '../schemas/repo-config.js';
import type { SecretSource } from '../schemas/sources.js';

/** Where a secret is written (structurally the ports' `Scope`). */
export type PlanScope = { type: 'repository' } | { type: 'environment'; name: string };

/** What the core knows of the run a step acts on. */
export interface RunFacts {
  id: number;
  run_attempt: number;
  workflow_id: number;
  head_branch: string | null;
}

export interface PlanFacts {
  /** The one environment a step acts in (environment-scoped secrets), when exactly one is resolved. */
  environment: string | undefined;
  envFile: EnvironmentFile | null;
  run: RunFacts | null;
  /** Why a `from_env` source may not read `name` (the operator's allowlist), or null when it may. */
  fromEnvRefusal(name: string): string | null;
}

export type StepPlan =
  | { action: 'CREATE_SECRET'; name: string; scope: PlanScope; source: SecretSource }
  | { action: 'SYNC_AND_CERTIFY'; name: string; environment: string | undefined }
  | { action: 'REGENERATE_CONFIG'; path: string; template: string; schema?: string; variables: Record<string, string> }
  | { action: 'RERUN'; runId: number; attempt: number; maxAttempts: number }
  | { action: 'ROLLBACK'; workflowId: number; branch: string; failedRunId: number }
  | { action: 'ESCALATE'; instruction: string }
  | { action: 'NOOP' };

export type PlanOf<A extends ActionKind> = Extract<StepPlan, { action: A }>;

export type Planned = { ok: true; plan: StepPlan } | { ok: false; error: string };

const REPOSITORY: PlanScope = { type: 'repository' };

/** The declared source for a secret, environment-scoped declarations first. */
export function secretSourceFor(
  name: string,
  environment: string | undefined,
  config: RepoConfig,
  envFile: EnvironmentFile | null,
): { source: SecretSource; scope: PlanScope } | null {
  if (environment && envFile?.environments[environment]?.secrets[name]) {
    return { source: envFile.environments[environment]!.secrets[name]!, scope: { type: 'environment', name: environment } };
  }
  if (envFile?.repository.secrets[name]) return { source: envFile.repository.secrets[name]!, scope: REPOSITORY };
  if (config.secrets[name]) return { source: config.secrets[name]!, scope: environment ? { type: 'environment', name: environment } : REPOSITORY };
  return null;
}

/** The YAML to declare where a secret comes from, for `.github/autonomy.yml` (`secrets:` block). */
export function missingSourceInstruction(name: string): string {
  return [
    'secrets:',
    `  ${name}:`,
    '    source: generate   # or: source: from_env + env: NAME, or source: external',
  ].join('\n');
}

/** Sentence + snippet for comments and issues when a secret has no declared source. */
export function missingSourceMessage(name: string): string {
  return `${name} has no declared source, so Living Bridge will not invent a value for it. Declare one in ${REPO_CONFIG_PATH}:\n\n\`\`\`yaml\n${missingSourceInstruction(name)}\n\`\`\``;
}

/** Why an escalation happens instead of a step: a precondition (with its own instruction) or a step that failed. */
export interface EscalationCause {
  step: ActionKind;
  reason: string;
  instruction?: string;
}

/**
 * What a human should do about an incident Living Bridge escalates (the instruction). It
 * says what happened: the unmet precondition's instruction, or which step failed and why.
 */
export function escalationInstruction(
  incident: Incident,
  config: RepoConfig,
  facts: Pick<PlanFacts, 'environment' | 'envFile' | 'fromEnvRefusal'>,
  cause?: EscalationCause,
): string {
  if (cause?.instruction) return cause.instruction;
  const byKind = kindInstruction(incident, config, facts);
  return cause ? `${cause.step} could not be done: ${cause.reason}. ${byKind}` : byKind;
}

function kindInstruction(incident: Incident, config: RepoConfig, facts: Pick<PlanFacts, 'environment' | 'envFile' | 'fromEnvRefusal'>): string {
  const name = incident.target?.name ?? 'the failing item';
  switch (incident.kind) {
    case 'credential.invalid':
      return `${name} exists but GitHub/the service rejected it (401/403). Rotate the credential at its issuer and update the secret by hand; Living Bridge never overwrites a credential it cannot verify.`;
    case 'secret.missing': {
      if (incident.run?.from_fork) return 'This run comes from a fork or Dependabot, which GitHub gives no secrets by design. Review the change and run the deploy from a branch of this repository.';
      const declared = secretSourceFor(name, facts.environment, config, facts.envFile);
      if (!declared) return missingSourceMessage(name);
      if (declared.source.source === 'external') return `${name} is declared \`source: external\`: Living Bridge never writes it. Set ${name} by hand and re-run the workflow.`;
      if (declared.source.source === 'from_env') {
        const refused = facts.fromEnvRefusal(declared.source.env);
        if (refused) return `${name} is declared \`from_env: ${declared.source.env}\`, which the operator has not allowed: ${refused}. Or set ${name} by hand, then re-run the workflow.`;
        return `${name} is declared \`from_env: ${declared.source.env}\`: set ${declared.source.env} in the Living Bridge environment (App host or Action step), or set ${name} by hand, then re-run the workflow.`;
      }
      return `Set ${name} and re-run the workflow.`;
    }
    case 'code.failure':
      return 'The failure is in the code or its tests. Fix the change or revert it; Living Bridge does not change code.';
    default:
      return `Investigate the evidence above (${incident.kind}), fix the cause, then re-run the workflow.`;
  }
}

/** The declared variables of the repository scope as plain strings (a config template's inputs). */
function templateVariables(envFile: EnvironmentFile | null): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(envFile?.repository.variables ?? {})) {
    if (typeof v === 'string') variables[k] = v;
    else if ('value' in v) variables[k] = v.value;
  }
  return variables;
}

/** The engine plan of one step, or why the step cannot be planned. `cause`: why an ESCALATE escalates. */
export function planFor(step: ActionKind, incident: Incident, config: RepoConfig, facts: PlanFacts, cause?: EscalationCause): Planned {
  const run = facts.run;
  switch (step) {
    case 'CREATE_SECRET': {
      const name = incident.target?.name;
      if (!name || incident.target?.type !== 'secret') return { ok: false, error: 'the incident names no secret to create' };
      const declared = secretSourceFor(name, facts.environment, config, facts.envFile);
      if (!declared) return { ok: false, error: `no source is declared for ${name} (in .github/autonomy.yml or .github/environment.json)` };
      const refused = declared.source.source === 'from_env' ? facts.fromEnvRefusal(declared.source.env) : null;
      if (refused) return { ok: false, error: refused };
      return { ok: true, plan: { action: step, name, scope: declared.scope, source: declared.source } };
    }
    case 'SYNC_AND_CERTIFY': {
      const name = incident.target?.name;
      if (!name) return { ok: false, error: 'the incident names no variable to sync' };
      return { ok: true, plan: { action: step, name, environment: facts.environment } };
    }
    case 'REGENERATE_CONFIG': {
      const path = incident.target?.name;
      const declared = path ? config.configs[path] : undefined;
      if (!path || !declared) return { ok: false, error: `no template is declared for ${path ?? 'this config'} under configs: in .github/autonomy.yml` };
      return { ok: true, plan: { action: step, path, template: declared.template, variables: templateVariables(facts.envFile), ...(declared.schema ? { schema: declared.schema } : {}) } };
    }
    case 'RERUN':
      if (!run) return { ok: false, error: 'no workflow run to re-run' };
      return { ok: true, plan: { action: step, runId: run.id, attempt: run.run_attempt, maxAttempts: config.limits.max_rerun_attempts } };
    case 'ROLLBACK':
      if (!run || !run.head_branch) return { ok: false, error: 'no run/branch to roll back' };
      return { ok: true, plan: { action: step, workflowId: run.workflow_id, branch: run.head_branch, failedRunId: run.id } };
    case 'ESCALATE':
      return { ok: true, plan: { action: step, instruction: escalationInstruction(incident, config, facts, cause) } };
    case 'NOOP':
      return { ok: true, plan: { action: step } };
  }
}
