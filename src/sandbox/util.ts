/** Small helpers shared by the sandbox modules: errors, hashing, time, pagination. */
import { createHash, randomBytes } from 'node:crypto';

export const DOCS = 'https://docs.github.com/rest';

/** Thrown by handlers; the server renders it as GitHub does: `{message, documentation_url, ...extra}`. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (): SandboxHttpError => new SandboxHttpError(404, 'Not Found');

/** GitHub's 422 "Validation Failed" with an errors array. */
export function validationFailed(resource: string, field: string, code = 'missing_field', message?: string): SandboxHttpError {
  const err: Record<string, unknown> = { resource, code, field };
  if (message) err.message = message;
  return new SandboxHttpError(422, 'Validation Failed', { errors: [err] });
}

/** GitHub's 422 for a missing required body field on the actions endpoints. */
export function wasntSupplied(field: string): SandboxHttpError {
  return new SandboxHttpError(422, `Invalid request.\n\n"${field}" wasn't supplied.`);
}

export function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string') throw wasntSupplied(field);
  return v;
}

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
export const sha1Hex = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex');
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** GitHub timestamps: ISO 8601 without milliseconds. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function uuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface Page<T> { items: T[]; total: number; link: string | null }

/**
 * Paginate like GitHub: `per_page` (default 30, max 100) and `page` (1-based), with a `Link` header
 * carrying rel="next"/"last" (and "prev"/"first" past the first page).
 */
export function paginate<T>(all: T[], query: URLSearchParams, selfUrl: string): Page<T> {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(query.get('per_page') ?? '30', 10) || 30));
  const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);
  const lastPage = Math.max(1, Math.ceil(all.length / perPage));
  const items = all.slice((page - 1) * perPage, page * perPage);
  const at = (p: number): string => {
    const u = new URL(selfUrl);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return u.toString();
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < lastPage) rels.push(`<${at(page + 1)}>; rel="next"`, `<${at(lastPage)}>; rel="last"`);
  if (page > 1) rels.push(`<${at(1)}>; rel="first"`);
  return { items, total: all.length, link: rels.length ? rels.join(', ') : null };
}

/** Stable JSON: sorted keys, so ETags and fingerprints do not depend on insertion order. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
}
