import type { Certificate, Statement } from '../schemas/certificate.js';
import { verifyCertificate, type CertificateErrorCode, type PublicKeys } from './certificate.js';
import { keyIdFor } from './keys.js';

/** Why a chain does not hold, as a stable code (the message says it in words). */
export type ChainErrorCode =
  | CertificateErrorCode
  | 'LINK_BROKEN'
  | 'SEQUENCE_MISMATCH'
  | 'WRONG_REPOSITORY'
  | 'BAD_ROTATION'
  | 'HEAD_MISMATCH';

export interface VerifyChainOptions {
  /**
   * The certificate_hash the chain must end at (the ledger keeps it in its state as
   * `last_certificate_hash`); `null` means the chain must be empty. Without it (or
   * `expectedLength`) a chain cut off at the end is indistinguishable from a shorter chain.
   */
  expectedHead?: string | null;
  /** The number of links the chain must have (the ledger's certificate count). */
  expectedLength?: number;
  /** Every certificate must be about this repository (`owner/name`). */
  repository?: string;
}

export type ChainVerification =
  | {
      ok: true;
      length: number;
      head: string | null;
      /** The verified statements, in chain order (for audit export). */
      statements?: Statement[];
      /** Keys the chain ended up trusting: the given ones plus those introduced by key rotations. */
      keys?: PublicKeys;
    }
  | {
      ok: false;
      code: ChainErrorCode;
      /** 0-based position of the broken link (for truncation: the first missing position). */
      index: number;
      /** The broken link's certificate_hash as stored ('' when it has none). */
      certificate_hash: string;
      /** Plain words: which link broke and why. */
      reason: string;
    };

const short = (hash: string): string => (hash ? `${hash.slice(0, 12)}…` : '(none)');

const hashOf = (cert: unknown): string => {
  const h = (cert as { certificate_hash?: unknown } | null)?.certificate_hash;
  return typeof h === 'string' ? h : '';
};

/**
 * Verify a certificate chain in order. Each link must verify on its own (hash, signature by a
 * trusted key, schema); the first link must have `previous_certificate_hash: null`, and each
 * next link must point at the `certificate_hash` of the link right before it. This detects any
 * edit, reorder, insertion or deletion. Truncation at the end is only detectable against a known
 * head or length (`options.expectedHead` / `options.expectedLength`).
 */
export function verifyChain(certs: readonly Certificate[], publicKeys: PublicKeys, options: VerifyChainOptions = {}): ChainVerification {
  const hashes = certs.map(hashOf);
  const trusted: PublicKeys = { ...publicKeys };
  const statements: Statement[] = [];
  let sequenced = false;
  const fail = (index: number, reason: string, code: ChainErrorCode = 'LINK_BROKEN'): ChainVerification => ({
    ok: false,
    code,
    index,
    certificate_hash: hashes[index] ?? '',
    reason: `link ${index} (${short(hashes[index] ?? '')}): ${reason}`,
  });

  for (let i = 0; i < certs.length; i++) {
    const verified = verifyCertificate(certs[i], trusted);
    if (!verified.ok) return fail(i, verified.reason, verified.code);
    const predicate = verified.statement.predicate;
    statements.push(verified.statement);
    if (options.repository !== undefined && predicate.repository !== options.repository) {
      return fail(i, `is about ${predicate.repository}, not ${options.repository}`, 'WRONG_REPOSITORY');
    }
    // Sequence numbers are signed: a link moved, dropped or renumbered shows here even before the hash links.
    if (predicate.sequence !== undefined) {
      if (predicate.sequence !== i + 1) return fail(i, `carries sequence ${predicate.sequence} but is link #${i + 1} of the chain`, 'SEQUENCE_MISMATCH');
      sequenced = true;
    } else if (sequenced) {
      return fail(i, `carries no sequence number although the links before it do`, 'SEQUENCE_MISMATCH');
    }
    if (predicate.certificate_type === 'key_rotation') {
      // A rotation is trusted only because a trusted key signed it; the key it names is trusted from the next link on.
      const next = predicate.rotates_to;
      let id: string | null = null;
      try {
        id = next ? keyIdFor(next.public_key) : null;
      } catch {
        id = null;
      }
      if (!next || id !== next.keyid) return fail(i, 'is a key rotation without a valid next key (rotates_to.keyid must be the key id of rotates_to.public_key)', 'BAD_ROTATION');
      trusted[next.keyid] = next.public_key;
    }
    const previous = predicate.previous_certificate_hash;
    if (i === 0) {
      if (previous !== null) {
        const later = hashes.indexOf(previous);
        if (later > 0) return fail(0, `points at link ${later} (${short(previous)}), which comes after it: links are out of order`);
        return fail(
          0,
          `the first link must start the chain (previous_certificate_hash null) but points at ${short(previous)}: the links before it are missing`,
        );
      }
      continue;
    }
    const expected = hashes[i - 1] as string;
    if (previous === expected) continue;
    if (previous === null) {
      return fail(i, `starts a new chain (previous_certificate_hash null) in the middle; it should point at link ${i - 1} (${short(expected)})`);
    }
    const at = hashes.indexOf(previous);
    if (at > i) {
      return fail(i, `points at link ${at} (${short(previous)}), which comes after it: links are out of order`);
    }
    if (at === i) {
      return fail(i, 'points at itself');
    }
    if (at >= 0) {
      return fail(
        i,
        `points at link ${at} (${short(previous)}), not at link ${i - 1} (${short(expected)}) right before it: links were reordered, duplicated or inserted`,
      );
    }
    return fail(
      i,
      `points at ${short(previous)}, which is not in the chain; link ${i - 1} is ${short(expected)}: a link was deleted before it`,
    );
  }

  const length = certs.length;
  const head = length > 0 ? (hashes[length - 1] as string) : null;

  if (options.expectedHead !== undefined && options.expectedHead !== head) {
    const expectedHead = options.expectedHead;
    if (expectedHead === null) {
      return { ok: false, code: 'HEAD_MISMATCH', index: 0, certificate_hash: hashes[0] ?? '', reason: `the chain should be empty but has ${length} link(s)` };
    }
    const at = hashes.indexOf(expectedHead);
    if (at >= 0) {
      return {
        ok: false,
        code: 'HEAD_MISMATCH',
        index: at + 1,
        certificate_hash: hashes[at + 1] ?? '',
        reason: `the chain continues past the expected head ${short(expectedHead)} (link ${at}): ${length - at - 1} link(s) after it that the ledger state does not know`,
      };
    }
    return {
      ok: false,
      code: 'HEAD_MISMATCH',
      index: length,
      certificate_hash: expectedHead,
      reason: `the chain ends at ${short(head ?? '')} after ${length} link(s), but the ledger state says it ends at ${short(expectedHead)}: the chain was truncated (link ${length} onwards missing) or its head replaced`,
    };
  }
  if (options.expectedLength !== undefined && options.expectedLength !== length) {
    if (length < options.expectedLength) {
      return {
        ok: false,
        code: 'HEAD_MISMATCH',
        index: length,
        certificate_hash: '',
        reason: `the chain has ${length} link(s) but the ledger state counts ${options.expectedLength}: links ${length}..${options.expectedLength - 1} are missing (truncated)`,
      };
    }
    return {
      ok: false,
      code: 'HEAD_MISMATCH',
      index: options.expectedLength,
      certificate_hash: hashes[options.expectedLength] ?? '',
      reason: `the chain has ${length} link(s) but the ledger state counts ${options.expectedLength}: link ${options.expectedLength} onwards is unexpected`,
    };
  }
  return { ok: true, length, head, statements, keys: trusted };
}
