/**
 * Env sync's plain data: what GitHub holds (ActualInventory), what should change (SyncPlan).
 * Values never appear here: variables and secrets are described by keyed fingerprints only, so a
 * plan can be printed, committed to the ledger and posted in a PR comment.
 */
import type { EnvironmentSettings, SecretSource, VariableSource } from '../schemas/index.js';

/** "repository" or "environment:<name>" (the same spelling as ports/github.ts `scopeLabel`). */
export type ScopeLabel = string;
export const REPOSITORY = 'repository';
export const environmentScope = (name: string): ScopeLabel => `environment:${name}`;
/** The environment name of a scope label, or null for the repository scope. */
export const environmentOf = (scope: ScopeLabel): string | null =>
  scope.startsWith('environment:') ? scope.slice('environment:'.length) : null;

/** One scope as read from GitHub. Names are upper-case, as GitHub stores them. */
export interface ActualScope {
  /** NAME -> value (variables are readable). */
  variables: Record<string, string>;
  /** NAME -> GitHub's updated_at (secret values are never readable). */
  secrets: Record<string, { updated_at: string | null }>;
}

export interface ActualEnvironment extends ActualScope {
  settings: EnvironmentSettings;
  /** false when the environment exists but its secrets and variables were not read (filtered out). */
  audited: boolean;
}

/** What GitHub holds for one repository, as far as env sync looked. */
export interface ActualInventory {
  repository: ActualScope;
  /** Environments that exist on GitHub, by name. */
  environments: Record<string, ActualEnvironment>;
}

export type SyncOp = 'add' | 'update' | 'delete' | 'escalate' | 'noop';
export type SyncKind = 'variable' | 'secret' | 'environment';

export interface SyncPlanItem {
  op: SyncOp;
  kind: SyncKind;
  scope: ScopeLabel;
  /** Upper-cased variable/secret name, or the environment name for kind "environment". */
  name: string;
  /** Why, in one line; never a value. */
  reason: string;
  /** SyncState.created_by_bridge holds this item (meaningful for deletions). */
  created_by_bridge: boolean;
  /** The item is declared in environment.json (false: found on GitHub only). */
  declared: boolean;
  /** Where the value comes from (variables and secrets that are written). Never a resolved secret value. */
  source?: VariableSource | SecretSource;
  /** Environments: the full settings to PUT (actual overlaid with declared). */
  settings?: EnvironmentSettings;
  /** A probable earlier name of this item (an undeclared item holding exactly its value). */
  renamed_from?: string[];
  /** Keyed fingerprint of the value GitHub holds now (variables; secrets: what we last wrote), if known. */
  before_fingerprint: string | null;
  /** Keyed fingerprint of the value the item will hold, when known before applying. */
  after_fingerprint: string | null;
}

export interface SyncPlan {
  /** Environments first, then per scope: secrets and variables, deletions last. */
  items: SyncPlanItem[];
  summary: Record<SyncOp, number>;
  /** Number of items that would write (add, update, delete). */
  writes: number;
  /** Planned deletions (only from scopes with `prune: true`). */
  deletions: SyncPlanItem[];
  /** Planned deletions of items Living Bridge did not create: listed separately, reviewed with care. */
  foreignDeletions: SyncPlanItem[];
  /** Probable renames: an undeclared item holding exactly the value of a missing declared one. */
  renames: { scope: ScopeLabel; kind: 'variable' | 'secret'; from: string; to: string }[];
  /** Scopes that were planned (after the filter). */
  scopes: ScopeLabel[];
}

/** Result of resolving a value source: the value, or why it could not be resolved. */
export type Resolved = { value: string } | { error: string };

/** What happened to one plan item at apply time. */
export type ItemStatus = 'applied' | 'failed' | 'skipped';

export interface SyncItemResult {
  item: SyncPlanItem;
  status: ItemStatus;
  /** One line: what was done, or why not (never a value). */
  detail: string;
  before_fingerprint: string | null;
  after_fingerprint: string | null;
  /** GitHub created the item (rather than updating it). */
  created?: boolean;
  /** Missing permission when GitHub answered 403 for it. */
  missingPermission?: string;
}

/** The engine's account of one apply: every planned item, applied, failed or skipped. */
export interface SyncReport {
  results: SyncItemResult[];
  applied: number;
  failed: number;
  skipped: number;
  /** Write requests attempted through the port (retries included). */
  writeAttempts: number;
  /** Time spent waiting for the write pace or a retry-after, in ms (injected clock). */
  waitedMs: number;
  dryRun: boolean;
}
