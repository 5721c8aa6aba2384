import type { ActionKind } from '../schemas/common.js';
import type { GovernorState } from '../schemas/governor-state.js';
import type { IncidentKind } from '../schemas/incident.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import { betaPriorFor } from './candidates.js';
import { COOLDOWN_PENALTY_MAX, EMA_PRIOR, WEIGHT_DEFAULT } from './constants.js';

/** The EMA success rate of an action; EMA_PRIOR (0.5) when it has never been judged. */
export const emaOf = (state: GovernorState, action: ActionKind): number => state.ema[action] ?? EMA_PRIOR;

/** The adaptive policy weight of an action (1 when never adjusted). */
export const weightOf = (state: GovernorState, action: ActionKind): number =>
  state.policy.weights[action] ?? WEIGHT_DEFAULT;

export const predictionKey = (kind: IncidentKind, action: ActionKind): string => `${kind}|${action}`;

export interface PredictionDetail {
  p: number;
  successes: number;
  failures: number;
  alpha: number;
  beta: number;
}

/** Posterior mean of Beta(α + successes, β + failures) for (incident kind, action). */
export function predictionDetail(state: GovernorState, kind: IncidentKind, action: ActionKind): PredictionDetail {
  const stats = state.predictions[predictionKey(kind, action)];
  const successes = stats?.successes ?? 0;
  const failures = stats?.failures ?? 0;
  const { alpha, beta } = betaPriorFor(kind, action);
  return { p: (successes + alpha) / (successes + failures + alpha + beta), successes, failures, alpha, beta };
}

/** The "Leviathan" prediction: probability that `action` heals an incident of `kind`, in [0, 1]. */
export function predictSuccess(state: GovernorState, incidentKind: IncidentKind, action: ActionKind): number {
  return predictionDetail(state, incidentKind, action).p;
}

/** Cooldown length of an action in milliseconds (per-action override, else the default). */
export function cooldownMs(config: RepoConfig, action: ActionKind): number {
  return (config.cooldowns.per_action[action] ?? config.cooldowns.default_minutes) * 60_000;
}

export interface CooldownInfo {
  /** now < last + cooldown. At exactly last + cooldown the key is free again. */
  active: boolean;
  remainingMs: number;
  totalMs: number;
  /** COOLDOWN_PENALTY_MAX × remaining / total, 0 when not active. */
  penalty: number;
  untilMs: number | null;
}

export function cooldownInfo(lastMs: number | null, totalMs: number, nowMs: number): CooldownInfo {
  if (lastMs === null || totalMs <= 0) return { active: false, remainingMs: 0, totalMs, penalty: 0, untilMs: null };
  const untilMs = lastMs + totalMs;
  const remainingMs = untilMs - nowMs;
  if (remainingMs <= 0) return { active: false, remainingMs: 0, totalMs, penalty: 0, untilMs };
  return { active: true, remainingMs, totalMs, penalty: COOLDOWN_PENALTY_MAX * Math.min(1, remainingMs / totalMs), untilMs };
}
