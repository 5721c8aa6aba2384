/**
 * The snapshot cache: the last snapshot seen per ledger branch (after a read and after each of our
 * own commits), so that a read whose branch head did not move costs one ref request (a 304 with the
 * GitHub adapter) and a commit can build on it without reading at all (the compare-and-swap on the
 * ref catches a stale one, and the retry re-reads bypassing the cache). Entries are keyed by the
 * port's `cacheScope` (the API base URL for the GitHub adapter) or, for ports without one, by the
 * port instance.
 */
import type { RepoRef } from '../core/schemas/index.js';
import type { GitDataPort } from '../ports/index.js';
import type { LedgerSnapshot } from './types.js';

/** A snapshot with what is needed to build the next commit on it. */
export interface LoadedLedger {
  snapshot: LedgerSnapshot;
  tree: string | null;
  /** path -> blob sha of every file at the snapshot's commit. */
  blobs: Map<string, string>;
  /** blob sha -> text, for the files this process read or wrote at that commit. */
  texts: Map<string, string>;
}

/** A LedgerCache entry as JSON (see LedgerCache.exportEntry). */
export interface PersistedLedgerEntry {
  snapshot: LedgerSnapshot;
  tree: string | null;
  blobs: [string, string][];
  texts: [string, string][];
}

/** Files up to this size are written by the tree call itself and their texts are kept in the cache. */
export const INLINE_MAX = 256 * 1024;

/** Snapshots are plain JSON data; a JSON copy keeps them plain objects of this realm (structuredClone may not). */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A cached snapshot, copied so callers can never change the cache (texts are shared: a blob id names its content). */
export function copyLoaded(l: LoadedLedger): LoadedLedger {
  return { snapshot: cloneJson(l.snapshot), tree: l.tree, blobs: new Map(l.blobs), texts: l.texts };
}

/** Texts still named by a blob of `blobs`, large ones left out (the adapter's bounded blob cache may still hold them). */
export function liveTexts(blobs: ReadonlyMap<string, string>, texts: Iterable<[string, string]>): Map<string, string> {
  const live = new Set(blobs.values());
  return new Map([...texts].filter(([sha, text]) => live.has(sha) && text.length <= INLINE_MAX));
}

export class LedgerCache {
  private readonly entries = new Map<string, LoadedLedger>();
  private readonly instanceScopes = new WeakMap<object, string>();
  private nextScope = 0;

  constructor(private readonly maxEntries = 2000) {}

  key(git: GitDataPort, repo: RepoRef, branch: string): string {
    let scope = git.cacheScope;
    if (scope === undefined) {
      scope = this.instanceScopes.get(git);
      if (scope === undefined) {
        scope = `port#${++this.nextScope}`;
        this.instanceScopes.set(git, scope);
      }
    }
    return `${scope}|${repo.owner}/${repo.repo}|${branch}`.toLowerCase();
  }

  /** The entry (marked most recently used), or undefined. */
  get(key: string): LoadedLedger | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Stores an entry; the least recently used ones go when there are more than `maxEntries`. */
  set(key: string, loaded: LoadedLedger): void {
    this.entries.delete(key);
    this.entries.set(key, loaded);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * One entry as plain JSON for a durable store (src/schedule keeps it across restarts), texts over
   * `maxTextBytes` left out (re-read by sha when a commit needs them); null when not cached.
   */
  exportEntry(key: string, maxTextBytes = 32 * 1024): PersistedLedgerEntry | null {
    const hit = this.entries.get(key);
    if (!hit) return null;
    return {
      snapshot: cloneJson(hit.snapshot),
      tree: hit.tree,
      blobs: [...hit.blobs],
      texts: [...hit.texts].filter(([, text]) => text.length <= maxTextBytes),
    };
  }

  /** Restores an exported entry. A stale one is harmless: reads check the head, commits compare-and-swap. */
  importEntry(key: string, e: PersistedLedgerEntry): void {
    if (!e || typeof e !== 'object' || !e.snapshot || !Array.isArray(e.blobs) || !Array.isArray(e.texts)) return;
    this.set(key, { snapshot: cloneJson(e.snapshot), tree: e.tree ?? null, blobs: new Map(e.blobs), texts: new Map(e.texts) });
  }
}

/** The cache every ledger of this process shares unless given its own. */
export const sharedLedgerCache = new LedgerCache();

/** Forgets every cached snapshot (tests that replay fixed shas with different content). */
export function resetLedgerCache(): void {
  sharedLedgerCache.clear();
}
