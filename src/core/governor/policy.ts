import type { ActionKind } from '../schemas/common.js';
import type { GovernorState } from '../schemas/governor-state.js';
import { POLICY_HISTORY_MAX, WEIGHT_DEFAULT, WEIGHT_MAX, WEIGHT_MIN } from './constants.js';

const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;
const clamp = (n: number): number => Math.min(WEIGHT_MAX, Math.max(WEIGHT_MIN, n));

/**
 * "Blueprint", adaptive mode: move one action's weight by `delta` (rounded to 4 decimals, clamped
 * to [WEIGHT_MIN, WEIGHT_MAX]). A real change bumps policy.version and appends a history entry
 * (the last POLICY_HISTORY_MAX are kept); a step against a bound changes nothing.
 */
export function adjustWeight(
  state: GovernorState,
  action: ActionKind,
  delta: number,
  atIso: string,
  reason: string,
): { state: GovernorState; changed: boolean } {
  const old = state.policy.weights[action] ?? WEIGHT_DEFAULT;
  const weight = round4(clamp(old + delta));
  if (weight === old) return { state, changed: false };
  const version = state.policy.version + 1;
  const weights = { ...state.policy.weights, [action]: weight };
  const entry = {
    version,
    at: atIso,
    reason: `${reason}: ${action} weight ${old.toFixed(2)} → ${weight.toFixed(2)}`,
    weights,
  };
  return {
    state: {
      ...state,
      policy: { version, weights, history: [...state.policy.history, entry].slice(-POLICY_HISTORY_MAX) },
    },
    changed: true,
  };
}
