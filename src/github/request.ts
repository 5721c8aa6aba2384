/**
 * The request layer every GitHub port module shares: one `request(route, params)` (ours from
 * createOctokit() or Probot's `context.octokit`), permission errors turned typed, pagination over
 * Link headers, conditional reads (If-None-Match / 304, free against the rate limit) over the
 * process-wide caches, and the route helpers (scopes, encoded paths).
 */
import type { Logger } from 'pino';
import type { Conditional, Scope } from '../ports/index.js';
import { GitHubCache, sharedGitHubCache } from './cache.js';
import { GitHubPermissionError, githubMessage, isNotFound, isNotModified, isPermissionError, type GitHubPermission } from './errors.js';

export interface OctokitResponseLike {
  status: number;
  url: string;
  headers: Record<string, string | number | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}
/** The part of Octokit the adapter uses: `request(route, params)`. Probot's and ours both fit. */
export interface OctokitLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request: (route: string, parameters?: Record<string, any>) => Promise<OctokitResponseLike>;
}

export type Params = Record<string, unknown>;
export type Send = (route: string, params?: Params) => Promise<OctokitResponseLike>;

/** Variables list endpoints accept at most 30 per page; everything else here 100. */
export const VARIABLES_PER_PAGE = 30;
export const PER_PAGE = 100;
export const BRIDGE_LABEL = 'living-bridge';

export interface RequestLayerOptions {
  log?: Logger;
  /** Fetch used for the short-lived job-log URL (no auth header is sent there). */
  fetch?: typeof fetch;
  /** Label every issue the adapter creates carries, and findIssueByMarker filters by. */
  issueLabel?: string;
  /**
   * Response caches (git objects by sha, ETags of conditional reads, public keys). Default: the one
   * process-wide cache, so App jobs (each with a fresh adapter) share it. `false`: a private one.
   */
  cache?: GitHubCache | false;
  /** Names the GitHub host in cache keys; default: the client's base URL. */
  cacheScope?: string;
}

export const header = (res: OctokitResponseLike, name: string): string | null => {
  const v = res.headers[name] ?? res.headers[name.toLowerCase()];
  return v === undefined ? null : String(v);
};

/** `<url>; rel="next"` from a Link header. */
export function nextLink(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m?.[1]) return m[1];
  }
  return null;
}

/** Encodes each segment of a path or branch name, keeping the slashes. */
export const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** The route prefix of a secrets/variables scope: the repository's Actions, or one environment. */
export function scopeRoute(scope: Scope): { base: string; params: Params } {
  return scope.type === 'repository'
    ? { base: '/repos/{owner}/{repo}/actions', params: {} }
    : { base: '/repos/{owner}/{repo}/environments/{environment_name}', params: { environment_name: scope.name } };
}

/** The client's base URL (the GitHub host), read from octokit's endpoint defaults. */
export function baseUrlOf(octokit: OctokitLike): string {
  const defaults = (octokit.request as { endpoint?: { DEFAULTS?: { baseUrl?: unknown } } }).endpoint?.DEFAULTS;
  return typeof defaults?.baseUrl === 'string' ? defaults.baseUrl : 'https://api.github.com';
}

export class RequestLayer {
  readonly cache: GitHubCache;
  /** The GitHub host (part of every cache key that is not a git object id). */
  readonly cacheScope: string;
  readonly log: Logger | undefined;
  readonly fetchImpl: typeof fetch;
  readonly issueLabel: string;
  /** Default branch per repository (this adapter's lifetime). */
  readonly defaultBranches = new Map<string, string>();

  constructor(
    private readonly send: Send,
    opts: RequestLayerOptions & { cacheScope: string },
  ) {
    this.log = opts.log;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.issueLabel = opts.issueLabel ?? BRIDGE_LABEL;
    this.cache = opts.cache === false ? new GitHubCache({ maxBytes: 8 * 1024 * 1024 }) : (opts.cache ?? sharedGitHubCache);
    this.cacheScope = opts.cacheScope;
  }

  req(route: string, params: Params = {}): Promise<OctokitResponseLike> {
    return this.send(route, params);
  }

  /** Runs one call, turning 403 "not accessible" into GitHubPermissionError. */
  async call<T>(permission: GitHubPermission, operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isPermissionError(e)) throw new GitHubPermissionError(permission, operation, githubMessage(e));
      throw e;
    }
  }

  /** All items of a paginated list (array body, or `key` of an object body), following Link headers. */
  async paginate<R>(route: string, params: Params, key: string | null, first?: OctokitResponseLike): Promise<R[]> {
    let res = first ?? (await this.req(route, params));
    const items: R[] = [];
    for (;;) {
      const page: unknown = key === null ? res.data : (res.data as Record<string, unknown> | null)?.[key];
      if (Array.isArray(page)) items.push(...(page as R[]));
      const next = nextLink(header(res, 'link'));
      if (!next) return items;
      // The next URL already carries every query parameter; only headers travel along.
      res = await this.req(`GET ${next}`, params.headers ? { headers: params.headers } : {});
    }
  }

  /** A conditional paginated list: If-None-Match on the first page; 304 -> notModified. */
  async conditionalList<R, T>(route: string, params: Params, key: string, map: (r: R) => T, etag: string | null | undefined): Promise<Conditional<T[]>> {
    let first: OctokitResponseLike;
    try {
      first = await this.req(route, etag ? { ...params, headers: { 'if-none-match': etag } } : params);
    } catch (e) {
      if (isNotModified(e)) return { etag: etag ?? null, notModified: true, data: null };
      throw e;
    }
    const items = await this.paginate<R>(route, params, key, first);
    return { etag: header(first, 'etag'), notModified: false, data: items.map(map) };
  }

  /**
   * A GET with If-None-Match from the last ETag of `key`: a 304 (free against the rate limit) reuses
   * the answer mapped last time; a 200 is mapped and remembered with its ETag.
   */
  async conditionalGet<T>(key: string, route: string, params: Params, map: (res: OctokitResponseLike) => T | Promise<T>): Promise<T> {
    const ck = `${this.cacheScope}|${key}`;
    const cached = this.cache.conditional.get(ck);
    let res: OctokitResponseLike;
    try {
      res = await this.req(route, cached ? { ...params, headers: { 'if-none-match': cached.etag } } : params);
    } catch (e) {
      if (cached && isNotModified(e)) return cached.value as T;
      this.cache.conditional.delete(ck);
      throw e;
    }
    const value = await map(res);
    const etag = header(res, 'etag');
    if (etag && res.status === 200) this.cache.conditional.set(ck, { etag, value });
    else this.cache.conditional.delete(ck);
    return value;
  }

  /** The answer, or null on 404. */
  async getOrNull<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
}
