import { z } from 'zod';
import { RepoFullName } from './common.js';
import { FailureEvidence, IncidentKind, IncidentTarget } from './incident.js';

/**
 * What every door asks the heal pipeline to do. The webhook door builds it from a
 * `workflow_run` payload, the incident API parses it from the request body, the Action
 * from its inputs and the CLI from its arguments: one schema for all four.
 */
export const HealRequest = z
  .strictObject({
    repository: RepoFullName,
    /** The failed run to heal; evidence is read from its failed jobs' logs. */
    run_id: z.number().int().positive().optional(),
    run_attempt: z.number().int().positive().optional(),
    environment: z.string().min(1).max(255).optional(),
    /** An incident already classified elsewhere (e.g. a monitoring system). Used when there is no run to read. */
    incident: z
      .strictObject({
        kind: IncidentKind,
        target: IncidentTarget.nullable().default(null),
        summary: z.string().max(2000).optional(),
        confidence: z.number().min(0).max(1).default(1),
        evidence: z.array(FailureEvidence).max(50).default([]),
      })
      .optional(),
    dry_run: z.boolean().default(false),
  })
  .refine((r) => r.run_id !== undefined || r.incident !== undefined, {
    message: 'give run_id (a failed workflow run) or incident (an already classified failure)',
    path: ['run_id'],
  });
export type HealRequest = z.infer<typeof HealRequest>;
export type HealRequestInput = z.input<typeof HealRequest>;

export const DOORS = ['webhook', 'api', 'action', 'cli', 'schedule'] as const;
export const Door = z.enum(DOORS);
export type Door = z.infer<typeof Door>;

/**
 * The failed run as the webhook delivered it (same fields as the GitHub adapter's WorkflowRun), so
 * the worker need not read it again.
 */
export const WorkflowRunSnapshot = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  run_attempt: z.number().int().positive(),
  status: z.string(),
  conclusion: z.string().nullable(),
  head_sha: z.string(),
  head_branch: z.string().nullable(),
  event: z.string(),
  html_url: z.string(),
  actor: z.string().nullable(),
  from_fork: z.boolean(),
  pull_requests: z.array(z.number().int()),
  workflow_id: z.number().int(),
  path: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type WorkflowRunSnapshot = z.infer<typeof WorkflowRunSnapshot>;

/** A HealRequest accepted by a door, made durable and de-duplicated by intake. */
export const HealJob = z.object({
  id: z.string().min(1),
  door: Door,
  /** X-GitHub-Delivery for webhooks, a generated id otherwise; the de-duplication key. */
  delivery_id: z.string().min(1),
  received_at: z.string(),
  /** GitHub App installation that delivered the event (webhook door); looked up otherwise. */
  installation_id: z.number().int().positive().optional(),
  request: HealRequest,
  workflow_run: WorkflowRunSnapshot.optional(),
  /** Who asked (`api-token:<name>` for the API door); the audit lines of this heal name it. */
  requested_by: z.string().min(1).max(100).optional(),
});
export type HealJob = z.infer<typeof HealJob>;
