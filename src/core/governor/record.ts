import type { ActionKind } from '../schemas/common.js';
import type { Decision } from '../schemas/decision.js';
import type { ActionRecord, GovernorState, Outcome } from '../schemas/governor-state.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import {
  ACTIONS_KEEP,
  ACTIONS_KEEP_WINDOW_MS,
  EMA_ALPHA,
  EMA_HISTORY_MAX,
  RECURRENCE_WINDOW_MS,
  WEIGHT_STEP,
} from './constants.js';
import { targetKey } from './keys.js';
import { adjustWeight } from './policy.js';
import { emaOf, predictionKey } from './scoring.js';
import { toMs } from './time.js';

export interface ActionInfo {
  at: Date;
  runId: number | null;
  runAttempt: number | null;
  certificateHash: string | null;
  /**
   * A step of the decision was refused or failed when it was attempted (an engine's refusal, a
   * failed write): that is the act's outcome already. `escalated`: a human was asked instead.
   */
  refused?: { step: ActionKind; escalated: boolean };
}

export interface OutcomeInfo {
  at: Date;
  runId: number;
  conclusion: Outcome['conclusion'];
  /** Fingerprint of the failure in the new run, if it failed. */
  incidentFingerprintNow?: string | null;
  /** A human's verdict on the judged action, if one came with the outcome (adaptive weights). */
  approvalSignal?: 'approved' | 'rejected';
}

export interface OutcomeResult {
  state: GovernorState;
  /** The action record this outcome judged (with its outcome filled), or null. */
  judged: ActionRecord | null;
  /** Whether the adaptive policy weights changed (and policy.version was bumped). */
  policyChanged: boolean;
}

export interface HumanFeedback {
  action: ActionKind;
  approved: boolean;
  at: Date;
}

/** Actions whose outcome is judged by the next run. ESCALATE hands over to a human; NOOP does nothing. */
const isJudged = (a: ActionKind): boolean => a !== 'ESCALATE' && a !== 'NOOP';

/**
 * How a run's conclusion judges the action before it: success heals, failure/timed_out/cancelled/
 * startup_failure do not, and the rest (neutral, skipped, stale, action_required) say nothing.
 */
export function judgeConclusion(conclusion: Outcome['conclusion']): 'success' | 'failure' | null {
  switch (conclusion) {
    case 'success':
      return 'success';
    case 'failure':
    case 'timed_out':
    case 'cancelled':
    case 'startup_failure':
      return 'failure';
    default:
      return null;
  }
}

/** Keep the last ACTIONS_KEEP records plus every one younger than 24 h (rate limits need them). */
function pruneActions(actions: ActionRecord[], nowMs: number): ActionRecord[] {
  if (actions.length <= ACTIONS_KEEP) return actions;
  const firstKept = actions.length - ACTIONS_KEEP;
  return actions.filter((a, i) => i >= firstKept || nowMs - toMs(a.at) < ACTIONS_KEEP_WINDOW_MS);
}

/**
 * Learn one judged outcome of `rec`: EMA (new = 0.9·old + 0.1·outcome), ema_history, the
 * prediction counts of (incident kind, action), the fail streak of the target and, in adaptive
 * mode, the action's policy weight.
 */
function learn(
  state: GovernorState,
  rec: ActionRecord,
  outcome: 'success' | 'failure',
  atIso: string,
  config: RepoConfig | null,
  why: string,
): { state: GovernorState; policyChanged: boolean } {
  const x = outcome === 'success' ? 1 : 0;
  const ema = (1 - EMA_ALPHA) * emaOf(state, rec.action) + EMA_ALPHA * x;
  const pKey = predictionKey(rec.incident_kind, rec.action);
  const stats = state.predictions[pKey] ?? { successes: 0, failures: 0 };
  const fail_streaks = { ...state.fail_streaks };
  if (outcome === 'success') delete fail_streaks[rec.target_key];
  else fail_streaks[rec.target_key] = (fail_streaks[rec.target_key] ?? 0) + 1;
  let next: GovernorState = {
    ...state,
    ema: { ...state.ema, [rec.action]: ema },
    ema_history: [...state.ema_history, { at: atIso, action: rec.action, ema }].slice(-EMA_HISTORY_MAX),
    predictions: {
      ...state.predictions,
      [pKey]: outcome === 'success' ? { ...stats, successes: stats.successes + 1 } : { ...stats, failures: stats.failures + 1 },
    },
    fail_streaks,
  };
  let policyChanged = false;
  if (config?.blueprint.mode === 'adaptive') {
    const adjusted = adjustWeight(next, rec.action, WEIGHT_STEP[outcome], atIso, why);
    next = adjusted.state;
    policyChanged = adjusted.changed;
  }
  return { state: next, policyChanged };
}

/**
 * A heal judged `success` whose failure fingerprint is seen again (within the recurrence window)
 * did not heal: flip it to `failure`, learn that failure and count a recurrence of the fingerprint.
 */
function flipRecurrences(
  state: GovernorState,
  fingerprint: string,
  atMs: number,
  atIso: string,
  config: RepoConfig | null,
): { state: GovernorState; flipped: ActionRecord[]; policyChanged: boolean } {
  const hits: number[] = [];
  state.actions.forEach((a, i) => {
    if (a.outcome !== 'success' || a.incident_fingerprint !== fingerprint || !isJudged(a.action)) return;
    const ms = toMs(a.at);
    if (ms <= atMs && atMs - ms <= RECURRENCE_WINDOW_MS) hits.push(i);
  });
  if (hits.length === 0) return { state, flipped: [], policyChanged: false };
  const actions = [...state.actions];
  const flipped: ActionRecord[] = [];
  let next = state;
  let policyChanged = false;
  for (const i of hits) {
    const rec = { ...(actions[i] as ActionRecord), outcome: 'failure' as const };
    actions[i] = rec;
    flipped.push(rec);
    const learned = learn(next, rec, 'failure', atIso, config, `failure ${fingerprint} came back after a "successful" ${rec.action}`);
    next = learned.state;
    policyChanged ||= learned.policyChanged;
  }
  next = {
    ...next,
    actions,
    recurrences: { ...next.recurrences, [fingerprint]: (next.recurrences[fingerprint] ?? 0) + hits.length },
  };
  return { state: next, flipped, policyChanged };
}

/**
 * Record an action that was carried out (call it after the engines ran, with the action
 * certificate's hash). NOOP decisions record nothing. Returns a new state; the input is untouched.
 * - ESCALATE opens (or re-opens) the target's circuit: escalations[target] = {at, probe_used: false}.
 * - Any other action while the circuit is open is the half-open probe: probe_used = true.
 * - Acting again on a fingerprint an earlier heal "fixed" means it came back: a recurrence.
 * - A refusal is an outcome (issue #10): an escalation because a precondition is unmet, or a step
 *   an engine refused or failed, counts toward the target's fail streak at once. A refused step's
 *   record is judged `failure` now (the next run cannot judge what was not done; the EMA, which
 *   measures actions performed, is left alone), and when a human was asked instead the circuit
 *   opens exactly as for ESCALATE.
 */
export function recordAction(state: GovernorState, decision: Decision, info: ActionInfo): GovernorState {
  if (decision.action === 'NOOP' || decision.verdict === 'noop') return state;
  const atIso = info.at.toISOString();
  const atMs = info.at.getTime();
  const tKey =
    decision.target_key ??
    targetKey(decision.cooldown_key.split('|')[0] ?? '', { target: decision.target, fingerprint: decision.incident_fingerprint });

  let next = flipRecurrences(state, decision.incident_fingerprint, atMs, atIso, null).state;

  const record: ActionRecord = {
    at: atIso,
    action: decision.action,
    cooldown_key: decision.cooldown_key,
    incident_kind: decision.incident_kind,
    incident_fingerprint: decision.incident_fingerprint,
    target_key: tKey,
    run_id: info.runId,
    run_attempt: info.runAttempt,
    certificate_hash: info.certificateHash,
    outcome: info.refused ? 'failure' : null,
  };
  const escalations = { ...next.escalations };
  const open = escalations[tKey];
  if (decision.action === 'ESCALATE' || info.refused?.escalated) escalations[tKey] = { at: atIso, probe_used: false };
  else if (open) escalations[tKey] = { ...open, probe_used: true };
  const refusal = decision.guardrail === 'precondition' || info.refused !== undefined;
  const fail_streaks = refusal ? { ...next.fail_streaks, [tKey]: (next.fail_streaks[tKey] ?? 0) + 1 } : next.fail_streaks;

  next = {
    ...next,
    actions: pruneActions([...next.actions, record], atMs),
    escalations,
    fail_streaks,
    last_certificate_hash: info.certificateHash ?? next.last_certificate_hash,
  };
  return next;
}

/**
 * The next run's conclusion judges the latest pending action on that run (never the API call's
 * success). A probe's success closes its circuit (escalation, fail streak and recurrences cleared);
 * its failure re-opens the circuit with a fresh cool-off. A failure whose fingerprint an earlier
 * heal had "fixed" counts that heal as failed (a recurrence).
 */
export function recordOutcome(state: GovernorState, outcome: OutcomeInfo, config: RepoConfig): OutcomeResult {
  const result = judgeConclusion(outcome.conclusion);
  if (result === null) return { state, judged: null, policyChanged: false };
  const atIso = outcome.at.toISOString();
  const atMs = outcome.at.getTime();

  let idx = -1;
  for (let i = state.actions.length - 1; i >= 0; i--) {
    const a = state.actions[i] as ActionRecord;
    if (a.run_id === outcome.runId && a.outcome === null && isJudged(a.action)) {
      idx = i;
      break;
    }
  }

  let next = state;
  let judged: ActionRecord | null = null;
  let policyChanged = false;

  if (idx >= 0) {
    const rec = { ...(state.actions[idx] as ActionRecord), outcome: result };
    const actions = [...state.actions];
    actions[idx] = rec;
    const learned = learn({ ...state, actions }, rec, result, atIso, config, `run ${outcome.runId} ${outcome.conclusion} after ${rec.action}`);
    next = learned.state;
    policyChanged = learned.policyChanged;
    judged = rec;

    const esc = next.escalations[rec.target_key];
    if (esc?.probe_used) {
      const escalations = { ...next.escalations };
      if (result === 'success') {
        delete escalations[rec.target_key];
        const fail_streaks = { ...next.fail_streaks };
        delete fail_streaks[rec.target_key];
        const recurrences = { ...next.recurrences };
        delete recurrences[rec.incident_fingerprint];
        next = { ...next, escalations, fail_streaks, recurrences };
      } else {
        escalations[rec.target_key] = { at: atIso, probe_used: false };
        next = { ...next, escalations };
      }
    }

    if (outcome.approvalSignal) {
      const approved = outcome.approvalSignal === 'approved';
      const adjusted =
        config.blueprint.mode === 'adaptive'
          ? adjustWeight(next, rec.action, approved ? WEIGHT_STEP.approved : WEIGHT_STEP.rejected, atIso, `human ${outcome.approvalSignal} ${rec.action}`)
          : { state: next, changed: false };
      next = adjusted.state;
      policyChanged ||= adjusted.changed;
    }
  }

  if (result === 'failure' && outcome.incidentFingerprintNow) {
    const flips = flipRecurrences(next, outcome.incidentFingerprintNow, atMs, atIso, config);
    next = flips.state;
    policyChanged ||= flips.policyChanged;
    judged ??= flips.flipped[flips.flipped.length - 1] ?? null;
  }

  return { state: next, judged, policyChanged };
}

/**
 * A human approved or rejected a suggested action (`/bridge approve`, `/bridge reject`).
 * In adaptive mode this moves the action's weight (+0.10 / −0.20, clamped to [0.2, 2]) and bumps
 * the policy version; in predictive mode weights are not used and the state is returned as is.
 */
export function recordHumanFeedback(state: GovernorState, feedback: HumanFeedback, config: RepoConfig): GovernorState {
  if (config.blueprint.mode !== 'adaptive' || feedback.action === 'NOOP') return state;
  return adjustWeight(
    state,
    feedback.action,
    feedback.approved ? WEIGHT_STEP.approved : WEIGHT_STEP.rejected,
    feedback.at.toISOString(),
    `human ${feedback.approved ? 'approved' : 'rejected'} ${feedback.action}`,
  ).state;
}
