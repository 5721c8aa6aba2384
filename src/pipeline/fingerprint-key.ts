import { createHash } from 'node:crypto';
import type { Signer } from '../core/certificate/index.js';

const LABEL = new TextEncoder().encode('living-bridge/value-fingerprint-key/v1');

/**
 * Key for value fingerprints in certificates (HMAC, so a short value cannot be recovered from a
 * public certificate by guessing). Ed25519 signatures are deterministic, so signing a fixed label
 * yields a secret only the holder of the signing key can compute — and the App and the Action,
 * sharing that key, compute the same fingerprints.
 */
export async function fingerprintKeyOf(signer: Signer): Promise<string> {
  const sig = await signer.sign(LABEL);
  return createHash('sha256').update(sig).digest('hex');
}
