import { z } from 'zod';

/** Env-sync memory, kept in the ledger: ETags for conditional reads and fingerprints of what we wrote. */
export const SyncState = z.object({
  schema_version: z.literal(1).default(1),
  /** key: a read's identity, e.g. "variables:repository" -> the ETag GitHub returned. */
  etags: z.record(z.string(), z.string()).default({}),
  /** key "scope/NAME" -> keyed hash of the value we last wrote and GitHub's updated_at after it. */
  secret_fingerprints: z
    .record(z.string(), z.object({ fingerprint: z.string(), updated_at: z.string().nullable() }))
    .default({}),
  /** Cached inventory answering a 304: key as in etags -> names (and values for variables). */
  inventory: z.record(z.string(), z.unknown()).default({}),
  /** "kind:scope/NAME" of items Living Bridge created (deletions of anything else are flagged). */
  created_by_bridge: z.array(z.string()).default([]),
  last_sync_at: z.string().nullable().default(null),
});
export type SyncState = z.infer<typeof SyncState>;

/** One line of the append-only audit trail. */
export const AuditEntry = z.object({
  at: z.string(),
  door: z.string(),
  actor: z.string(),
  event: z.string(),
  repository: z.string(),
  detail: z.string(),
  certificate_hash: z.string().nullable().default(null),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** A decision waiting for a human's `/bridge approve <id>` comment. */
export const PendingApproval = z.object({
  id: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  issue_number: z.number().int().nullable(),
  decision: z.record(z.string(), z.unknown()),
  incident: z.record(z.string(), z.unknown()),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  decided_by: z.string().nullable().default(null),
});
export type PendingApproval = z.infer<typeof PendingApproval>;
