/**
 * The env-sync planner: declared `environment.json` vs what GitHub holds -> the minimal change.
 *
 * Shaped like the Probot Settings app's `Diffable`: for every declared entry find the existing
 * record with the same name; none -> add, different -> update; every existing record nobody
 * declared -> remove. Unlike Diffable, removal happens only in scopes with `prune: true` (and the
 * engine also wants a confirmation at apply time), and secrets are never read: whether a present
 * secret still holds what we wrote is answered by the keyed fingerprint kept in SyncState.
 *
 * Pure: no I/O, no clock, no environment. Values come through the injected `resolveVariable`
 * and are only ever turned into fingerprints by the injected `fingerprintOf`.
 */
import { canonicalJson } from '../canonical.js';
import type {
  DeclaredScope,
  EnvironmentFile,
  EnvironmentSettings,
  SecretSource,
  SyncState,
  VariableSource,
} from '../schemas/index.js';
import {
  REPOSITORY,
  environmentOf,
  environmentScope,
  type ActualInventory,
  type ActualScope,
  type Resolved,
  type ScopeLabel,
  type SyncKind,
  type SyncOp,
  type SyncPlan,
  type SyncPlanItem,
} from './types.js';

/** A source whose value can be resolved without randomness: a variable's, or a `from_env` secret's. */
export type ResolvableSource = VariableSource | Extract<SecretSource, { source: 'from_env' }>;

export interface PlanInput {
  declared: EnvironmentFile;
  actual: ActualInventory;
  sync: SyncState;
  /**
   * Limit the plan to scopes: "repository", "environment:<name>" or a bare environment name
   * (one or several). Omitted: every declared scope.
   */
  scopeFilter?: string | string[];
  /** Limit the plan to these variable/secret names (case-insensitive), e.g. one missing variable. */
  names?: string[];
  /** Keyed hash of a value (injected: the key lives outside the core). */
  fingerprintOf: (value: string) => string;
  /** Resolves a declared value source (literal, or the healer's environment). */
  resolveVariable: (source: ResolvableSource) => Resolved;
}

/** SyncState.secret_fingerprints key. */
export const fingerprintKey = (scope: ScopeLabel, name: string): string => `${scope}/${name.toUpperCase()}`;
/** SyncState.created_by_bridge entry. */
export const bridgeKey = (kind: SyncKind, scope: ScopeLabel, name: string): string =>
  `${kind}:${scope}/${kind === 'environment' ? name : name.toUpperCase()}`;

/**
 * The resolver the doors use: literals as they are, `from_env` from the given environment. `refusal`
 * says why a name may not be read at all (the operator's allowlist), which beats "not set".
 */
export function resolveFromEnv(env: Record<string, string | undefined>, refusal: (name: string) => string | null = () => null): (source: ResolvableSource) => Resolved {
  return (source) => {
    if (typeof source === 'string') return { value: source };
    if ('value' in source) return { value: source.value };
    const name = 'from_env' in source ? source.from_env : source.env;
    const refused = refusal(name);
    if (refused) return { error: refused };
    const value = env[name];
    return value === undefined || value === '' ? { error: `$${name} is not set` } : { value };
  };
}

/** Normalizes a scope filter entry to a scope label. */
export function toScopeLabel(s: string): ScopeLabel {
  return s === REPOSITORY || s.startsWith('environment:') ? s : environmentScope(s);
}

const ORDER: Record<SyncKind, number> = { environment: 0, secret: 1, variable: 2 };

export function planSync(input: PlanInput): SyncPlan {
  const { declared, actual, sync, fingerprintOf, resolveVariable } = input;
  const filter = input.scopeFilter === undefined ? null : new Set([input.scopeFilter].flat().map(toScopeLabel));
  const names = input.names ? new Set(input.names.map((n) => n.toUpperCase())) : null;
  const inScope = (s: ScopeLabel): boolean => filter === null || filter.has(s);
  const nameOk = (n: string): boolean => names === null || names.has(n.toUpperCase());
  const created = new Set(sync.created_by_bridge);

  const items: SyncPlanItem[] = [];
  const renames: SyncPlan['renames'] = [];
  const scopes: ScopeLabel[] = [];

  const item = (p: Omit<SyncPlanItem, 'created_by_bridge' | 'before_fingerprint' | 'after_fingerprint'> & Partial<SyncPlanItem>): SyncPlanItem => ({
    before_fingerprint: null,
    after_fingerprint: null,
    ...p,
    created_by_bridge: created.has(bridgeKey(p.kind, p.scope, p.name)),
  });

  // Environments themselves: they must exist (and hold the declared settings) before their items.
  for (const envName of Object.keys(declared.environments).sort()) {
    const decl = declared.environments[envName]!;
    const scope = environmentScope(envName);
    if (!inScope(scope)) continue;
    const act = actual.environments[envName];
    if (!act) {
      items.push(item({
        op: 'add', kind: 'environment', scope, name: envName, declared: true,
        reason: 'declared environment does not exist on GitHub',
        settings: decl.settings ?? {},
        after_fingerprint: fingerprintOf(canonicalJson(decl.settings ?? {})),
      }));
      continue;
    }
    const diffs = decl.settings ? settingsDiff(decl.settings, act.settings) : [];
    if (diffs.length > 0 && names === null) {
      const merged = mergeSettings(act.settings, decl.settings!);
      items.push(item({
        op: 'update', kind: 'environment', scope, name: envName, declared: true,
        reason: `settings differ: ${diffs.join('; ')}`,
        settings: merged,
        before_fingerprint: fingerprintOf(canonicalJson(act.settings)),
        after_fingerprint: fingerprintOf(canonicalJson(merged)),
      }));
    } else if (names === null) {
      items.push(item({ op: 'noop', kind: 'environment', scope, name: envName, declared: true, reason: decl.settings ? 'settings in sync' : 'exists' }));
    }
  }

  const scopeList: [ScopeLabel, DeclaredScope][] = [
    [REPOSITORY, declared.repository],
    ...Object.keys(declared.environments).sort().map((n): [ScopeLabel, DeclaredScope] => [environmentScope(n), declared.environments[n]!]),
  ];

  for (const [scope, decl] of scopeList) {
    if (!inScope(scope)) continue;
    scopes.push(scope);
    const envName = environmentOf(scope);
    const actEnv = envName === null ? null : actual.environments[envName];
    const act: ActualScope = envName === null ? actual.repository : (actEnv ?? { variables: {}, secrets: {} });
    // An environment that exists but whose items were not read: nothing is known, plan nothing.
    const audited = envName === null || !actEnv || actEnv.audited;
    if (!audited) continue;

    planSecrets(scope, decl, act);
    planVariables(scope, decl, act);
  }

  function planVariables(scope: ScopeLabel, decl: DeclaredScope, act: ActualScope): void {
    const declaredNames = new Set<string>();
    const missing: { name: string; value: string; index: number }[] = [];
    for (const [raw, source] of sortedEntries(decl.variables)) {
      const name = raw.toUpperCase();
      if (declaredNames.has(name)) {
        if (nameOk(name)) items.push(item({ op: 'escalate', kind: 'variable', scope, name, declared: true, reason: `declared twice (names are case-insensitive on GitHub): "${raw}"` }));
        continue;
      }
      declaredNames.add(name);
      if (!nameOk(name)) continue;
      const resolved = resolveVariable(source);
      const current = act.variables[name];
      const before = current === undefined ? null : fingerprintOf(current);
      if ('error' in resolved) {
        items.push(item(current === undefined
          ? { op: 'escalate', kind: 'variable', scope, name, declared: true, reason: `missing, and its value is unavailable: ${resolved.error}` }
          : { op: 'noop', kind: 'variable', scope, name, declared: true, reason: `present; cannot check it here: ${resolved.error}`, before_fingerprint: before }));
        continue;
      }
      const after = fingerprintOf(resolved.value);
      if (current === undefined) {
        missing.push({ name, value: resolved.value, index: items.length });
        items.push(item({ op: 'add', kind: 'variable', scope, name, declared: true, reason: 'missing on GitHub', source, after_fingerprint: after }));
      } else if (current !== resolved.value) {
        items.push(item({ op: 'update', kind: 'variable', scope, name, declared: true, reason: 'value differs from the declared one', source, before_fingerprint: before, after_fingerprint: after }));
      } else {
        items.push(item({ op: 'noop', kind: 'variable', scope, name, declared: true, reason: 'in sync', before_fingerprint: before, after_fingerprint: after }));
      }
    }
    const undeclared = Object.keys(act.variables).filter((n) => !declaredNames.has(n)).sort();
    // Probable renames: an undeclared variable holding exactly the value of a missing declared one.
    const renamedTo = new Map<string, string[]>();
    for (const m of missing) {
      const from = undeclared.filter((u) => act.variables[u] === m.value);
      if (from.length === 0) continue;
      const target = items[m.index]!;
      target.renamed_from = from;
      target.reason = `missing on GitHub; probably renamed from ${from.join(' or ')} (same value)`;
      for (const f of from) {
        renames.push({ scope, kind: 'variable', from: f, to: m.name });
        renamedTo.set(f, [...(renamedTo.get(f) ?? []), m.name]);
      }
    }
    for (const name of undeclared) {
      if (!nameOk(name)) continue;
      items.push(undeclaredItem('variable', scope, name, decl.prune, fingerprintOf(act.variables[name]!), renamedTo.get(name)));
    }
  }

  function planSecrets(scope: ScopeLabel, decl: DeclaredScope, act: ActualScope): void {
    const declaredNames = new Set<string>();
    const missing: { name: string; fingerprint: string; index: number }[] = [];
    for (const [raw, source] of sortedEntries(decl.secrets)) {
      const name = raw.toUpperCase();
      if (declaredNames.has(name)) {
        if (nameOk(name)) items.push(item({ op: 'escalate', kind: 'secret', scope, name, declared: true, reason: `declared twice (names are case-insensitive on GitHub): "${raw}"` }));
        continue;
      }
      declaredNames.add(name);
      if (!nameOk(name)) continue;
      const present = act.secrets[name];
      const stored = sync.secret_fingerprints[fingerprintKey(scope, name)];
      const base = { kind: 'secret' as const, scope, name, declared: true, before_fingerprint: stored?.fingerprint ?? null };
      const describe = source.description ? ` (${source.description})` : '';
      if (source.source === 'external') {
        items.push(item(present
          ? { ...base, op: 'noop', reason: 'present (external: never written by Living Bridge)' }
          : { ...base, op: 'escalate', reason: `missing; external secret${describe}: a human or the owning system must set it` }));
        continue;
      }
      if (source.source === 'generate') {
        items.push(item(present
          ? { ...base, op: 'noop', reason: 'present (generated secrets are never rotated by sync)' }
          : { ...base, op: 'add', reason: `missing; will generate a ${source.length}-character ${source.charset} value`, source }));
        continue;
      }
      const resolved = resolveVariable(source);
      if ('error' in resolved) {
        items.push(item(present
          ? { ...base, op: 'noop', reason: `present; cannot check it here: ${resolved.error}` }
          : { ...base, op: 'escalate', reason: `missing, and its value is unavailable: ${resolved.error}` }));
        continue;
      }
      const after = fingerprintOf(resolved.value);
      if (!present) {
        missing.push({ name, fingerprint: after, index: items.length });
        items.push(item({ ...base, op: 'add', reason: `missing on GitHub; from $${source.env}`, source, after_fingerprint: after }));
      } else if (!stored) {
        items.push(item({ ...base, op: 'noop', reason: 'present; not written by Living Bridge (no fingerprint), left as is' }));
      } else if (stored.fingerprint !== after) {
        items.push(item({ ...base, op: 'update', reason: `declared value ($${source.env}) changed since Living Bridge wrote it`, source, after_fingerprint: after }));
      } else if (stored.updated_at !== null && present.updated_at !== null && stored.updated_at !== present.updated_at) {
        items.push(item({ ...base, op: 'noop', after_fingerprint: after, reason: `rewritten outside Living Bridge (updated ${present.updated_at}); value unknown, left as is` }));
      } else {
        items.push(item({ ...base, op: 'noop', after_fingerprint: after, reason: 'in sync (fingerprint matches what Living Bridge wrote)' }));
      }
    }
    const undeclared = Object.keys(act.secrets).filter((n) => !declaredNames.has(n)).sort();
    // Secrets cannot be read, but one we wrote has a fingerprint: same fingerprint -> same value.
    const renamedTo = new Map<string, string[]>();
    for (const m of missing) {
      const from = undeclared.filter((u) => sync.secret_fingerprints[fingerprintKey(scope, u)]?.fingerprint === m.fingerprint);
      if (from.length === 0) continue;
      const target = items[m.index]!;
      target.renamed_from = from;
      target.reason = `missing on GitHub; probably renamed from ${from.join(' or ')} (same fingerprint)`;
      for (const f of from) {
        renames.push({ scope, kind: 'secret', from: f, to: m.name });
        renamedTo.set(f, [...(renamedTo.get(f) ?? []), m.name]);
      }
    }
    for (const name of undeclared) {
      if (!nameOk(name)) continue;
      items.push(undeclaredItem('secret', scope, name, decl.prune, sync.secret_fingerprints[fingerprintKey(scope, name)]?.fingerprint ?? null, renamedTo.get(name)));
    }
  }

  function undeclaredItem(kind: 'variable' | 'secret', scope: ScopeLabel, name: string, prune: boolean, before: string | null, renamedTo: string[] | undefined): SyncPlanItem {
    const ours = created.has(bridgeKey(kind, scope, name));
    const hint = renamedTo ? `; probably the old name of ${renamedTo.join(' and ')}` : '';
    if (!prune) {
      return item({ op: 'noop', kind, scope, name, declared: false, before_fingerprint: before, reason: `not declared; kept (prune is off)${hint}` });
    }
    return item({
      op: 'delete', kind, scope, name, declared: false, before_fingerprint: before,
      reason: `not declared and prune is on${ours ? ' (created by Living Bridge)' : '; NOT created by Living Bridge'}${hint}`,
    });
  }

  // Environments first, then each scope's items, deletions last; stable within a phase.
  const phase = (i: SyncPlanItem): number => (i.kind === 'environment' ? 0 : i.op === 'delete' ? 2 : 1);
  const scopeIndex = (s: ScopeLabel): number => (s === REPOSITORY ? -1 : scopes.indexOf(s));
  const ordered = items
    .map((it, idx) => ({ it, idx }))
    .sort((a, b) => phase(a.it) - phase(b.it) || scopeIndex(a.it.scope) - scopeIndex(b.it.scope) || ORDER[a.it.kind] - ORDER[b.it.kind] || a.idx - b.idx)
    .map((x) => x.it);

  const summary: Record<SyncOp, number> = { add: 0, update: 0, delete: 0, escalate: 0, noop: 0 };
  for (const i of ordered) summary[i.op] += 1;
  const deletions = ordered.filter((i) => i.op === 'delete');
  return {
    items: ordered,
    summary,
    writes: summary.add + summary.update + summary.delete,
    deletions,
    foreignDeletions: deletions.filter((i) => !i.created_by_bridge),
    renames,
    scopes,
  };
}

function sortedEntries<T>(rec: Record<string, T>): [string, T][] {
  return Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const reviewerKey = (r: { type: string; id: number }[] | undefined): string =>
  (r ?? []).map((x) => `${x.type}:${x.id}`).sort().join(',');

/** Declared settings GitHub does not hold, as "field: actual -> declared" (no values of secrets here). */
export function settingsDiff(decl: EnvironmentSettings, act: EnvironmentSettings): string[] {
  const out: string[] = [];
  if (decl.wait_timer !== undefined && decl.wait_timer !== (act.wait_timer ?? 0)) {
    out.push(`wait_timer ${act.wait_timer ?? 0} -> ${decl.wait_timer}`);
  }
  // GitHub reports prevent_self_review only inside a required_reviewers rule: unreported is unknown, not false.
  if (decl.prevent_self_review !== undefined && act.prevent_self_review !== undefined && decl.prevent_self_review !== act.prevent_self_review) {
    out.push(`prevent_self_review ${String(act.prevent_self_review)} -> ${String(decl.prevent_self_review)}`);
  }
  if (decl.reviewers !== undefined && reviewerKey(decl.reviewers) !== reviewerKey(act.reviewers)) {
    out.push(`reviewers [${reviewerKey(act.reviewers)}] -> [${reviewerKey(decl.reviewers)}]`);
  }
  if (decl.deployment_branch_policy !== undefined && canonicalJson(decl.deployment_branch_policy) !== canonicalJson(act.deployment_branch_policy ?? null)) {
    out.push(`deployment_branch_policy ${canonicalJson(act.deployment_branch_policy ?? null)} -> ${canonicalJson(decl.deployment_branch_policy)}`);
  }
  return out;
}

/** What to PUT: GitHub's current settings with the declared fields laid over them. */
export function mergeSettings(act: EnvironmentSettings, decl: EnvironmentSettings): EnvironmentSettings {
  const out: EnvironmentSettings = { ...act };
  for (const [k, v] of Object.entries(decl) as [keyof EnvironmentSettings, unknown][]) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
