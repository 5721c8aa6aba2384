/**
 * The adapter's process-wide response caches. Two kinds, both safe to share between every adapter
 * (and so every App job, whose context gets a fresh adapter) of one process:
 *
 * - **Immutable git objects** by sha: blob contents, tree listings, commit -> tree. A git object id
 *   is a hash of its content, so an entry can never be stale, whichever repository or host it came
 *   from; a caller only ever asks for a sha it got from an authorized listing.
 * - **Conditional GETs** by host + route: the last ETag and the mapped answer. The request still goes
 *   out with `If-None-Match`; GitHub answers 304 (free against the rate limit) only when the caller is
 *   authorized and the resource is byte-for-byte what the ETag describes, and only then is the cached
 *   answer reused. A stale entry therefore costs one ordinary 200, never a wrong answer.
 *
 * Both are bounded LRUs (by approximate bytes), so a long-running App does not grow without limit.
 */
import { createHash } from 'node:crypto';

/** Git's blob id: sha1("blob <len>\0<bytes>") (the ledger's own copy lives in src/ledger). */
export function gitBlobId(content: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])).digest('hex');
}

/** A Map in least-recently-used order, evicting the oldest entries beyond `maxBytes`. */
export class Lru<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V): void {
    const size = this.sizeOf(value) + key.length;
    if (size > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, { value, size });
    this.bytes += size;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.size;
    }
  }

  delete(key: string): void {
    const hit = this.map.get(key);
    if (!hit) return;
    this.map.delete(key);
    this.bytes -= hit.size;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  /** Every entry, oldest first (does not change the order). */
  *entries(): IterableIterator<[string, V]> {
    for (const [k, v] of this.map) yield [k, v.value];
  }

  get size(): number {
    return this.map.size;
  }
}

export interface TreeListing { tree: string; entries: { path: string; sha: string }[] }
export interface ConditionalEntry { etag: string; value: unknown }

const roughSize = (v: unknown): number => {
  if (typeof v === 'string') return v.length;
  try {
    return JSON.stringify(v)?.length ?? 64;
  } catch {
    return 1024;
  }
};

export class GitHubCache {
  /** blob sha -> utf-8 content */
  readonly blobs: Lru<string>;
  /** tree sha -> recursive blob listing */
  readonly trees: Lru<TreeListing>;
  /** commit sha -> tree sha */
  readonly commits: Lru<string>;
  /** host + route -> last ETag and the mapped answer */
  readonly conditional: Lru<ConditionalEntry>;
  /** host + repo + scope -> secrets public key (refetched once when GitHub rejects its key_id) */
  readonly publicKeys: Lru<{ key_id: string; key: string }>;

  constructor(opts: { maxBytes?: number } = {}) {
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    this.blobs = new Lru(max / 2, (s) => s.length);
    this.trees = new Lru(max / 4, (t) => t.entries.length * 96);
    this.commits = new Lru(1024 * 1024, () => 96);
    this.conditional = new Lru(max / 4, (e) => roughSize(e.value) + e.etag.length);
    this.publicKeys = new Lru(1024 * 1024, (k) => k.key.length + k.key_id.length);
  }

  clear(): void {
    this.blobs.clear();
    this.trees.clear();
    this.commits.clear();
    this.conditional.clear();
    this.publicKeys.clear();
  }
}

/** The cache every adapter of this process shares unless given its own. */
export const sharedGitHubCache = new GitHubCache();

/** Forgets everything cached (tests that replay fixed shas with different content through nock). */
export function resetGitHubCache(): void {
  sharedGitHubCache.clear();
}
