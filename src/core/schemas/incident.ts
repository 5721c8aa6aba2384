import { z } from 'zod';
import { RepoRef } from './common.js';

export const INCIDENT_KINDS = [
  'secret.missing',
  'variable.missing',
  'credential.invalid',
  'config.invalid',
  'transient.network',
  'timeout.cancelled',
  'resource.exhausted',
  'dependency.resolution',
  'code.failure',
  'unknown',
] as const;
export const IncidentKind = z.enum(INCIDENT_KINDS);
export type IncidentKind = z.infer<typeof IncidentKind>;

export const TargetType = z.enum(['secret', 'variable', 'file', 'host', 'step', 'package', 'job']);
export const IncidentTarget = z.object({ type: TargetType, name: z.string().min(1).max(512) });
export type IncidentTarget = z.infer<typeof IncidentTarget>;

/** One log line that supports an incident. `text` is already masked: no secret value ever lands here. */
export const FailureEvidence = z.object({
  job_id: z.number().int().optional(),
  job_name: z.string().optional(),
  step: z.string().optional(),
  line: z.number().int().min(1),
  text: z.string().max(2000),
});
export type FailureEvidence = z.infer<typeof FailureEvidence>;

/** The run an incident came from, as far as the door knows it. */
export const RunRef = z.object({
  id: z.number().int().positive(),
  attempt: z.number().int().positive().default(1),
  workflow_name: z.string().optional(),
  head_sha: z.string().optional(),
  head_branch: z.string().nullable().optional(),
  event: z.string().optional(),
  /** Runs from forks and Dependabot get no secrets by design: never create secrets for them. */
  from_fork: z.boolean().default(false),
  actor: z.string().optional(),
  pull_requests: z.array(z.number().int()).default([]),
  html_url: z.string().optional(),
});
export type RunRef = z.infer<typeof RunRef>;

export const Incident = z.object({
  kind: IncidentKind,
  target: IncidentTarget.nullable(),
  confidence: z.number().min(0).max(1),
  /** Stable identity of "the same failure" (kind + target + job), to count recurrences. */
  fingerprint: z.string().min(1),
  summary: z.string(),
  evidence: z.array(FailureEvidence).max(50),
  repo: RepoRef,
  run: RunRef.optional(),
  environment: z.string().optional(),
  /**
   * Normalized signature of the deciding error lines of the job log this incident came from (16 hex). The same
   * failure coming back has the same signature; `/bridge label <signature> <kind>` teaches the classifier.
   */
  signature: z.string().regex(/^[0-9a-f]{16}$/).optional(),
});
export type Incident = z.infer<typeof Incident>;

/** Context a door gives the classifier so incidents know where they come from. */
export const ClassifyContext = z.object({
  repo: RepoRef,
  run: RunRef.optional(),
  job_id: z.number().int().optional(),
  job_name: z.string().optional(),
  environment: z.string().optional(),
});
export type ClassifyContext = z.infer<typeof ClassifyContext>;
