/**
 * Fingerprints: what engine reports and certificates carry instead of values.
 *
 * `fingerprintValue` is keyed (HMAC-SHA256) so that a fingerprint published in a certificate cannot be
 * brute-forced back to a short value; the key comes from the caller (derived from the signing key).
 * `contentDigest` is an unkeyed digest for content that is public anyway (issue bodies).
 */
import { createHash, createHmac } from 'node:crypto';

/** Length (hex characters) of a value fingerprint: 128 bits. */
export const FINGERPRINT_HEX_LENGTH = 32;

/** HMAC-SHA256(key, value), hex, first 32 characters. Throws on an empty key (an unkeyed fingerprint of a short value is guessable). */
export function fingerprintValue(value: string, key: string): string {
  if (key.length === 0) throw new Error('fingerprintValue: empty fingerprint key');
  return createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX_LENGTH);
}

/** Before-state of a secret whose value is unknowable: its GitHub `updated_at`, or null when absent. */
export function secretStateFingerprint(meta: { updated_at: string } | null): string | null {
  return meta ? `updated_at:${meta.updated_at}` : null;
}

/** `sha256:<32 hex>` of public content (e.g. an issue body). Not for secrets: use fingerprintValue. */
export function contentDigest(content: string): string {
  return `sha256:${createHash('sha256').update(content, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX_LENGTH)}`;
}
