/**
 * Timestamps in state are ISO strings. Canonical UTC ones (what `toISOString()` writes:
 * `YYYY-MM-DDTHH:mm:ss.sssZ`) order lexicographically, so comparing them needs no parsing;
 * anything else (offsets, no milliseconds) is parsed. This keeps decide() allocation-light.
 */
export const isCanonical = (s: string): boolean =>
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

/**
 * `iso(nowMs − 1 h)` from `nowIso` without a Date: decrement the hour digits when the hour is not
 * 00 (23 times in 24); otherwise format the Date. Exact either way.
 */
export function isoHourBefore(nowIso: string, nowMs: number): string {
  if (isCanonical(nowIso)) {
    const hh = (nowIso.charCodeAt(11) - 48) * 10 + (nowIso.charCodeAt(12) - 48);
    if (hh >= 1 && hh <= 23) return `${nowIso.slice(0, 11)}${hh <= 10 ? '0' : ''}${hh - 1}${nowIso.slice(13)}`;
  }
  return iso(nowMs - 3_600_000);
}

/** Whether stored timestamp `a` is later than stored timestamp `b` (unparsable ones are never later). */
export function isLater(a: string, b: string): boolean {
  if (isCanonical(a) && isCanonical(b)) return a > b;
  const ma = Date.parse(a);
  const mb = Date.parse(b);
  return !Number.isNaN(ma) && (Number.isNaN(mb) || ma > mb);
}

/** cutoff < stored <= upper, for canonical `cutoff`/`upper` and their milliseconds. */
export function inWindow(stored: string, cutoffIso: string, cutoffMs: number, upperIso: string, upperMs: number): boolean {
  if (isCanonical(stored)) return stored > cutoffIso && stored <= upperIso;
  const ms = Date.parse(stored);
  return ms > cutoffMs && ms <= upperMs;
}
