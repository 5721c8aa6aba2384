import type { ActionKind } from '../schemas/common.js';
import type { Incident, IncidentKind } from '../schemas/incident.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import { DEFAULT_BETA_PRIOR } from './constants.js';

type Steps = readonly ActionKind[];

/**
 * The menu of step-lists per incident kind, in preference order (ties in score go to the earlier one).
 * ESCALATE is listed where it is a real alternative; every other kind falls back to it when
 * nothing on its menu is allowed.
 */
const MENU: Readonly<Record<IncidentKind, readonly Steps[]>> = {
  'secret.missing': [['CREATE_SECRET', 'RERUN']],
  'variable.missing': [['SYNC_AND_CERTIFY', 'RERUN']],
  // No RERUN after it: a re-run reuses the failed commit; the config loop dispatches the deploy on the merge.
  'config.invalid': [['REGENERATE_CONFIG']],
  'transient.network': [['RERUN']],
  'timeout.cancelled': [['RERUN']],
  // Re-running into the same wall rarely helps: a lower prior, and escalation as a real alternative.
  'resource.exhausted': [['RERUN'], ['ESCALATE']],
  // Only re-run when the evidence looks transient (registry timeouts, 5xx); otherwise escalate.
  'dependency.resolution': [['RERUN'], ['ESCALATE']],
  // A rotated or revoked credential is a human's job: never overwrite a secret we cannot verify.
  'credential.invalid': [['ESCALATE']],
  // ESCALATE first; ROLLBACK only wins once it has earned a strictly higher score (outcomes, approvals).
  'code.failure': [['ESCALATE'], ['ROLLBACK']],
  unknown: [['ESCALATE']],
};

/** Ordered candidate step-lists for an incident kind (fresh arrays; callers may keep them). */
export function candidatesFor(kind: IncidentKind): ActionKind[][] {
  return MENU[kind].map((s) => [...s]);
}

/** Beta priors per "incident_kind|action" that differ from Beta(2,2). */
const BETA_PRIORS: Readonly<Record<string, { alpha: number; beta: number }>> = {
  'resource.exhausted|RERUN': { alpha: 1, beta: 3 }, // 0.25: first re-runs go to a human
  'dependency.resolution|RERUN': { alpha: 2, beta: 3 }, // 0.40
  'code.failure|ROLLBACK': { alpha: 1, beta: 3 }, // 0.25
};

export function betaPriorFor(kind: IncidentKind, action: ActionKind): { alpha: number; beta: number } {
  return BETA_PRIORS[`${kind}|${action}`] ?? DEFAULT_BETA_PRIOR;
}

const TRANSIENT_RE =
  /ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|ENOTFOUND|socket hang up|network|timed? ?out|temporar(il)?y unavailable|rate limit|\b(429|502|503|504)\b/i;

/** Whether a dependency failure's evidence reads like the registry or the network, not the manifest. */
export function looksTransient(incident: Pick<Incident, 'summary' | 'evidence'>): boolean {
  if (TRANSIENT_RE.test(incident.summary)) return true;
  for (const e of incident.evidence) if (TRANSIENT_RE.test(e.text)) return true;
  return false;
}

const DEPENDABOT_RE = /^dependabot(-preview)?\[bot\]$/i;

/** Runs from forks and Dependabot get no secrets by design; creating one is never the fix. */
export function secretlessRun(incident: Pick<Incident, 'run'>): string | null {
  const run = incident.run;
  if (!run) return null;
  if (run.from_fork) return 'the run comes from a fork, and forks get no secrets by design';
  if (run.actor !== undefined && DEPENDABOT_RE.test(run.actor)) {
    return `the run was triggered by ${run.actor}, and Dependabot runs get no secrets by design`;
  }
  return null;
}

export interface IncidentCandidates {
  lists: ActionKind[][];
  /** Why menu entries were dropped (or replaced by ESCALATE), for the decision's reason. */
  notes: string[];
}

/**
 * The menu for this incident after the hard rules: no CREATE_SECRET for forks or Dependabot
 * (and never for anything but secret.missing), no RERUN when the run used up its re-run attempts,
 * no RERUN for a dependency failure that does not look transient. Empty → ESCALATE.
 */
export function candidatesForIncident(incident: Incident, config: RepoConfig): IncidentCandidates {
  const notes: string[] = [];
  let lists = candidatesFor(incident.kind);
  if (incident.kind !== 'secret.missing') lists = lists.filter((l) => !l.includes('CREATE_SECRET'));
  const noSecrets = secretlessRun(incident);
  if (noSecrets && lists.some((l) => l.includes('CREATE_SECRET'))) {
    lists = lists.filter((l) => !l.includes('CREATE_SECRET'));
    notes.push(`no CREATE_SECRET: ${noSecrets}`);
  }
  if (lists.some((l) => l.includes('CREATE_SECRET')) && incident.target?.type !== 'secret') {
    // "Some secret is missing" without its name: there is nothing to create, only to ask about.
    lists = lists.filter((l) => !l.includes('CREATE_SECRET'));
    notes.push('no CREATE_SECRET: the evidence does not name the missing secret');
  }
  if (incident.kind === 'dependency.resolution' && !looksTransient(incident)) {
    lists = lists.filter((l) => !l.includes('RERUN'));
    notes.push('no RERUN: the dependency failure does not look transient');
  }
  const attempt = incident.run?.attempt ?? 1;
  // Attempt n has been re-run n − 1 times; re-running it once more makes n re-runs.
  if (attempt > config.limits.max_rerun_attempts && lists.some((l) => l.includes('RERUN'))) {
    lists = lists.filter((l) => !l.includes('RERUN'));
    notes.push(
      `no RERUN: run attempt ${attempt} already used max_rerun_attempts ${config.limits.max_rerun_attempts}`,
    );
  }
  if (lists.length === 0) lists = [['ESCALATE']];
  return { lists, notes };
}
