/**
 * One repository's turn in the scheduled env sync: restore its durable conditional-request state,
 * run the ordinary `sync()` flow (src/pipeline/sync.ts) and keep the state it leaves behind.
 *
 * Cost per turn with nothing drifted:
 * - nothing pushed since the last turn (the installation listing's `pushed_at` is unchanged, as is the
 *   default branch): the declaration files and the ledger's SyncState are taken from the stored state
 *   without a request (a push is the only way either can change); only the audit lists go out, each
 *   conditional on the ETag kept in SyncState, so GitHub answers 304 — free against the rate limit;
 * - something was pushed: the files and the ledger ref are read conditionally as well (304 unless they
 *   changed), so a push elsewhere in the repository still costs no counted request.
 * A repository without the declaration file costs nothing until its `pushed_at` moves.
 */
import {
  ENVIRONMENT_FILE_PATH,
  SchemaError,
  SyncState,
  emptyGovernorState,
  parseRepoFullName,
  type RepoRef,
} from '../core/schemas/index.js';
import type { FileContent, GitHubPort } from '../ports/index.js';
import type { ConditionalEntry } from '../github/cache.js';
import type { DurableStateAdapter, InstallationRepository } from '../github/durable-state.js';
import type { LedgerCache, PersistedLedgerEntry } from '../ledger/index.js';
import type { Ledger, LedgerSnapshot } from '../ledger/types.js';
import type { PipelineContext } from '../pipeline/context.js';
import { sync, type SyncResult } from '../pipeline/sync.js';
import type { PaceOptions } from '../engines/env-sync.js';

/** What the schedule remembers of one repository between turns (JSON in the ScheduleStore). */
export interface RepoMemo {
  /** `pushed_at` and default branch as the listing showed them when this state was taken. */
  pushedAt: string | null;
  defaultBranch: string;
  /** false: the default branch has no environment.json (nothing to sync until a push). */
  declared: boolean;
  /** The adapter's conditional entries for this repository (file and ref ETags with their answers). */
  conditional: [string, ConditionalEntry][];
  /**
   * The ledger head and its SyncState (audit ETags, inventory, fingerprints) at that head, and the
   * ledger cache's entry (snapshot, tree listing, small texts) so a commit builds on it without reads.
   */
  ledger: { branch: string; head: string | null; sync: SyncState; entry: PersistedLedgerEntry | null } | null;
  /** The pass this repository was last synced in, and the last pass that read everything conditionally. */
  pass: number;
  fullPass: number;
  lastOutcome: 'clean' | 'changed' | 'undeclared' | 'failed';
  lastError?: string;
  syncedAt: string;
}

export interface RepoStepResult {
  memo: RepoMemo;
  outcome: RepoMemo['lastOutcome'];
  /** Writes this turn made (items, ledger commit, pull request), counted against the content-creation budget. */
  writes: number;
  /** Whether the files and ledger were trusted from the stored state (no push since). */
  trusted: boolean;
  result: SyncResult | null;
}

/** A port that answers the declaration reads from the restored state (callers decided nothing was pushed). */
function trustingPort(adapter: DurableStateAdapter): GitHubPort {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (prop === 'readFile') {
        return async (repo: RepoRef, path: string, ref?: string): Promise<FileContent | null> => {
          const known = target.cachedFile(repo, path, ref);
          return known !== undefined ? known : target.readFile(repo, path, ref);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The ledger sync() sees: its SyncState from the stored state when trusted; every commit goes to the real ledger. */
class RememberingLedger implements Ledger {
  seen: { head: string | null; sync: SyncState } | null = null;
  constructor(
    private readonly real: Ledger,
    private readonly trusted: { head: string | null; sync: SyncState } | null,
  ) {}
  get branch(): string {
    return this.real.branch;
  }
  async read(): Promise<LedgerSnapshot> {
    if (this.trusted) {
      this.seen = this.trusted;
      return {
        head: this.trusted.head,
        state: emptyGovernorState(),
        sync: this.trusted.sync,
        lastCertificateHash: null,
        certificateCount: 0,
        publicKeys: {},
        revokedGrantIds: [],
        grantUses: {},
        pendingApprovals: [],
        checkpoint: null,
      };
    }
    const snap = await this.real.read();
    this.seen = { head: snap.head, sync: snap.sync };
    return snap;
  }
  async commit(...args: Parameters<Ledger['commit']>): ReturnType<Ledger['commit']> {
    const done = await this.real.commit(...args);
    this.seen = { head: done.snapshot.head, sync: done.snapshot.sync };
    return done;
  }
  readCertificates(): ReturnType<Ledger['readCertificates']> {
    return this.real.readCertificates();
  }
  readCertificateFiles(): ReturnType<Ledger['readCertificateFiles']> {
    return this.real.readCertificateFiles();
  }
  readFile(path: string): Promise<string | null> {
    return this.real.readFile(path);
  }
}

export interface RepoStepOptions {
  ctx: PipelineContext;
  adapter: DurableStateAdapter;
  /** The ledger cache the context's ledgers use (its entry for this repository is kept in the memo). */
  ledgerCache: LedgerCache;
  listing: InstallationRepository;
  memo: RepoMemo | null;
  pass: number;
  /** Every this many passes a repository is read fully (conditionally) even without a push. */
  fullEvery: number;
  pace: PaceOptions;
  sleep: (ms: number) => Promise<void>;
}

/** A ledger entry bigger than this is not kept in the memo (a commit then reads the ledger once). */
const MAX_LEDGER_ENTRY_CHARS = 64 * 1024;

export async function syncRepositoryTurn(o: RepoStepOptions): Promise<RepoStepResult> {
  const { ctx, adapter, listing, memo } = o;
  const repo = parseRepoFullName(listing.fullName);
  adapter.rememberDefaultBranch(repo, listing.defaultBranch);
  if (memo) adapter.restoreConditional(memo.conditional);
  const withinFull = memo !== null && o.pass - memo.fullPass < o.fullEvery;
  // Files change only by a push: with pushed_at and the default branch unchanged they are taken as stored.
  const unpushed = withinFull && memo.pushedAt !== null && memo.pushedAt === listing.pushedAt && memo.defaultBranch === listing.defaultBranch;
  const base = { pushedAt: listing.pushedAt, defaultBranch: listing.defaultBranch, pass: o.pass, syncedAt: ctx.now().toISOString() };

  if (unpushed && !memo.declared) {
    return { memo: { ...memo, ...base }, outcome: 'undeclared', writes: 0, trusted: true, result: null };
  }
  // The ledger's SyncState is taken as stored even after a push: whatever another writer committed
  // meanwhile, our ETags still make valid conditional requests (a stale one costs a 200), and every
  // commit is a compare-and-swap that re-reads the ledger when its head moved.
  const storedLedger = withinFull ? memo.ledger : null;
  if (storedLedger?.entry) o.ledgerCache.importEntry(o.ledgerCache.key(adapter, repo, storedLedger.branch), storedLedger.entry);
  const writesBefore = adapter.writeRequests;
  let ledger: RememberingLedger | null = null;
  const stepCtx: PipelineContext = {
    ...ctx,
    github: unpushed ? trustingPort(adapter) : adapter,
    ledgerFor: (r, branch) => {
      const remembered = storedLedger?.branch === branch ? storedLedger : null;
      ledger = new RememberingLedger(ctx.ledgerFor(r, branch), remembered ? { head: remembered.head, sync: remembered.sync } : null);
      return ledger;
    },
  };
  const fullPass = withinFull ? memo.fullPass : o.pass;
  const ledgerMemo = (): RepoMemo['ledger'] => {
    const l = ledger as RememberingLedger | null;
    if (!l?.seen) return null;
    const entry = o.ledgerCache.exportEntry(o.ledgerCache.key(adapter, repo, l.branch));
    const small = entry && entry.snapshot.head === l.seen.head && JSON.stringify(entry).length <= MAX_LEDGER_ENTRY_CHARS ? entry : null;
    return { branch: l.branch, head: l.seen.head, sync: l.seen.sync, entry: small };
  };
  try {
    const result = await sync(stepCtx, { repository: listing.fullName, dryRun: false, confirmPrune: false, pace: o.pace, sleep: o.sleep });
    const changed = (result.report?.applied ?? 0) > 0 || result.prUrl !== null;
    const outcome = changed ? 'changed' : 'clean';
    const next: RepoMemo = { ...base, declared: true, conditional: adapter.exportConditional(repo), ledger: ledgerMemo(), fullPass, lastOutcome: outcome };
    return { memo: next, outcome, writes: adapter.writeRequests - writesBefore, trusted: unpushed, result };
  } catch (err) {
    const undeclared = err instanceof SchemaError && err.source === ENVIRONMENT_FILE_PATH && err.issues.some((i) => i.message.startsWith('not found'));
    const next: RepoMemo = {
      ...base,
      declared: !undeclared,
      conditional: adapter.exportConditional(repo),
      ledger: null,
      fullPass: o.pass,
      lastOutcome: undeclared ? 'undeclared' : 'failed',
      ...(undeclared ? {} : { lastError: (err as Error).message.split('\n')[0] ?? 'error' }),
    };
    return { memo: next, outcome: next.lastOutcome, writes: adapter.writeRequests - writesBefore, trusted: unpushed, result: null };
  }
}

/** Parses a stored RepoMemo; anything unreadable is treated as no memo (the next turn reads fully). */
export function parseRepoMemo(text: string | null): RepoMemo | null {
  if (!text) return null;
  try {
    const m = JSON.parse(text) as RepoMemo;
    if (typeof m !== 'object' || m === null || !Array.isArray(m.conditional) || typeof m.pass !== 'number') return null;
    if (m.ledger) m.ledger = { ...m.ledger, sync: SyncState.parse(m.ledger.sync ?? {}), entry: m.ledger.entry ?? null };
    return m;
  } catch {
    return null;
  }
}
