/**
 * Verification of a whole ledger as an auditor needs it, written the way sigstore-js writes
 * `verify()`: a pure function of named steps, each failing with a stable code. Trust material (the
 * pinned keys) and the anchors are passed in, never fetched and never taken from the branch itself.
 *
 *   1. trust         the verifier was given at least one key to trust
 *   2. certificates  every link verifies under the trusted keys (or keys a trusted key rotated to),
 *                    links point at each other, sequence numbers count 1, 2, 3 ...
 *   3. checkpoint    the branch's signed checkpoint exists, is signed by a trusted key and names
 *                    exactly the chain's length and head (a cut tail cannot hide)
 *   4. anchors       copies of checkpoints kept outside the branch: none is ahead of the branch
 *                    (truncated or rolled back), none disagrees with it (rewritten), and the
 *                    branch's own checkpoint is among them when an anchor is expected
 */
import type { Checkpoint } from '../schemas/checkpoint.js';
import type { Statement } from '../schemas/certificate.js';
import type { PublicKeys } from './certificate.js';
import { verifyChain, type ChainErrorCode } from './chain.js';
import { verifyCheckpoint, type CheckpointVerification } from './checkpoint.js';
import { keyIdFor } from './keys.js';

export type VerificationStep = 'trust' | 'certificates' | 'checkpoint' | 'anchors';

export type LedgerErrorCode =
  | 'NO_TRUSTED_KEYS'
  | 'KEY_FILE_MISMATCH'
  | ChainErrorCode
  | 'CHECKPOINT_MISSING'
  | Extract<CheckpointVerification, { ok: false }>['code']
  | 'CHECKPOINT_MISMATCH'
  | 'STATE_MISMATCH'
  | 'ROLLED_BACK'
  | 'ANCHOR_MISMATCH'
  | 'ANCHOR_MISSING';

/** A copy of a checkpoint kept outside the branch, and where it was found (for messages). */
export interface Anchor {
  source: string;
  checkpoint: unknown;
}

export interface LedgerEvidence {
  repository: string;
  /** The certificates in file order (`NNNNNN-<hash12>.json`). */
  certificates: readonly unknown[];
  /** File names of the certificates, for messages. */
  files?: readonly string[];
  /** `.bridge/checkpoint.json`, parsed; null when the branch has none. */
  checkpoint: unknown;
  /** `last_certificate_hash` of `.bridge/state.json` when that file exists (cross-checked). */
  stateHead?: string | null;
  anchors?: readonly Anchor[];
  /**
   * The branch's `.bridge/keys/<keyid>.pub` files (key id from the file name -> content). They are never
   * trusted; a file whose key has another id, or that contradicts a pinned key, shows the branch was edited.
   */
  publishedKeys?: Record<string, string>;
  /** Where the anchor of the branch's checkpoint should be (e.g. "check run on commit abc123"), when one is expected. */
  expectedAnchor?: string | null;
}

export interface TrustMaterial {
  /** keyid -> base64 Ed25519 public key: only these (and keys they rotate to) are trusted. */
  keys: PublicKeys;
}

export interface LedgerVerificationError {
  step: VerificationStep;
  code: LedgerErrorCode;
  message: string;
  /** 0-based index of the offending certificate, when one is to blame. */
  index: number | null;
  /** For a truncated or rolled-back branch: the highest sequence an anchor proves existed. */
  last_anchored_sequence?: number;
}

export interface LedgerVerification {
  ok: boolean;
  repository: string;
  length: number;
  head: string | null;
  checkpoint: (Checkpoint & { keyid: string }) | null;
  anchors: { given: number; valid: number; latest: { sequence: number; head: string | null; source: string } | null };
  /** The key ids verification ended up trusting (pinned plus rotated-to). */
  trusted_keys: string[];
  steps: { step: VerificationStep; ok: boolean }[];
  error: LedgerVerificationError | null;
  warnings: string[];
  /** The verified statements in chain order (not part of the JSON reports). */
  statements: Statement[];
}

const short = (hash: string | null | undefined): string => (hash ? `${hash.slice(0, 12)}…` : '(none)');

export function verifyLedgerEvidence(evidence: LedgerEvidence, trust: TrustMaterial): LedgerVerification {
  const result: LedgerVerification = {
    ok: false,
    repository: evidence.repository,
    length: evidence.certificates.length,
    head: null,
    checkpoint: null,
    anchors: { given: evidence.anchors?.length ?? 0, valid: 0, latest: null },
    trusted_keys: Object.keys(trust.keys),
    steps: [],
    error: null,
    warnings: [],
    statements: [],
  };
  const fail = (step: VerificationStep, code: LedgerErrorCode, message: string, extra: Partial<LedgerVerificationError> = {}): LedgerVerification => {
    result.steps.push({ step, ok: false });
    result.error = { step, code, message, index: null, ...extra };
    return result;
  };
  const pass = (step: VerificationStep): void => {
    result.steps.push({ step, ok: true });
  };

  // 1. trust
  if (Object.keys(trust.keys).length === 0) {
    return fail('trust', 'NO_TRUSTED_KEYS', 'no trusted keys were given: pass the public key(s) you pinned (--keys FILE or LIVING_BRIDGE_TRUSTED_KEYS); keys published on the ledger branch are never trusted');
  }
  for (const [named, text] of Object.entries(evidence.publishedKeys ?? {})) {
    let actual: string | null;
    try {
      actual = keyIdFor(text.trim());
    } catch {
      actual = null;
    }
    if (actual !== named) {
      return fail('trust', 'KEY_FILE_MISMATCH', `.bridge/keys/${named}.pub holds ${actual ? `the key with id ${actual}` : 'no Ed25519 public key'}: the key file was swapped or edited`);
    }
  }
  pass('trust');

  // 2. certificates
  const chain = verifyChain(evidence.certificates as never, trust.keys, { repository: evidence.repository });
  if (!chain.ok) {
    const file = evidence.files?.[chain.index];
    return fail('certificates', chain.code, `${chain.reason}${file ? ` [file ${file}]` : ''}`, { index: chain.index });
  }
  result.head = chain.head;
  result.statements = chain.statements ?? [];
  const keys = chain.keys ?? trust.keys;
  result.trusted_keys = Object.keys(keys);
  pass('certificates');

  // 3. checkpoint
  const length = chain.length;
  if (evidence.checkpoint === null || evidence.checkpoint === undefined) {
    const legacy = length > 0 && result.statements.every((s) => s.predicate.sequence === undefined);
    return fail(
      'checkpoint',
      'CHECKPOINT_MISSING',
      legacy
        ? `the branch has ${length} certificate(s) and no signed checkpoint: it was written before checkpoints existed, so a cut tail cannot be ruled out. The next ledger commit by Living Bridge writes a checkpoint over the chain as it then is; compare its head with your own records before trusting it`
        : `the branch has no signed checkpoint (.bridge/checkpoint.json) although its certificates carry sequence numbers: the checkpoint was deleted`,
    );
  }
  const signed = verifyCheckpoint(evidence.checkpoint, keys);
  if (!signed.ok) return fail('checkpoint', signed.code, signed.reason);
  const cp = signed.checkpoint;
  result.checkpoint = { ...cp, keyid: signed.keyid };
  if (cp.repository !== evidence.repository) {
    return fail('checkpoint', 'CHECKPOINT_MISMATCH', `the checkpoint is for ${cp.repository}, not ${evidence.repository}`);
  }
  if (cp.sequence > length) {
    return fail(
      'checkpoint',
      'CHECKPOINT_MISMATCH',
      `the branch has ${length} certificate(s) but its signed checkpoint (${cp.time}) says ${cp.sequence}, head ${short(cp.head)}: certificates #${length + 1}..#${cp.sequence} were cut off`,
      { index: length },
    );
  }
  if (cp.sequence < length) {
    return fail(
      'checkpoint',
      'CHECKPOINT_MISMATCH',
      `the branch has ${length} certificate(s) but its signed checkpoint covers only ${cp.sequence}: certificates #${cp.sequence + 1}..#${length} were added without a checkpoint`,
      { index: cp.sequence },
    );
  }
  if (cp.head !== chain.head) {
    return fail('checkpoint', 'CHECKPOINT_MISMATCH', `the signed checkpoint says certificate #${cp.sequence} is ${short(cp.head)}, but the branch has ${short(chain.head)}: the head was replaced`, { index: Math.max(0, length - 1) });
  }
  if (evidence.stateHead !== undefined && evidence.stateHead !== chain.head) {
    return fail('checkpoint', 'STATE_MISMATCH', `.bridge/state.json says the chain ends at ${short(evidence.stateHead)}, the certificates and the checkpoint say ${short(chain.head)}: the state file was edited`);
  }
  pass('checkpoint');

  // 4. anchors
  const hashes = evidence.certificates.map((c) => (c as { certificate_hash?: string }).certificate_hash ?? null);
  let matchesBranch = false;
  for (const anchor of evidence.anchors ?? []) {
    const v = verifyCheckpoint(anchor.checkpoint, keys);
    if (!v.ok) {
      result.warnings.push(`ignored the anchor in ${anchor.source}: ${v.reason}`);
      continue;
    }
    if (v.checkpoint.repository !== evidence.repository) {
      result.warnings.push(`ignored the anchor in ${anchor.source}: it is for ${v.checkpoint.repository}`);
      continue;
    }
    result.anchors.valid++;
    const a = v.checkpoint;
    if (!result.anchors.latest || a.sequence > result.anchors.latest.sequence) result.anchors.latest = { sequence: a.sequence, head: a.head, source: anchor.source };
    if (a.sequence <= length && a.sequence > 0 && hashes[a.sequence - 1] !== a.head) {
      return fail(
        'anchors',
        'ANCHOR_MISMATCH',
        `${anchor.source} records certificate #${a.sequence} as ${short(a.head)}, but the branch has ${short(hashes[a.sequence - 1])} there: the branch was rewritten`,
        { index: a.sequence - 1 },
      );
    }
    if (a.sequence === cp.sequence && a.head === cp.head) matchesBranch = true;
  }
  const latest = result.anchors.latest;
  if (latest && latest.sequence > length) {
    return fail(
      'anchors',
      'ROLLED_BACK',
      `the branch ends at certificate #${length} but ${latest.source} anchors #${latest.sequence} (head ${short(latest.head)}): the branch was truncated or rolled back and falls short of the last anchored sequence ${latest.sequence}`,
      { index: length, last_anchored_sequence: latest.sequence },
    );
  }
  if (evidence.expectedAnchor && !matchesBranch) {
    return fail(
      'anchors',
      'ANCHOR_MISSING',
      `the branch's checkpoint #${cp.sequence} (head ${short(cp.head)}) should be anchored in ${evidence.expectedAnchor}, but no valid anchor there records it`,
    );
  }
  pass('anchors');
  result.ok = true;
  return result;
}
