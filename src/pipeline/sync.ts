/**
 * The sync flow (SYNC_AND_CERTIFY): declared `.github/environment.json` -> audit GitHub -> plan ->
 * apply -> certify -> record -> propose the `discovered` inventory as a pull request.
 *
 * Safety:
 * - the declaration is read from the default branch; another ref is refused for an apply unless the
 *   repository's `.github/autonomy.yml` (always read from the default branch) sets
 *   `allow_sync_from_non_default_branch` (a dry run from any ref is allowed: it writes nothing);
 * - a malformed file throws SchemaError before anything is read from or written to GitHub;
 * - deletions need `prune: true` in the file and `confirmPrune` here; values are never logged.
 *
 * Cost: the audit uses conditional requests with the ETags kept in the ledger's SyncState, so an
 * unchanged scope answers 304 (free against the rate limit) from the cached inventory. A sync with no
 * drift makes no write at all: no GitHub write, no ledger commit, no pull request.
 */
import {
  ENVIRONMENT_FILE_PATH,
  SchemaError,
  SyncState,
  parseRepoFullName,
  type Certificate,
  type Change,
  type EnvironmentFile,
  type RepoRef,
} from '../core/schemas/index.js';
import { reportHash, signCertificate } from '../core/certificate/index.js';
import { canonicalJson } from '../core/canonical.js';
import {
  REPOSITORY,
  bridgeKey,
  discoveredInventory,
  environmentOf,
  environmentScope,
  fingerprintKey,
  planSync,
  renderDriftTable,
  resolveFromEnv,
  sameDiscovered,
  toScopeLabel,
  type ActualInventory,
  type ActualScope,
  type ScopeLabel,
  type SyncPlan,
  type SyncItemResult,
  type SyncReport,
} from '../core/env-plan/index.js';
import { executeSync, syncValueResolver, toPortScope, type PaceOptions } from '../engines/env-sync.js';
import { fingerprintValue } from '../engines/fingerprint.js';
import { errorMessage, permissionOf, type EngineResult } from '../engines/report.js';
import { ProposalPullRequestError, type EnvironmentInfo, type GitHubPort } from '../ports/index.js';
import { auditEntry } from './audit.js';
import type { PipelineContext } from './context.js';
import { fingerprintKeyOf } from './fingerprint-key.js';
import { loadRepoConfig, parseEnvironmentFile } from './repo-files.js';

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

// ---------------------------------------------------------------------------------------- audit

type CachedVariable = { name: string; value: string };
type CachedSecret = { name: string; updated_at: string | null };

export interface AuditResult {
  actual: ActualInventory;
  etags: Record<string, string>;
  inventory: Record<string, unknown>;
  calls: number;
  notModified: number;
}

/** Audit keys in SyncState.etags / SyncState.inventory. */
export const auditKey = {
  environments: 'environments',
  variables: (scope: ScopeLabel): string => `variables:${scope}`,
  secrets: (scope: ScopeLabel): string => `secrets:${scope}`,
};

/**
 * Reads what GitHub holds with conditional requests: an ETag is sent only when the ledger also holds
 * the inventory it describes, and a 304 answer reuses that inventory.
 * `scopes`: which scopes' items to read (null: the repository and every environment on GitHub).
 */
export async function auditInventory(
  github: Pick<GitHubPort, 'listEnvironments' | 'listVariables' | 'listSecrets'>,
  repo: RepoRef,
  sync: SyncState,
  scopes: Set<ScopeLabel> | null,
  opts: { useEtags?: boolean } = {},
): Promise<AuditResult> {
  const etags: Record<string, string> = { ...sync.etags };
  const inventory: Record<string, unknown> = { ...sync.inventory };
  let calls = 0;
  let notModified = 0;
  const useEtags = opts.useEtags ?? true;

  async function conditional<T>(key: string, valid: (x: unknown) => x is T[], fetch: (etag: string | null) => Promise<{ etag: string | null; notModified: boolean; data: T[] | null }>): Promise<T[]> {
    const cached = inventory[key];
    const etag = useEtags && valid(cached) ? etags[key] ?? null : null;
    calls += 1;
    let res = await fetch(etag);
    if (res.notModified) {
      if (etag !== null && valid(cached)) {
        notModified += 1;
        return cached;
      }
      calls += 1;
      res = await fetch(null);
    }
    const data = res.data ?? [];
    if (res.etag) etags[key] = res.etag;
    else delete etags[key];
    inventory[key] = data;
    return data;
  }

  const isArrayOf = <T>(check: (x: Record<string, unknown>) => boolean) => (x: unknown): x is T[] =>
    Array.isArray(x) && x.every((e) => typeof e === 'object' && e !== null && check(e as Record<string, unknown>));
  const validEnvs = isArrayOf<EnvironmentInfo>((e) => typeof e.name === 'string');
  const validVars = isArrayOf<CachedVariable>((e) => typeof e.name === 'string' && typeof e.value === 'string');
  const validSecrets = isArrayOf<CachedSecret>((e) => typeof e.name === 'string');

  const readScope = async (scope: ScopeLabel): Promise<ActualScope> => {
    const portScope = toPortScope(scope);
    const secrets = await conditional(auditKey.secrets(scope), validSecrets, async (etag) => {
      const r = await github.listSecrets(repo, portScope, etag);
      return { ...r, data: r.data?.map((s): CachedSecret => ({ name: s.name.toUpperCase(), updated_at: s.updated_at ?? null })) ?? null };
    });
    const variables = await conditional(auditKey.variables(scope), validVars, async (etag) => {
      const r = await github.listVariables(repo, portScope, etag);
      return { ...r, data: r.data?.map((v): CachedVariable => ({ name: v.name.toUpperCase(), value: v.value })) ?? null };
    });
    return {
      variables: Object.fromEntries(variables.map((v) => [v.name, v.value])),
      secrets: Object.fromEntries(secrets.map((s) => [s.name, { updated_at: s.updated_at }])),
    };
  };

  const envs = await conditional(auditKey.environments, validEnvs, async (etag) => {
    const r = await github.listEnvironments(repo, etag);
    return { ...r, data: r.data?.map(stripEnvironment) ?? null };
  });
  const actual: ActualInventory = {
    repository: scopes === null || scopes.has(REPOSITORY) ? await readScope(REPOSITORY) : { variables: {}, secrets: {} },
    environments: {},
  };
  for (const env of [...envs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const scope = environmentScope(env.name);
    const audited = scopes === null || scopes.has(scope);
    const items = audited ? await readScope(scope) : { variables: {}, secrets: {} };
    const { name: _n, ...settings } = env;
    actual.environments[env.name] = { ...items, settings, audited };
  }
  return { actual, etags, inventory, calls, notModified };
}

/** Only the settings env sync manages (and canonical: absent stays absent). */
function stripEnvironment(e: EnvironmentInfo): EnvironmentInfo {
  const out: EnvironmentInfo = { name: e.name };
  if (e.wait_timer !== undefined) out.wait_timer = e.wait_timer;
  if (e.prevent_self_review !== undefined) out.prevent_self_review = e.prevent_self_review;
  if (e.reviewers !== undefined) out.reviewers = e.reviewers.map((r) => ({ type: r.type, id: r.id }));
  if (e.deployment_branch_policy !== undefined) out.deployment_branch_policy = e.deployment_branch_policy;
  return out;
}

// ---------------------------------------------------------------------------------------- flow

const normalizeRef = (ref: string): string => ref.replace(/^refs\/heads\//, '');


const CHANGE_OP = { add: 'create', update: 'update', delete: 'delete' } as const;

/** The certificate entry of one applied sync item (fingerprints only). */
const changeOf = (r: SyncItemResult): Change => ({
  target: r.item.name,
  kind: r.item.kind,
  scope: r.item.scope,
  op: CHANGE_OP[r.item.op as keyof typeof CHANGE_OP] ?? 'noop',
  before_fingerprint: r.before_fingerprint,
  after_fingerprint: r.after_fingerprint,
});

export async function sync(ctx: PipelineContext, opts: SyncOptions): Promise<SyncResult> {
  const repository = opts.repository;
  const repo = parseRepoFullName(repository);
  const gh = ctx.github;
  const envFilePath = opts.envFilePath ?? ENVIRONMENT_FILE_PATH;
  const notes: string[] = [];

  // 1. Declaration: from the default branch (the config deciding that is always read from there).
  const defaultBranch = await gh.getDefaultBranch(repo);
  const config = await loadRepoConfig(gh, repo, defaultBranch);
  const ref = opts.ref ? normalizeRef(opts.ref) : defaultBranch;
  if (ref !== defaultBranch && !opts.dryRun && !config.allow_sync_from_non_default_branch) {
    throw new SyncRefusedError(
      `refusing to apply ${envFilePath} from ${ref}: only the default branch (${defaultBranch}) is trusted; ` +
        'run with --dry-run to preview, or set allow_sync_from_non_default_branch: true in .github/autonomy.yml',
    );
  }
  const file = await gh.readFile(repo, envFilePath, ref);
  if (!file) throw new SchemaError(envFilePath, [{ path: '(root)', message: `not found on ${ref}: declare the environment first (see docs/env-sync.md)` }]);
  const declared = parseEnvironmentFile(file.content, envFilePath);
  if (opts.environment !== undefined && !declared.environments[opts.environment]) {
    notes.push(`environment ${opts.environment} is not declared in ${envFilePath}: nothing to sync in it`);
  }

  // 2. Memory: ETags, cached inventory, fingerprints of what we wrote.
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const snapshot = await ledger.read();
  const syncState = SyncState.parse(snapshot.sync ?? {});

  // 3. Audit.
  const scopeFilter = opts.environment === undefined ? undefined : [environmentScope(opts.environment), ...(opts.includeRepositoryScope ? [REPOSITORY] : [])];
  const auditScopes = scopeFilter ? new Set(scopeFilter.map(toScopeLabel)) : null;
  const audit = await auditInventory(gh, repo, syncState, auditScopes);

  // 4. Plan.
  const fpKey = await fingerprintKeyOf(ctx.signer);
  const fingerprintOf = (v: string): string => fingerprintValue(v, fpKey);
  const plan = planSync({
    declared,
    actual: audit.actual,
    sync: syncState,
    fingerprintOf,
    resolveVariable: resolveFromEnv(ctx.env, ctx.fromEnvRefusal),
    ...(scopeFilter ? { scopeFilter } : {}),
    ...(opts.names ? { names: opts.names } : {}),
  });
  const title = `Environment drift: ${repository}`;
  const requests: SyncRequests = { audit: audit.calls, notModified: audit.notModified, writes: 0, verify: 0 };
  const base = { repository, plan, certificate: null, prUrl: null, requests, certified: false, notes };

  if (opts.dryRun) {
    notes.push(`dry run: ${plan.writes} write(s) planned, nothing written`);
    return { ...base, dryRun: true, report: null, driftTable: renderDriftTable(plan, undefined, { title: `${title} (dry run)` }) };
  }

  // 5. Apply.
  const report = await executeSync(gh, plan, {
    repo,
    confirmPrune: opts.confirmPrune,
    dryRun: false,
    pace: opts.pace ?? DEFAULT_PACE,
    sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    now: () => ctx.now().getTime(),
    values: syncValueResolver(ctx.env, ctx.randomBytes, ctx.fromEnvRefusal),
    fingerprintOf,
  });
  requests.writes = report.writeAttempts;
  const applied = report.results.filter((r) => r.status === 'applied');

  // 6. Certify: read the effect back (this also refreshes the ETags, so the next sync gets 304s).
  let after = audit;
  let certified = applied.length > 0;
  if (applied.length > 0) {
    // Forget the cached lists we changed (they are read in full again); the others still answer 304.
    const touched = new Set(applied.map((r) => (r.item.kind === 'environment' ? auditKey.environments : r.item.kind === 'secret' ? auditKey.secrets(r.item.scope) : auditKey.variables(r.item.scope))));
    const stale: SyncState = {
      ...syncState,
      etags: audit.etags,
      inventory: Object.fromEntries(Object.entries(audit.inventory).filter(([k]) => !touched.has(k))),
    };
    after = await auditInventory(gh, repo, stale, auditScopes);
    requests.verify = after.calls;
    for (const r of applied) {
      const env = environmentOf(r.item.scope);
      const scope = env === null ? after.actual.repository : after.actual.environments[env];
      const holds =
        r.item.kind === 'environment'
          ? after.actual.environments[r.item.name] !== undefined
          : r.item.op === 'delete'
            ? !(r.item.name in (r.item.kind === 'secret' ? scope?.secrets ?? {} : scope?.variables ?? {}))
            : r.item.kind === 'secret'
              ? scope?.secrets[r.item.name] !== undefined
              : scope?.variables[r.item.name] !== undefined && fingerprintOf(scope.variables[r.item.name]!) === r.after_fingerprint;
      if (!holds) {
        certified = false;
        notes.push(`not confirmed on GitHub after writing: ${r.item.kind} ${r.item.name} (${r.item.scope})`);
      }
    }
  }

  // 7. Record: SyncState and the certificate in one ledger commit (only when something changed).
  const changes: Change[] = applied.map(changeOf);
  const memoryChanged = canonicalJson(after.etags) !== canonicalJson(syncState.etags) || canonicalJson(after.inventory) !== canonicalJson(syncState.inventory);
  let certificate: Certificate | null = null;
  const certify = (opts.certify ?? true) && changes.length > 0;
  const summaryLine = `env sync: ${report.applied} applied, ${report.failed} failed, ${report.skipped} skipped`;
  if (changes.length > 0 || report.failed > 0 || memoryChanged) {
    await ledger.commit(`${summaryLine} (${repository})`, async (snap) => {
      const latest = SyncState.parse(snap.sync ?? {});
      const next: SyncState = {
        ...latest,
        etags: { ...latest.etags, ...after.etags },
        inventory: { ...latest.inventory, ...after.inventory },
        secret_fingerprints: { ...latest.secret_fingerprints },
        created_by_bridge: [...latest.created_by_bridge],
        last_sync_at: ctx.now().toISOString(),
      };
      const createdSet = new Set(next.created_by_bridge);
      for (const r of applied) {
        const key = bridgeKey(r.item.kind, r.item.scope, r.item.name);
        if (r.item.op === 'delete') {
          createdSet.delete(key);
          if (r.item.kind === 'secret') delete next.secret_fingerprints[fingerprintKey(r.item.scope, r.item.name)];
          continue;
        }
        if (r.created) createdSet.add(key);
        if (r.item.kind === 'secret' && r.after_fingerprint) {
          const env = environmentOf(r.item.scope);
          const scope = env === null ? after.actual.repository : after.actual.environments[env];
          next.secret_fingerprints[fingerprintKey(r.item.scope, r.item.name)] = {
            fingerprint: r.after_fingerprint,
            updated_at: scope?.secrets[r.item.name]?.updated_at ?? null,
          };
        }
      }
      next.created_by_bridge = [...createdSet].sort();
      if (!certify) {
        return { sync: next, audit: [auditEntry(ctx, repository, 'env_sync', summaryLine)] };
      }
      certificate = await signCertificate(
        {
          timestamp: ctx.now().toISOString(),
          action: 'SYNC_AND_CERTIFY',
          reason: `${envFilePath} synced: ${plan.summary.add} add, ${plan.summary.update} update, ${plan.summary.delete} delete planned; ${report.applied} applied, ${report.failed} failed`,
          targets: changes.map((c) => `${c.kind}:${c.scope}/${c.target}`),
          certified,
          report_hash: reportHash({
            plan: plan.items.map((i) => ({ op: i.op, kind: i.kind, scope: i.scope, name: i.name, reason: i.reason })),
            results: report.results.map((r) => ({ kind: r.item.kind, scope: r.item.scope, name: r.item.name, status: r.status, detail: r.detail, before: r.before_fingerprint, after: r.after_fingerprint })),
          }),
          repository,
          run_id: null,
          run_attempt: null,
          policy_version: snap.state.policy.version,
          changes,
          previous_certificate_hash: snap.lastCertificateHash,
          sequence: snap.certificateCount + 1,
          certificate_type: 'sync',
          decision: { dry_run: false, confirm_prune: opts.confirmPrune, ref, scopes: plan.scopes },
        },
        ctx.signer,
      );
      const cert: Certificate = certificate;
      return {
        sync: next,
        state: { ...snap.state, last_certificate_hash: cert.certificate_hash },
        certificates: [cert],
        publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
        audit: [auditEntry(ctx, repository, 'env_sync', summaryLine, { certificateHash: cert.certificate_hash })],
      };
    });
  }
  const cert = certificate as Certificate | null;

  // 8. Propose the discovered inventory (full syncs only: a filtered audit saw only part of GitHub).
  let prUrl: string | null = null;
  if ((opts.writeBack ?? true) && auditScopes === null && !opts.names) {
    try {
      prUrl = await proposeDiscovered(ctx, repo, defaultBranch, envFilePath, file.content, declared, after.actual);
    } catch (err) {
      notes.push(`could not propose the discovered inventory: ${errorMessage(err).split('\n')[0]}`);
    }
  }

  if (report.failed > 0) notes.push(`${report.failed} item(s) failed; the next sync retries them`);
  if (report.applied > 0) {
    ctx.observer?.emit({ type: 'autonomy.sync.applied', repository, at: ctx.now().toISOString(), door: ctx.door, applied: report.applied, failed: report.failed, skipped: report.skipped, certificate_hash: cert?.certificate_hash ?? null });
  }
  if (cert) notes.push(`certificate ${cert.certificate_hash.slice(0, 16)}`);
  if (prUrl) notes.push(`discovered inventory proposed: ${prUrl}`);
  return {
    ...base,
    dryRun: false,
    report,
    certificate: cert,
    certified,
    prUrl,
    driftTable: renderDriftTable(plan, report, { title }),
  };
}

/**
 * Writes `discovered` into environment.json on DISCOVERED_BRANCH and opens (or keeps) one PR to the
 * default branch. Never pushes to the default branch; does nothing when the inventory is unchanged.
 */
async function proposeDiscovered(
  ctx: PipelineContext,
  repo: RepoRef,
  defaultBranch: string,
  path: string,
  rawText: string,
  declared: EnvironmentFile,
  actual: ActualInventory,
): Promise<string | null> {
  const gh = ctx.github;
  const discovered = discoveredInventory(actual, declared, ctx.now());
  if (sameDiscovered(declared.discovered, discovered)) return null;

  const raw = JSON.parse(rawText) as Record<string, unknown>;
  raw.discovered = discovered;
  const names = [
    ...discovered.repository.variables.map((n) => `variable \`${n}\` (repository)`),
    ...discovered.repository.secrets.map((n) => `secret \`${n}\` (repository)`),
    ...Object.entries(discovered.environments).flatMap(([e, d]) => [
      ...(d.variables.length + d.secrets.length === 0 ? [`environment \`${e}\``] : []),
      ...d.variables.map((n) => `variable \`${n}\` (environment ${e})`),
      ...d.secrets.map((n) => `secret \`${n}\` (environment ${e})`),
    ]),
  ];
  // One branch, one pull request: an existing proposal that already records this inventory is kept as is.
  const proposed = await gh.proposeFile(repo, {
    branch: DISCOVERED_BRANCH,
    base: defaultBranch,
    path,
    content: `${JSON.stringify(raw, null, 2)}\n`,
    message: `env sync: update discovered inventory in ${path}`,
    sameAs: (onBranch) => {
      try {
        return sameDiscovered(parseEnvironmentFile(onBranch, path).discovered, discovered);
      } catch {
        return false;
      }
    },
    pr: {
      title: 'Living Bridge: record items found on GitHub but not declared',
      body: [
        `Env sync found these on GitHub that \`${path}\` does not declare. This PR records them in the generated \`discovered\` section (names only, never values).`,
        '',
        ...names.map((n) => `- ${n}`),
        '',
        'Merging changes nothing on GitHub. To manage one of them, move it into `repository` or `environments` with its source; to remove them, set `prune: true` on the scope and run sync with confirmation.',
        '',
        '<!-- living-bridge:environment-discovered -->',
      ].join('\n'),
    },
  }).catch((err: unknown) => {
    throw err instanceof ProposalPullRequestError ? err.cause : err;
  });
  return proposed.pullRequest.html_url;
}

/**
 * SYNC_AND_CERTIFY for a `variable.missing` incident: sync only that name (in the repository scope
 * and, when the run had one, its environment), record SyncState, and report the change for the
 * heal flow, whose action certificate covers it (so one heal yields one certificate).
 */
export async function syncForIncident(
  ctx: PipelineContext,
  repository: string,
  environment: string | undefined | null,
  variableName: string,
): Promise<EngineResult> {
  const action = 'SYNC_AND_CERTIFY' as const;
  try {
    const result = await sync(ctx, {
      repository,
      ...(environment ? { environment, includeRepositoryScope: true } : {}),
      names: [variableName],
      dryRun: false,
      confirmPrune: false,
      certify: false,
      writeBack: false,
    });
    const report = result.report;
    const wanted = result.plan.items.filter((i) => i.kind !== 'environment' && i.name === variableName.toUpperCase() && i.declared);
    const changes: Change[] = (report?.results ?? []).filter((r) => r.status === 'applied').map(changeOf);
    const notes = [
      ...(report?.results ?? []).map((r) => `${r.item.kind} ${r.item.name} (${r.item.scope}): ${r.status}${r.status === 'applied' ? '' : ` — ${r.detail}`}`),
      ...result.notes,
    ];
    const failed = report?.results.find((r) => r.status === 'failed');
    const escalated = result.plan.items.find((i) => i.op === 'escalate' && i.name === variableName.toUpperCase());
    if (wanted.length === 0) {
      return { action, ok: false, certified: false, changes, notes, error: `${variableName} is not declared in ${ENVIRONMENT_FILE_PATH}: Living Bridge never invents a variable; declare it with its value or source` };
    }
    if (failed) {
      return { action, ok: false, certified: false, changes, notes, error: `${failed.item.kind} ${failed.item.name}: ${failed.detail}`, ...(failed.missingPermission ? { missingPermission: failed.missingPermission } : {}) };
    }
    if (escalated) return { action, ok: false, certified: false, changes, notes, error: escalated.reason };
    if (changes.length === 0) notes.push(`${variableName} already holds its declared value on GitHub`);
    return { action, ok: true, certified: changes.length === 0 || result.certified, changes, notes };
  } catch (err) {
    const permission = permissionOf(err);
    return {
      action,
      ok: false,
      certified: false,
      changes: [],
      notes: [],
      error: `env sync: ${errorMessage(err).split('\n')[0]}`,
      ...(permission ? { missingPermission: permission } : {}),
    };
  }
}
