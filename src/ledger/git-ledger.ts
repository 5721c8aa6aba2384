/**
 * The repository is the database: a ledger branch written through the git data API
 * (blobs -> tree on base_tree -> commit -> fast-forward the ref), with compare-and-swap on the
 * branch ref. A writer that lost the race re-reads, re-runs `mutate` on the fresh snapshot and
 * tries again, so nothing another writer committed is ever lost.
 *
 * Composed of four pieces, each tested on its own:
 *   snapshot.ts    reads the branch at a commit into a snapshot
 *   cache.ts       the last snapshot per branch (reads that cost one ref request, commits that need no read)
 *   write-plan.ts  which files a LedgerWrite changes, and every refusal, before anything is written
 *   cas.ts         the compare-and-swap retry loop (backoff, conflicts, stale cached bases)
 */
import type { Logger } from 'pino';
import { Certificate, repoFullName, type RepoRef } from '../core/schemas/index.js';
import type { Signer } from '../core/certificate/index.js';
import type { GitDataPort, GitTreeEntry } from '../ports/index.js';
import { restoreStaged, stageWrite, takeStaged, withStaged, type StagedWrite } from './staged.js';
import { INLINE_MAX, LedgerCache, cloneJson, copyLoaded, liveTexts, sharedLedgerCache, type LoadedLedger } from './cache.js';
import { isRefConflict, retryCompareAndSwap, type AttemptOutcome } from './cas.js';
import { CERTIFICATE_FILE, DEFAULT_LEDGER_BRANCH, LEDGER_ROOT } from './layout.js';
import { SnapshotReader } from './snapshot.js';
import { gitBlobSha, ledgerRelative, planWrite, type PlanContext } from './write-plan.js';
import type { Ledger, LedgerSnapshot, LedgerWrite } from './types.js';

export { LedgerCache, resetLedgerCache, sharedLedgerCache, type PersistedLedgerEntry } from './cache.js';
export { LedgerConflictError, LedgerCorruptError, LedgerWriteError } from './errors.js';
export { gitBlobSha } from './write-plan.js';

export interface GitLedgerOptions {
  /**
   * Snapshot cache shared by the ledgers of this process (default: the process-wide one). `false`
   * turns caching off: every read and every commit attempt reads the branch in full.
   */
  cache?: LedgerCache | false;
  /** Compare-and-swap attempts before giving up (default 8). */
  maxAttempts?: number;
  /** Clock for audit entries without a parsable month (default: system clock). */
  now?: () => Date;
  /** Waits between attempts; injected so tests run without sleeping. */
  delay?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  log?: Logger;
  /**
   * Signs the checkpoint (`.bridge/checkpoint.json`) written with every commit that adds certificates.
   * Without one the ledger is read-only as far as certificates go: it refuses to add them.
   */
  signer?: Signer;
}

type CommitResult = { commitSha: string; snapshot: LedgerSnapshot; attempts: number };

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class GitLedger implements Ledger {
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: Logger | undefined;
  private readonly cache: LedgerCache | null;
  private readonly cacheKey: string;
  private readonly reader: SnapshotReader;
  private readonly planContext: PlanContext;

  constructor(
    private readonly git: GitDataPort,
    private readonly repo: RepoRef,
    readonly branch: string = DEFAULT_LEDGER_BRANCH,
    opts: GitLedgerOptions = {},
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 8);
    this.now = opts.now ?? (() => new Date());
    this.delay = opts.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.log = opts.log;
    this.cache = opts.cache === false ? null : (opts.cache ?? sharedLedgerCache);
    this.cacheKey = (this.cache ?? sharedLedgerCache).key(git, repo, branch);
    this.reader = new SnapshotReader(git, repo, branch);
    this.planContext = {
      repository: repoFullName(repo),
      branch,
      now: this.now,
      signer: opts.signer,
      readText: (at, path) => this.reader.readText(at, path),
    };
  }

  // ------------------------------------------------------------------ reading

  /**
   * The branch as it is now: reads the head (one conditional request) and reuses the cached snapshot
   * when the head did not move; otherwise reads the tree listing and the blobs of what changed.
   */
  private async load(): Promise<LoadedLedger> {
    const head = await this.reader.head();
    const cached = this.cache?.get(this.cacheKey);
    if (cached && cached.snapshot.head === head) return copyLoaded(cached);
    const loaded = await this.reader.loadAt(head, cached);
    this.cache?.set(this.cacheKey, loaded);
    return copyLoaded(loaded);
  }

  async read(): Promise<LedgerSnapshot> {
    return (await this.load()).snapshot;
  }

  private async certificateBlobs(): Promise<[string, string][]> {
    const cur = await this.load();
    return [...cur.blobs].filter(([p]) => CERTIFICATE_FILE.test(p)).sort(([a], [b]) => a.localeCompare(b));
  }

  async readCertificates(): Promise<Certificate[]> {
    return mapLimit(await this.certificateBlobs(), 8, async ([path, sha]) => this.reader.parseJson(Certificate, await this.reader.readBlob(sha), path));
  }

  async readCertificateFiles(): Promise<{ path: string; text: string }[]> {
    return mapLimit(await this.certificateBlobs(), 8, async ([path, sha]) => ({ path, text: await this.reader.readBlob(sha) }));
  }

  async readFile(path: string): Promise<string | null> {
    const rel = ledgerRelative(path);
    const cur = await this.load();
    return this.reader.readText(cur, `${LEDGER_ROOT}/${rel}`);
  }

  // ------------------------------------------------------------------ writing

  /** Blobs (large files only) -> tree on the base tree -> commit -> create or fast-forward the ref. */
  private async writeCommit(cur: LoadedLedger, files: Map<string, string>, message: string): Promise<{ commitSha: string; tree: string }> {
    const head = cur.snapshot.head;
    const entries: GitTreeEntry[] = await mapLimit([...files], 4, async ([path, content]) =>
      Buffer.byteLength(content, 'utf8') <= INLINE_MAX
        ? { path, mode: '100644' as const, type: 'blob' as const, sha: null, content }
        : { path, mode: '100644' as const, type: 'blob' as const, sha: await this.git.createBlob(this.repo, content) },
    );
    const tree = await this.git.createTree(this.repo, cur.tree, entries);
    const commitSha = await this.git.createCommit(this.repo, message, tree, head === null ? [] : [head]);
    if (head === null) await this.git.createBranch(this.repo, this.branch, commitSha);
    else await this.git.updateBranch(this.repo, this.branch, commitSha);
    return { commitSha, tree };
  }

  /** After our own commit the cache holds the new snapshot, so the next commit needs no read. */
  private remember(cur: LoadedLedger, files: Map<string, string>, snapshot: LedgerSnapshot, tree: string): void {
    const blobs = new Map(cur.blobs);
    const texts = new Map(cur.texts);
    for (const [path, content] of files) {
      const sha = gitBlobSha(content);
      blobs.set(path, sha);
      texts.set(sha, content);
    }
    this.cache?.set(this.cacheKey, { snapshot: cloneJson(snapshot), tree, blobs, texts: liveTexts(blobs, texts) });
  }

  /** Keeps a write for this branch's next commit (see staged.ts) instead of committing it now. */
  stage(message: string, mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>): void {
    stageWrite(this.cacheKey, { message, mutate });
  }

  async flush(): Promise<void> {
    const staged = takeStaged(this.cacheKey);
    if (staged.length === 0) return;
    const [first, ...rest] = staged as [StagedWrite, ...StagedWrite[]];
    try {
      const combined = withStaged(rest, first.message, first.mutate);
      await this.commitNow(combined.message, combined.mutate);
    } catch (err) {
      restoreStaged(this.cacheKey, staged);
      throw err;
    }
  }

  async commit(message: string, mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>): Promise<CommitResult> {
    // Writes staged for this branch travel in this commit; if it fails they wait for the next one.
    const staged = takeStaged(this.cacheKey);
    try {
      const combined = withStaged(staged, message, mutate);
      return await this.commitNow(combined.message, combined.mutate);
    } catch (err) {
      restoreStaged(this.cacheKey, staged);
      throw err;
    }
  }

  private async commitNow(message: string, mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>): Promise<CommitResult> {
    // The first attempt may build on the cached snapshot without reading the branch: when the branch
    // moved meanwhile, the compare-and-swap on the ref refuses it exactly like a lost race, and every
    // retry re-reads the branch. (Not with maxAttempts 1, where a stale cache would leave no retry.)
    const cached = this.maxAttempts > 1 ? this.cache?.get(this.cacheKey) : undefined;
    const retry = { branch: this.branch, maxAttempts: this.maxAttempts, speculative: cached !== undefined, delay: this.delay, random: this.random };
    return retryCompareAndSwap(retry, (attempt, fromCache) => this.attempt(message, mutate, attempt, fromCache ? cached : undefined));
  }

  /** One attempt: plan on `base` (a cached snapshot) or on a fresh read, then write and move the ref. */
  private async attempt(
    message: string,
    mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>,
    attempt: number,
    base: LoadedLedger | undefined,
  ): Promise<AttemptOutcome<CommitResult>> {
    const cur = base ? copyLoaded(base) : await this.load();
    const head = cur.snapshot.head;
    // Whatever was computed from a cached snapshot stands only if that snapshot is still the branch.
    const stale = async (): Promise<boolean> => {
      if (!base || (await this.reader.head()) === head) return false;
      this.cache?.delete(this.cacheKey);
      return true;
    };
    let plan;
    try {
      plan = await planWrite(cur, await mutate(structuredClone(cur.snapshot)), this.planContext);
    } catch (e) {
      if (await stale()) return { kind: 'stale' };
      throw e;
    }
    if (plan.files.size === 0 && head !== null) {
      // Nothing to write: confirm a cached snapshot is current before calling it the ledger's state.
      if (await stale()) return { kind: 'stale' };
      return { kind: 'done', result: { commitSha: head, snapshot: cur.snapshot, attempts: attempt } };
    }
    let written: { commitSha: string; tree: string };
    try {
      written = await this.writeCommit(cur, plan.files, message);
    } catch (e) {
      if (!isRefConflict(e)) {
        // A cached snapshot may name a tree or branch that is gone: read the branch and try again.
        if (base) {
          this.cache?.delete(this.cacheKey);
          return { kind: 'stale' };
        }
        throw e;
      }
      this.cache?.delete(this.cacheKey);
      this.log?.info({ repository: repoFullName(this.repo), branch: this.branch, attempt }, 'ledger ref moved; re-reading and retrying');
      return { kind: 'conflict' };
    }
    const snapshot: LedgerSnapshot = { ...plan.next, head: written.commitSha };
    this.remember(cur, plan.files, snapshot, written.tree);
    return { kind: 'done', result: { commitSha: written.commitSha, snapshot, attempts: attempt } };
  }
}

/** A ledger on `branch` of `repo`, written through `git` (the GitHub adapter or an in-memory port). */
export function createGitLedger(git: GitDataPort, repo: RepoRef, branch: string = DEFAULT_LEDGER_BRANCH, opts: GitLedgerOptions = {}): Ledger {
  return new GitLedger(git, repo, branch, opts);
}
