import { z } from 'zod';
import { IncidentKind } from './incident.js';

/** A normalized failure signature: 16 hex of sha256 over the deciding error lines (see core/classify/signature.ts). */
export const FailureSignature = z.string().regex(/^[0-9a-f]{16}$/, 'a failure signature is 16 hex characters');
export type FailureSignature = z.infer<typeof FailureSignature>;

/** A human's correction: this signature is this kind in this repository. */
export const SignatureLabel = z.object({
  kind: IncidentKind,
  by: z.string().min(1).max(100),
  at: z.string(),
});
export type SignatureLabel = z.infer<typeof SignatureLabel>;

/** What happened after a signature was seen, per repository. */
export const SignatureRecord = z.object({
  /** How the classifier itself answered, the last time (before any label). */
  classified_as: IncidentKind,
  seen: z.number().int().min(0).default(0),
  first_seen: z.string(),
  last_seen: z.string(),
  /** Living Bridge re-ran the job and the next attempt passed. */
  rerun_healed: z.number().int().min(0).default(0),
  /** ...and the same signature came back within a day: the heal did not last. */
  heal_regressed: z.number().int().min(0).default(0),
  last_healed_at: z.string().nullable().default(null),
  /** The job failed, then passed on a re-run of the same commit with nothing changed (anyone's re-run). */
  flaky: z.number().int().min(0).default(0),
  label: SignatureLabel.nullable().default(null),
  /** Excerpt of the deciding lines (masked), so a human reading the ledger knows what the signature is. */
  excerpt: z.array(z.string().max(300)).max(3).default([]),
});
export type SignatureRecord = z.infer<typeof SignatureRecord>;

/** Which signature a failing run attempt had, so its next attempt's outcome can be attributed. */
export const RunSighting = z.object({
  run_id: z.number().int().positive(),
  attempt: z.number().int().positive(),
  signature: FailureSignature,
  at: z.string(),
});
export type RunSighting = z.infer<typeof RunSighting>;

/** `.bridge/classifier/memory.json` on the ledger branch. */
export const ClassifierMemory = z.object({
  version: z.literal(1).default(1),
  signatures: z.record(FailureSignature, SignatureRecord).default({}),
  /** Bounded (newest last). */
  runs: z.array(RunSighting).default([]),
});
export type ClassifierMemory = z.infer<typeof ClassifierMemory>;
