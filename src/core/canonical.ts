import { createHash } from 'node:crypto';

/**
 * Canonical JSON in the style of RFC 8785 (JSON Canonicalization Scheme, JCS):
 *
 * - object members sorted by key, comparing UTF-16 code units (what `Array.prototype.sort` does);
 * - no insignificant whitespace;
 * - strings escaped as ECMAScript `JSON.stringify` escapes them (RFC 8785 §3.2.2.2);
 * - numbers in the ECMAScript shortest round-trip form (`-0` becomes `0`), RFC 8785 §3.2.2.3;
 * - `NaN`, `Infinity`, `bigint`, functions, symbols and `undefined` inside arrays are rejected
 *   (they have no JSON form, and silently turning them into `null` would sign something else);
 * - object members whose value is `undefined` are dropped (as `JSON.stringify` does), so an
 *   optional field left unset and an absent field hash the same;
 * - values with a `toJSON()` method (e.g. `Date`) are replaced by its result, as in `JSON.stringify`;
 * - other non-plain objects (Map, Set, class instances, typed arrays) and cycles are rejected.
 *
 * The output is a string; hash or sign its UTF-8 bytes (`utf8Bytes`).
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', new Set<object>());
}

export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`canonical JSON: ${path}: ${message}`);
    this.name = 'CanonicalJsonError';
  }
}

function serialize(value: unknown, path: string, stack: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${String(value)} has no JSON form`);
      // Object.is(-0, 0) aside, String() is the ECMAScript shortest round-trip form JCS prescribes.
      return Object.is(value, -0) ? '0' : String(value);
    case 'undefined':
      throw new CanonicalJsonError(path, 'undefined has no JSON form');
    case 'bigint':
      throw new CanonicalJsonError(path, 'bigint has no JSON form (convert it to a string or a safe number)');
    case 'function':
    case 'symbol':
      throw new CanonicalJsonError(path, `a ${typeof value} has no JSON form`);
    default:
      break;
  }
  const obj = value as object;
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return serialize((toJSON as (key: string) => unknown).call(obj, ''), path, stack);
  }
  if (stack.has(obj)) throw new CanonicalJsonError(path, 'cyclic structure');
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      const parts: string[] = [];
      for (let i = 0; i < obj.length; i++) {
        const item: unknown = obj[i];
        if (item === undefined) throw new CanonicalJsonError(`${path}[${i}]`, 'undefined (or a hole) inside an array has no JSON form');
        parts.push(serialize(item, `${path}[${i}]`, stack));
      }
      return `[${parts.join(',')}]`;
    }
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `a ${name} is not a plain JSON object`);
    }
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${serialize(member, `${path}.${key}`, stack)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    stack.delete(obj);
  }
}

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** SHA-256, lower-case hex. Strings are hashed as their UTF-8 bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(typeof data === 'string' ? utf8Bytes(data) : data).digest('hex');
}

/** SHA-256 of the canonical JSON of `value`, lower-case hex. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
