import { canonicalJson } from '../canonical.js';
import type { SignedCheckpoint } from '../schemas/checkpoint.js';
import type { Anchor } from './verify-ledger.js';
import { decodeBase64 } from './base64.js';

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

function parseOrNull(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function decodeUtf8(b64: string): string | null {
  const bytes = decodeBase64(b64);
  return bytes ? new TextDecoder().decode(bytes) : null;
}

/**
 * How a signed checkpoint travels outside the ledger branch: as one hidden line in a check run's
 * output and in the PR comment, `<!-- living-bridge:checkpoint {...} -->`. The JSON is the signed
 * checkpoint verbatim (base64 and hex only, so it can never contain `-->`).
 */
const MARKER = 'living-bridge:checkpoint';
const MARKER_RE = /<!--\s*living-bridge:checkpoint\s+(\{.*?\})\s*-->/g;

export function renderAnchorMarker(signed: SignedCheckpoint): string {
  return `<!-- ${MARKER} ${canonicalJson(signed)} -->`;
}

/** Every checkpoint marker in a text (a check run summary, a comment body). */
export function anchorsInText(text: string, source: string): Anchor[] {
  const out: Anchor[] = [];
  for (const m of text.matchAll(MARKER_RE)) {
    try {
      out.push({ source, checkpoint: JSON.parse(m[1] as string) as unknown });
    } catch {
      // Not JSON: not an anchor (verification ignores what it cannot read, and says so by not counting it).
    }
  }
  return out;
}

/**
 * Anchors in a file an auditor saved: a signed checkpoint itself, the in-toto statement or predicate of
 * an artifact attestation (`gh attestation verify --format json` output, Sigstore bundles as
 * `gh attestation download` writes them, one per line, or the attestations REST API's JSON), the JSON
 * GitHub returns for check runs or comments, or any text with markers in it. Only where a checkpoint
 * was found is said here; whether it counts is for verification (its signature under pinned keys).
 */
export function anchorsInDocument(text: string, source: string): Anchor[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON Lines (`gh attestation download` writes one Sigstore bundle per line), else plain text.
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.length > 1 ? lines.map(parseOrNull) : [];
    if (parsed.length && parsed.every((p) => p !== null)) data = parsed;
    else return anchorsInText(text, source);
  }
  const out: Anchor[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || value === null || typeof value !== 'object') {
      if (typeof value === 'string' && value.includes(MARKER)) out.push(...anchorsInText(value, source));
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
      return;
    }
    const o = value as Record<string, unknown>;
    if (o.checkpoint && o.signature && typeof o.checkpoint === 'object') {
      out.push({ source, checkpoint: o });
      return;
    }
    // A DSSE envelope (a Sigstore bundle's `dsseEnvelope`): its payload is the in-toto statement, base64.
    if (typeof o.payload === 'string' && o.payloadType === IN_TOTO_PAYLOAD_TYPE) {
      const statement = parseOrNull(decodeUtf8(o.payload));
      if (statement) visit(statement, depth + 1);
      return;
    }
    for (const v of Object.values(o)) visit(v, depth + 1);
  };
  visit(data, 0);
  // The same checkpoint found twice in one file (a verified statement and the envelope it came from) counts once.
  const seen = new Set<string>();
  return out.filter((a) => {
    let key: string;
    try {
      key = canonicalJson(a.checkpoint);
    } catch {
      key = JSON.stringify(a.checkpoint);
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
