import { z } from 'zod';
import { ActionKind } from './common.js';

/** One thing an action changed. Fingerprints only: a value never enters a certificate. */
export const Change = z.object({
  target: z.string(),
  kind: z.enum(['secret', 'variable', 'environment', 'file', 'run', 'issue', 'comment', 'ref']),
  scope: z.string().default('repository'),
  op: z.enum(['create', 'update', 'delete', 'rerun', 'open', 'noop']),
  before_fingerprint: z.string().nullable(),
  after_fingerprint: z.string().nullable(),
});
export type Change = z.infer<typeof Change>;

/** What a certificate asserts. Field names from the seed are kept as they were. */
export const CertificatePredicate = z.object({
  timestamp: z.string(),
  action: ActionKind,
  reason: z.string(),
  targets: z.array(z.string()),
  /** The effect was checked on GitHub after the action (secret exists with the new updated_at, rerun accepted, ...). */
  certified: z.boolean(),
  report_hash: z.string(),
  repository: z.string(),
  run_id: z.number().int().nullable(),
  run_attempt: z.number().int().nullable(),
  policy_version: z.number().int().min(1),
  changes: z.array(Change),
  previous_certificate_hash: z.string().nullable(),
  /**
   * 1-based position in the repository's chain (the ledger file name's NNNNNN). Absent only in
   * certificates written before checkpoints existed; once a chain carries it, every later link must.
   */
  sequence: z.number().int().min(1).optional(),
  /**
   * 'action' certificates record what was done; 'outcome' certificates judge an earlier one by the
   * next run; 'key_rotation' introduces the next signing key (`rotates_to`), signed by the previous one.
   */
  certificate_type: z.enum(['action', 'outcome', 'sync', 'key_rotation']),
  judges_certificate_hash: z.string().nullable().default(null),
  outcome: z.enum(['success', 'failure']).nullable().default(null),
  decision: z.record(z.string(), z.unknown()).default({}),
  /** Only in 'key_rotation' certificates: the key trusted for the links after this one. */
  rotates_to: z.object({ keyid: z.string(), public_key: z.string() }).optional(),
});
export type CertificatePredicate = z.infer<typeof CertificatePredicate>;

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const CERTIFICATE_PREDICATE_TYPE = 'https://living-bridge.dev/certificate/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export const Statement = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.literal(CERTIFICATE_PREDICATE_TYPE),
  predicate: CertificatePredicate,
});
export type Statement = z.infer<typeof Statement>;

export const DsseEnvelope = z.object({
  payloadType: z.literal(DSSE_PAYLOAD_TYPE),
  /** base64 of the canonical JSON statement: the exact signed bytes. */
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string(), sig: z.string() })).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

/** A stored certificate: the envelope plus its hash (sha256 hex of the payload bytes). */
export const Certificate = z.object({
  certificate_hash: z.string().regex(/^[0-9a-f]{64}$/),
  envelope: DsseEnvelope,
});
export type Certificate = z.infer<typeof Certificate>;
