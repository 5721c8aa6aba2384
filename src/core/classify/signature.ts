/**
 * The normalized signature of a failure: what stays the same when the same failure happens again (another run,
 * another day, another runner) and differs between different failures. It is computed from the deciding error
 * lines of the top incident (the lines the rules matched), or from the last error-looking lines when nothing was
 * recognised. Numbers, hashes, durations, quoted values, URLs' query strings, masked values and runner paths are
 * replaced by placeholders before hashing.
 */
import { createHash } from 'node:crypto';
import type { Incident } from '../schemas/index.js';

const MAX_LINES = 3;

/** One deciding line in normalized form (exported for tests and for the explanation). */
export function normalizeDecidingLine(line: string): string {
  return line
    .toLowerCase()
    .replace(/\*\*\*/g, '<masked>')
    .replace(/https?:\/\/[^\s'"`)]+/g, (u) => u.replace(/[?#].*$/, '').replace(/\/[0-9a-f]{7,}(?=\/|$)/g, '/<hex>').replace(/\/\d+(?=\/|$)/g, '/<n>'))
    .replace(/\/(?:home\/runner|runner|__w|github)\/work\/[^\s'"`]*/g, '<path>')
    .replace(/\b[0-9a-f]{7,}\b/g, '<hex>')
    .replace(/\b\d+(?:\.\d+)*(?:ms|s|m|kb|mb|gb|%)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Signature of a classified failure, or null when there are no lines to sign. */
export function failureSignature(incidents: readonly Incident[]): { signature: string; lines: string[] } | null {
  const top = incidents[0];
  if (!top || top.evidence.length === 0) return null;
  const lines = top.evidence.slice(0, MAX_LINES).map((e) => normalizeDecidingLine(e.text)).filter((l) => l.length > 0);
  if (lines.length === 0) return null;
  return { signature: createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16), lines };
}
