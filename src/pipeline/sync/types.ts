/**
 * The sync flow's options, result and its one typed state. The state grows stage by stage: each
 * stage takes the state the stages before it left and returns it with its own fields added, so a
 * stage can be run (and tested) alone from a state built by hand.
 */
import type { Certificate, EnvironmentFile, RepoConfig, RepoRef, SyncState } from '../../core/schemas/index.js';
import type { ScopeLabel, SyncItemResult, SyncPlan, SyncReport } from '../../core/env-plan/index.js';
import type { PaceOptions } from '../../engines/env-sync.js';
import type { Ledger } from '../../ledger/types.js';
import type { AuditResult } from './inventory.js';

/** Branch the `discovered` write-back is proposed from (one PR, updated in place). */
export const DISCOVERED_BRANCH = 'living-bridge/environment-discovered';
export const DEFAULT_PACE: PaceOptions = { maxWritesPerMinute: 80, burst: 10 };

export interface SyncOptions {
  /** "owner/name". */
  repository: string;
  /** Only this environment's scope (and the environment itself); omitted: every declared scope. */
  environment?: string;
  dryRun: boolean;
  /** Apply planned deletions (they are planned only in scopes with `prune: true`). */
  confirmPrune: boolean;
  /** Where to read environment.json from; default (and only, unless configured) the default branch. */
  ref?: string;
  /** Default `.github/environment.json`. */
  envFilePath?: string;
  /** Limit to these variable/secret names (the heal flow syncs one missing variable). */
  names?: string[];
  /** Include the repository scope when `environment` is set (items there are inherited by it). */
  includeRepositoryScope?: boolean;
  /** Write pacing (default 80 writes/minute, burst 10) and its clock; tests inject a fake one. */
  pace?: PaceOptions;
  sleep?: (ms: number) => Promise<void>;
  /** false: commit SyncState but no certificate (the heal flow certifies the change itself). */
  certify?: boolean;
  /** false: do not propose the discovered inventory (default true for unfiltered syncs). */
  writeBack?: boolean;
}

/** Port calls the sync made, by purpose (each is one REST request unless a list has several pages). */
export interface SyncRequests {
  /** Conditional list calls of the audit (secrets, variables, environments). */
  audit: number;
  /** Of those, answered 304 Not Modified (free against the rate limit). */
  notModified: number;
  /** Write calls (retries included). */
  writes: number;
  /** Re-reads after applying, to certify the effect and refresh the ETags. */
  verify: number;
}

export interface SyncResult {
  repository: string;
  dryRun: boolean;
  plan: SyncPlan;
  report: SyncReport | null;
  /** One per sync that changed something (null for dry runs, no-drift syncs and `certify: false`). */
  certificate: Certificate | null;
  /** Markdown, for the Action's job summary and PR comments. */
  driftTable: string;
  /** The pull request proposing the `discovered` section, when one was opened or updated. */
  prUrl: string | null;
  requests: SyncRequests;
  /** Whether the effect was read back from GitHub and holds for every applied item. */
  certified: boolean;
  /** Lines for terminals and comments (never values). */
  notes: string[];
}

export class SyncRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncRefusedError';
  }
}

/** 1. After reading the declaration. */
export interface Declared {
  opts: SyncOptions;
  repository: string;
  repo: RepoRef;
  envFilePath: string;
  defaultBranch: string;
  config: RepoConfig;
  /** The branch the declaration was read from. */
  ref: string;
  /** The declaration as stored (the write-back keeps its formatting of everything else). */
  rawText: string;
  declared: EnvironmentFile;
  /** Lines for the result (never values); every stage may add to them. */
  notes: string[];
}

/** 2. After reading the ledger's memory. */
export interface Remembered extends Declared {
  ledger: Ledger;
  syncState: SyncState;
}

/** 3. After auditing GitHub. */
export interface Audited extends Remembered {
  /** The scopes to sync when filtered (an environment, and the repository when asked); undefined: all. */
  scopeFilter: string[] | undefined;
  /** The scopes whose items were audited; null: all of them. */
  auditScopes: Set<ScopeLabel> | null;
  audit: AuditResult;
  requests: SyncRequests;
}

/** 4. After planning. */
export interface Planned extends Audited {
  plan: SyncPlan;
  /** Keyed fingerprint of a value (the ledger keeps fingerprints, never values). */
  fingerprintOf: (value: string) => string;
}

/** 5. After applying the plan. */
export interface Applied extends Planned {
  report: SyncReport;
  applied: SyncItemResult[];
}

/** 6. After reading the effect back. */
export interface Confirmed extends Applied {
  /** The audit after applying (the first audit when nothing was applied). */
  after: AuditResult;
  certified: boolean;
}

/** 7. After the ledger commit. */
export interface Recorded extends Confirmed {
  certificate: Certificate | null;
}

/** 8. After proposing the discovered inventory. */
export interface Proposed extends Recorded {
  prUrl: string | null;
}
