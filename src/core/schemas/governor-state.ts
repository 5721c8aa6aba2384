import { z } from 'zod';
import { ActionKind } from './common.js';
import { IncidentKind } from './incident.js';

/** One action the Governor took, kept (bounded) for rate limits, cooldowns and learning. */
export const ActionRecord = z.object({
  at: z.string(),
  action: ActionKind,
  cooldown_key: z.string(),
  incident_kind: IncidentKind,
  incident_fingerprint: z.string(),
  target_key: z.string(),
  run_id: z.number().int().nullable(),
  run_attempt: z.number().int().nullable(),
  certificate_hash: z.string().nullable(),
  /** Filled when the next run's conclusion arrives. */
  outcome: z.enum(['success', 'failure']).nullable(),
});
export type ActionRecord = z.infer<typeof ActionRecord>;

export const PolicyVersion = z.object({
  version: z.number().int().min(1),
  at: z.string(),
  reason: z.string(),
  weights: z.partialRecord(ActionKind, z.number()),
});
export type PolicyVersion = z.infer<typeof PolicyVersion>;

/** Success/failure counts per (incident kind, action) for the success prediction. */
export const PredictionStats = z.object({ successes: z.number().min(0), failures: z.number().min(0) });

/** Everything the Governor remembers about one repository. Lives in the ledger. */
export const GovernorState = z.object({
  schema_version: z.literal(1).default(1),
  /** Kill switch: when true every decision is NOOP(halted). */
  halted: z.boolean().default(false),
  halted_reason: z.string().nullable().default(null),
  /** EMA of each action's success rate, new = 0.9*old + 0.1*outcome. */
  ema: z.partialRecord(ActionKind, z.number().min(0).max(1)).default({}),
  ema_history: z
    .array(z.object({ at: z.string(), action: ActionKind, ema: z.number() }))
    .default([]),
  policy: z
    .object({
      version: z.number().int().min(1),
      weights: z.partialRecord(ActionKind, z.number()),
      history: z.array(PolicyVersion),
    })
    .default({ version: 1, weights: {}, history: [] }),
  /** key "incident_kind|action" -> counts. */
  predictions: z.record(z.string(), PredictionStats).default({}),
  /** key target_key -> consecutive failed outcomes. */
  fail_streaks: z.record(z.string(), z.number().int().min(0)).default({}),
  /** key incident fingerprint -> times it came back after an action reported success. */
  recurrences: z.record(z.string(), z.number().int().min(0)).default({}),
  /** key target_key -> escalation time and whether the half-open probe was used. */
  escalations: z
    .record(z.string(), z.object({ at: z.string(), probe_used: z.boolean() }))
    .default({}),
  actions: z.array(ActionRecord).default([]),
  last_certificate_hash: z.string().nullable().default(null),
});
export type GovernorState = z.infer<typeof GovernorState>;
export type GovernorStateInput = z.input<typeof GovernorState>;

export const emptyGovernorState = (): GovernorState => GovernorState.parse({});

/** The conclusion of the run that followed an action: the only thing that counts as an outcome. */
export const Outcome = z.object({
  repository: z.string(),
  run_id: z.number().int().positive(),
  run_attempt: z.number().int().positive(),
  conclusion: z.enum(['success', 'failure', 'cancelled', 'timed_out', 'action_required', 'neutral', 'skipped', 'stale', 'startup_failure']),
  /** The action certificate this outcome judges. */
  certificate_hash: z.string().nullable(),
  observed_at: z.string(),
});
export type Outcome = z.infer<typeof Outcome>;
