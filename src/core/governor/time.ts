/**
 * Timestamps in state are ISO strings. Canonical UTC ones (what `toISOString()` writes:
 * `YYYY-MM-DDTHH:mm:ss.sssZ`) order lexicographically, so comparing them needs no parsing;
 * anything else (offsets, no milliseconds) is parsed. This keeps decide() allocation-light.
 */
const isCanonical = (s: string): boolean =>
  s.length === 24 && s.charCodeAt(23) === 90 /* Z */ && s.charCodeAt(10) === 84 /* T */ && s.charCodeAt(19) === 46; /* . */

/** Milliseconds since the epoch; NaN for an unparsable timestamp. */
export const toMs = (iso: string): number => Date.parse(iso);

/** Compare a stored timestamp with a canonical one: negative, zero or positive. NaN sorts first. */
export function compareIso(stored: string, canonical: string, canonicalMs: number): number {
  if (isCanonical(stored)) return stored < canonical ? -1 : stored > canonical ? 1 : 0;
  const ms = Date.parse(stored);
  if (Number.isNaN(ms)) return -1;
  return ms - canonicalMs;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
