/**
 * "Did you mean …?" for schema errors: the keys a zod schema allows at a path (read from the schema
 * itself, so it can never drift from what is validated) and the closest of them to a misspelling.
 */
import type { z } from 'zod';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; valueType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; getter?: () => z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at this level may be (wrappers unwrapped, union branches listed). */
function objectsOf(schema: z.ZodType, depth = 0): Def[] {
  if (depth > 20) return [];
  const d = defOf(schema);
  switch (d.type) {
    case 'object': return [d];
    case 'default': case 'optional': case 'nullable': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return objectsOf(d.innerType!, depth + 1);
    case 'pipe': return objectsOf(d.in!, depth + 1);
    case 'lazy': return objectsOf(d.getter!(), depth + 1);
    case 'union': return (d.options ?? []).flatMap((o) => objectsOf(o, depth + 1));
    default: return [];
  }
}

/** The schemas of the value under `key` (a record's value type, an array's element, an object's field). */
function childrenOf(schema: z.ZodType, key: PropertyKey, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const d = defOf(schema);
  switch (d.type) {
    case 'object': return d.shape && typeof key === 'string' && key in d.shape ? [d.shape[key]!] : [];
    case 'record': return d.valueType ? [d.valueType] : [];
    case 'array': return d.element ? [d.element] : [];
    case 'default': case 'optional': case 'nullable': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return childrenOf(d.innerType!, key, depth + 1);
    case 'pipe': return childrenOf(d.in!, key, depth + 1);
    case 'lazy': return childrenOf(d.getter!(), key, depth + 1);
    case 'union': return (d.options ?? []).flatMap((o) => childrenOf(o, key, depth + 1));
    default: return [];
  }
}

/** Every key an object at `path` may have (empty when the schema there is not an object). */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let level: z.ZodType[] = [schema];
  for (const seg of path) level = level.flatMap((s) => childrenOf(s, seg));
  return [...new Set(level.flatMap((s) => objectsOf(s)).flatMap((d) => Object.keys(d.shape ?? {})))];
}

/** Levenshtein distance (small strings only: keys and option names). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `word` when it is close enough to be a typo (case and - vs _ ignored), else null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  let best: { c: string; d: number } | null = null;
  for (const c of candidates) {
    const d = editDistance(norm(word), norm(c));
    if (!best || d < best.d) best = { c, d };
  }
  if (!best) return null;
  const limit = Math.max(1, Math.min(3, Math.ceil(Math.max(word.length, best.c.length) / 3)));
  return best.d <= limit && best.c !== word ? best.c : null;
}
