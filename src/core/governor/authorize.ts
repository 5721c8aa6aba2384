/**
 * Whether a decision may execute: `authorize(proposal, grants, level, now)`. Pure. The Governor's
 * verdict stands unless a signed grant lifts it:
 * - a suggestion becomes an execution when grants cover every step the level would not execute by
 *   itself (at `balanced`, CREATE_SECRET → RERUN needs a grant for CREATE_SECRET only);
 * - a decision stopped by the ledger's kill switch yields only to a break-glass grant covering every
 *   step of what would be decided were it not halted (`propose` computes that decision). The
 *   operator's AUTONOMY_ENABLED=false and the repository's `enabled: false` never yield.
 * And first of all, a decision never proposes a step whose precondition is unmet (preconditions.ts):
 * it becomes an escalation (guardrail `precondition`) whose instruction says what would make the
 * step possible. Such an escalation opens the target's circuit and counts toward its fail streak.
 */
import type { AutonomyLevel } from '../schemas/common.js';
import type { Decision } from '../schemas/decision.js';
import type { Grant } from '../schemas/grant.js';
import type { Incident } from '../schemas/incident.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import { authorize as authorizeStep } from '../grants/authorize.js';
import { BALANCED_EXECUTES } from './constants.js';
import { decide, type DecideInput } from './decide.js';
import { firstUnmet, type PreconditionFacts, type Unmet } from './preconditions.js';

/** What the Governor proposes: its decision, and what it would decide were the ledger not halted. */
export interface Proposal {
  decision: Decision;
  /** Only when the decision is the ledger's kill switch and nothing else stops autonomy. */
  unhalted: Decision | null;
}

/** The grants that may lift a decision, and what they are checked against. */
export interface GrantSet {
  /** The ledger's grants file, parsed; null when there is none (or it is unreadable). */
  grants: readonly Grant[] | null;
  /** keyid -> public key of the keys allowed to sign grants (the operator's, never the ledger's). */
  trustedKeys: Record<string, string>;
  revokedIds: readonly string[];
  uses: Record<string, number>;
  repository: string;
  /** The one environment the steps act in, when exactly one is resolved. */
  environment: string | undefined;
  /** The ledger's kill switch. */
  halted: boolean;
  haltedReason: string | null;
}

export interface Authorized {
  decision: Decision;
  /** The grant that lifted it (counted as a use when the act is recorded), or null. */
  grantId: string | null;
}

/** The Governor's decision, and (halted by the ledger only) the one it would make unhalted. */
export function propose(input: DecideInput): Proposal {
  const decision = decide(input);
  const haltedByLedger = decision.guardrail === 'halted' && input.state.halted && input.autonomyEnabled !== false && input.config.enabled;
  const unhalted = haltedByLedger ? decide({ ...input, state: { ...input.state, halted: false }, autonomyEnabled: true }) : null;
  return { decision, unhalted };
}

type GrantVerdict = { allowed: true; reason: string; grantId: string | null } | { allowed: false; reason: string };

function grantsAllow(decision: Decision, grants: GrantSet, level: AutonomyLevel, now: Date, everyStep: boolean): GrantVerdict {
  if (!grants.grants) return { allowed: false, reason: 'no grants in the ledger' };
  const liftedByLevel = decision.suggested_because === 'level' && level === 'balanced';
  const needsGrant = (step: Decision['action']): boolean =>
    step !== 'NOOP' && (everyStep || !(liftedByLevel && step !== decision.action && BALANCED_EXECUTES.has(step)));
  let grantId: string | null = null;
  for (const step of decision.steps.filter(needsGrant)) {
    const verdict = authorizeStep({
      grants: grants.grants,
      trustedKeys: grants.trustedKeys,
      revokedIds: grants.revokedIds,
      uses: grants.uses,
      repository: grants.repository,
      environment: grants.environment,
      action: step,
      target: decision.target?.name,
      now,
      halted: grants.halted,
    });
    if (!verdict.allowed) return { allowed: false, reason: verdict.reason };
    grantId ??= verdict.grant?.id ?? null;
  }
  return { allowed: true, reason: `pre-authorized by grant ${grantId}`, grantId };
}

/** The escalation that replaces a decision one of whose steps cannot succeed. */
export function escalationFor(decision: Decision, unmet: Unmet): Decision {
  const key = [...decision.cooldown_key.split('|').slice(0, -1), 'ESCALATE'].join('|');
  const instead = decision.verdict === 'suggest' ? 'suggesting' : 'doing';
  return {
    ...decision,
    verdict: 'execute',
    action: 'ESCALATE',
    steps: ['ESCALATE'],
    guardrail: 'precondition',
    reason: `precondition unmet: ${unmet.step} cannot succeed (${unmet.reason}); escalating to a human instead of ${instead} ${decision.steps.join(' → ')}`,
    cooldown_key: key,
    suggested_because: null,
    probe: false,
    proposed_steps: decision.steps,
    unmet,
  };
}

/** Whether a decision would act or ask, and so must have every precondition met. */
const proposesSteps = (d: Decision): boolean => d.verdict !== 'noop' && d.steps.some((s) => s !== 'ESCALATE' && s !== 'NOOP');

/** Whether grants could change what `authorize` returns (a flow reads the grants file only then). */
export function grantsMatter(proposal: Proposal, check?: PreconditionCheck): boolean {
  const { decision, unhalted } = proposal;
  const unmet = check && proposesSteps(decision) ? firstUnmet(decision.steps, check.incident, check.config, check.facts) : null;
  if (unmet) return false;
  return (decision.verdict === 'suggest' && decision.steps.length > 0) || (unhalted !== null && unhalted.verdict !== 'noop' && unhalted.steps.length > 0);
}

/** What preconditions are checked against: the incident, the repository's config, the facts of the run. */
export interface PreconditionCheck {
  incident: Incident;
  config: RepoConfig;
  facts: PreconditionFacts;
}

export function authorize(proposal: Proposal, grants: GrantSet, level: AutonomyLevel, now: Date, check?: PreconditionCheck): Authorized {
  const unmetOf = (d: Decision): Unmet | null => (check && proposesSteps(d) ? firstUnmet(d.steps, check.incident, check.config, check.facts) : null);
  let decision = proposal.decision;
  const unmet = unmetOf(decision);
  if (unmet) return { decision: escalationFor(decision, unmet), grantId: null };
  let grantId: string | null = null;
  if (decision.verdict === 'suggest' && decision.steps.length > 0) {
    const grant = grantsAllow(decision, grants, level, now, false);
    if (grant.allowed) {
      decision = { ...decision, verdict: 'execute', reason: `${decision.reason}; ${grant.reason}` };
      grantId = grant.grantId;
    }
  }
  const unhalted = proposal.unhalted;
  // Halted, a step that cannot succeed is not worth breaking the glass for: the halt stands.
  if (unhalted && unhalted.verdict !== 'noop' && unhalted.steps.length > 0 && !unmetOf(unhalted)) {
    const grant = grantsAllow(unhalted, grants, level, now, true);
    if (grant.allowed) {
      decision = { ...unhalted, verdict: 'execute', reason: `halted (${grants.haltedReason ?? 'kill switch'}), overridden: ${grant.reason}; ${unhalted.reason}` };
      grantId = grant.grantId;
    }
  }
  return { decision, grantId };
}
