import { z } from 'zod';

export const CHECKPOINT_PREDICATE_TYPE = 'https://living-bridge.dev/checkpoint/v1';
/** The DSSE payload type a checkpoint signature is computed over (PAE), distinct from certificates'. */
export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.living-bridge.checkpoint+json';

const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');

/**
 * The ledger head at one commit: how many certificates the chain has and which one is last. Signed
 * by the ledger writer in the same commit as the certificates, and copied outside the branch (check
 * runs, PR comments, artifact attestations), so a cut or rolled-back branch cannot pass as whole.
 */
export const Checkpoint = z.object({
  repository: z.string().min(3),
  /** Number of certificates in the chain: the last one's `sequence`. */
  sequence: z.number().int().min(0),
  /** certificate_hash of certificate #sequence; null for an empty chain. */
  head: Hash.nullable(),
  /** When the checkpoint was signed (ISO 8601). */
  time: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** `.bridge/checkpoint.json`, and what every anchor carries verbatim. */
export const SignedCheckpoint = z.object({
  checkpoint: Checkpoint,
  /** Ed25519 over PAE(CHECKPOINT_PAYLOAD_TYPE, canonical JSON of `checkpoint`). */
  signature: z.object({ keyid: z.string(), sig: z.string() }),
});
export type SignedCheckpoint = z.infer<typeof SignedCheckpoint>;
