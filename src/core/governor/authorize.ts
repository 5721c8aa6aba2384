/**
 * Whether a decision may execute: `authorize(proposal, grants, level, now)`. Pure. The Governor's
 * verdict stands unless a signed grant lifts it:
 * - a suggestion becomes an execution when grants cover every step the level would not execute by
 *   itself (at `balanced`, CREATE_SECRET → RERUN needs a grant for CREATE_SECRET only);
 * - a decision stopped by the ledger's kill switch yields only to a break-glass grant covering every
 *   step of what would be decided were it not halted (`propose` computes that decision). The
 *   operator's AUTONOMY_ENABLED=false and the repository's `enabled: false` never yield.
 */
import type { AutonomyLevel } from '../schemas/common.js';
import type { Decision } from '../schemas/decision.js';
import type { Grant } from '../schemas/grant.js';
import { authorize as authorizeStep } from '../grants/authorize.js';
import { BALANCED_EXECUTES } from './constants.js';
import { decide, type DecideInput } from './decide.js';

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

export function authorize(proposal: Proposal, grants: GrantSet, level: AutonomyLevel, now: Date): Authorized {
  let decision = proposal.decision;
  let grantId: string | null = null;
  if (decision.verdict === 'suggest' && decision.steps.length > 0) {
    const grant = grantsAllow(decision, grants, level, now, false);
    if (grant.allowed) {
      decision = { ...decision, verdict: 'execute', reason: `${decision.reason}; ${grant.reason}` };
      grantId = grant.grantId;
    }
  }
  const unhalted = proposal.unhalted;
  if (unhalted && unhalted.verdict !== 'noop' && unhalted.steps.length > 0) {
    const grant = grantsAllow(unhalted, grants, level, now, true);
    if (grant.allowed) {
      decision = { ...unhalted, verdict: 'execute', reason: `halted (${grants.haltedReason ?? 'kill switch'}), overridden: ${grant.reason}; ${unhalted.reason}` };
      grantId = grant.grantId;
    }
  }
  return { decision, grantId };
}
