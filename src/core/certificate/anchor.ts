import { canonicalJson } from '../canonical.js';
import type { SignedCheckpoint } from '../schemas/checkpoint.js';
import type { Anchor } from './verify-ledger.js';

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
 * an artifact attestation (`gh attestation verify --format json` output included), the JSON GitHub
 * returns for check runs or comments, or any text with markers in it.
 */
export function anchorsInDocument(text: string, source: string): Anchor[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return anchorsInText(text, source);
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
    for (const v of Object.values(o)) visit(v, depth + 1);
  };
  visit(data, 0);
  return out;
}
