import { z } from 'zod';
import { ActionKind, AutonomyLevel } from './common.js';
import { IncidentKind, IncidentTarget } from './incident.js';

export const GUARDRAILS = ['halted', 'fail_streak', 'rate_limited', 'cooldown', 'recurrence', 'half_open', 'precondition', 'outage'] as const;
export const Guardrail = z.enum(GUARDRAILS);
export type Guardrail = z.infer<typeof Guardrail>;

/** One scored candidate, with every number that went into its score. */
export const ScoredCandidate = z.object({
  action: ActionKind,
  ema: z.number(),
  cooldown_penalty: z.number(),
  weight: z.number(),
  predicted_success: z.number().min(0).max(1),
  score: z.number(),
  /** The whole step-list this candidate stands for (its lead action is `action`). */
  steps: z.array(ActionKind).optional(),
});
export type ScoredCandidate = z.infer<typeof ScoredCandidate>;

/**
 * What the Governor decided and why.
 * - execute: do `steps` now
 * - suggest: a human must approve `steps` (autonomy level, low prediction, no grant)
 * - noop: do nothing (a guardrail or nothing applicable)
 */
export const Decision = z.object({
  verdict: z.enum(['execute', 'suggest', 'noop']),
  /** The chosen action (first step), NOOP for noop. */
  action: ActionKind,
  /** Ordered steps, e.g. CREATE_SECRET then RERUN. */
  steps: z.array(ActionKind),
  guardrail: Guardrail.nullable(),
  reason: z.string(),
  incident_kind: IncidentKind,
  target: IncidentTarget.nullable(),
  incident_fingerprint: z.string(),
  /** (repo, environment, incident kind, action): the key cooldowns and streaks are kept under. */
  cooldown_key: z.string(),
  candidates: z.array(ScoredCandidate),
  policy_version: z.number().int().min(1),
  blueprint_mode: z.enum(['adaptive', 'predictive']),
  decided_at: z.string(),
  /** Optional context the Governor adds (older records may lack it). */
  /** The target the fail streak, escalation and half-open circuit are kept under. */
  target_key: z.string().optional(),
  environment: z.string().nullable().optional(),
  /** How the run's environment was resolved (request, workflow file, deployments, none, unresolved) and from what. */
  environment_resolution: z.string().optional(),
  autonomy_level: AutonomyLevel.optional(),
  /**
   * Why a `suggest` is a suggest: `level` (the autonomy level; a grant may lift it),
   * `prediction` (predicted success below the minimum) or `confidence` (a low-confidence
   * classification). The last two want a human's eyes, not only a grant.
   */
  suggested_because: z.enum(['level', 'prediction', 'confidence']).nullable().optional(),
  /** True when this decision is the single half-open probe after an escalation's cool-off. */
  probe: z.boolean().optional(),
  /** For a noop (guardrail, observe level): the steps the Governor would otherwise have taken. */
  proposed_steps: z.array(ActionKind).optional(),
  /**
   * guardrail `precondition`: the step of the proposed steps that could not succeed, why, and what a
   * human can do to make it possible (the escalation issue's instruction).
   */
  unmet: z.object({ step: ActionKind, reason: z.string(), instruction: z.string() }).optional(),
});
export type Decision = z.infer<typeof Decision>;
