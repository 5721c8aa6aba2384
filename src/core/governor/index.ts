/**
 * The Governor: decides what Living Bridge does about an incident, and learns from what happened.
 * Pure: every function takes `now`/`at` as an argument and returns new data. See docs/governor.md.
 */
export { decide, type DecideInput } from './decide.js';
export {
  recordAction,
  recordOutcome,
  recordHumanFeedback,
  judgeConclusion,
  type ActionInfo,
  type OutcomeInfo,
  type OutcomeResult,
  type HumanFeedback,
} from './record.js';
export {
  candidatesFor,
  candidatesForIncident,
  betaPriorFor,
  looksTransient,
  secretlessRun,
  type IncidentCandidates,
} from './candidates.js';
export { predictSuccess, predictionDetail, emaOf, weightOf, cooldownMs, cooldownInfo, type CooldownInfo, type PredictionDetail } from './scoring.js';
export { targetKey, cooldownKey, levelFor } from './keys.js';
export { adjustWeight } from './policy.js';
export { authorize, escalationFor, grantsMatter, propose, type Authorized, type GrantSet, type PreconditionCheck, type Proposal } from './authorize.js';
export { firstUnmet, unmetPrecondition, rerunRefusal, GITHUB_MAX_RUN_ATTEMPTS, type PreconditionFacts, type Unmet } from './preconditions.js';
export {
  planFor,
  secretSourceFor,
  escalationInstruction,
  type EscalationCause,
  missingSourceInstruction,
  missingSourceMessage,
  type PlanFacts,
  type PlanOf,
  type PlanScope,
  type Planned,
  type RunFacts,
  type StepPlan,
} from './plan.js';
export {
  emptyOutageWatch,
  noteSuccess,
  noteTransientFailure,
  outageHoldOf,
  transientSignature,
  OUTAGE_HOLD_MAX_MS,
  OUTAGE_MIN_REPOSITORIES,
  OUTAGE_WINDOW_MS,
  type OutageHold,
  type OutageWatch,
} from './outage.js';
export * from './constants.js';
