/**
 * SYNC_AND_CERTIFY's hands: applies an env-sync plan (src/core/env-plan) through the port.
 *
 * - Writes are serialized and paced: a token bucket (small burst, refilled at `maxWritesPerMinute`)
 *   plus a sliding one-minute window that never lets more than `maxWritesPerMinute` writes through,
 *   because GitHub's secondary limits allow about 80 content-creating requests a minute.
 * - A secondary-rate-limit answer (403/429 with `retry-after`, or GitHub's message) is waited out and
 *   retried; the Octokit throttling plugin usually does this first, this is the second line.
 * - Environments are created/updated (PUT) before their secrets and variables; variables are upserted
 *   (PATCH, on 404 POST, inside the adapter); secrets go through `setSecret` (the adapter seals them).
 * - One item failing never stops the others: the report says what was applied, what failed and what
 *   was skipped, and the next run converges because the planner only plans what is still missing.
 * - Deletions run only with `confirmPrune`; escalations are never writes.
 * Values only ever reach the port; the report carries keyed fingerprints.
 */
import type { RepoRef } from '../core/schemas/index.js';
import {
  environmentOf,
  resolveFromEnv,
  type Resolved,
  type ScopeLabel,
  type SyncItemResult,
  type SyncPlan,
  type SyncPlanItem,
  type SyncReport,
} from '../core/env-plan/index.js';
import { REPOSITORY_SCOPE, type EnvironmentsPort, type Scope, type SecretsPort, type VariablesPort } from '../ports/index.js';
import { generateSecretValue } from './create-secret.js';
import { errorMessage, permissionOf, redact } from './report.js';

export interface PaceOptions {
  /** Content-creating requests allowed per minute (GitHub: about 80). */
  maxWritesPerMinute: number;
  /** Writes allowed back to back before pacing starts (default 10). */
  burst?: number;
}

export interface ExecuteSyncOptions {
  repo: RepoRef;
  /** Deletions (planned only with `prune: true`) are applied only when this is true. */
  confirmPrune: boolean;
  /** Write nothing: every item is reported as skipped. */
  dryRun: boolean;
  pace: PaceOptions;
  sleep: (ms: number) => Promise<void>;
  /** Clock in ms (injected; tests use a fake one that `sleep` advances). */
  now: () => number;
  /** The value to write for a variable or secret item. */
  values: (item: SyncPlanItem) => Resolved | Promise<Resolved>;
  /** Keyed fingerprint of a written value (for the report and the certificate). */
  fingerprintOf: (value: string) => string;
  /** Retries of one write after a secondary rate limit (default 2). */
  maxRateLimitRetries?: number;
}

type EnvSyncPort = SecretsPort & VariablesPort & EnvironmentsPort;

export const toPortScope = (scope: ScopeLabel): Scope => {
  const env = environmentOf(scope);
  return env === null ? REPOSITORY_SCOPE : { type: 'environment', name: env };
};

/**
 * Paces writes: a token bucket of `burst` tokens refilled at `maxWritesPerMinute`, and a sliding
 * window that keeps any 60 s at or under `maxWritesPerMinute`. Clock and sleep are injected.
 */
export class WritePacer {
  private tokens: number;
  private last: number;
  private readonly window: number[] = [];
  private readonly ratePerMs: number;
  private readonly burst: number;
  waitedMs = 0;

  constructor(
    private readonly opts: PaceOptions,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(opts.maxWritesPerMinute > 0)) throw new Error('WritePacer: maxWritesPerMinute must be positive');
    this.burst = Math.max(1, Math.min(opts.burst ?? 10, opts.maxWritesPerMinute));
    this.tokens = this.burst;
    this.last = now();
    this.ratePerMs = opts.maxWritesPerMinute / 60_000;
  }

  /** Resolves when one more write may go out. */
  async acquire(): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.ratePerMs);
      this.last = t;
      while (this.window.length > 0 && this.window[0]! <= t - 60_000) this.window.shift();
      const windowWait = this.window.length >= this.opts.maxWritesPerMinute ? this.window[0]! + 60_000 - t : 0;
      const tokenWait = this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMs;
      const wait = Math.ceil(Math.max(windowWait, tokenWait));
      if (wait <= 0) {
        this.tokens -= 1;
        this.window.push(t);
        return;
      }
      await this.pause(wait);
    }
  }

  async pause(ms: number): Promise<void> {
    this.waitedMs += ms;
    await this.sleep(ms);
  }
}

/** Seconds GitHub asked us to wait, when `err` is a (secondary) rate limit answer; null otherwise. */
export function rateLimitRetryAfter(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { status?: unknown; message?: unknown; response?: { headers?: Record<string, unknown>; data?: { message?: unknown } } };
  if (e.status !== 403 && e.status !== 429) return null;
  const headers = e.response?.headers ?? {};
  const retryAfter = headers['retry-after'] ?? headers['Retry-After'];
  const message = `${typeof e.message === 'string' ? e.message : ''} ${typeof e.response?.data?.message === 'string' ? e.response.data.message : ''}`;
  const limited = retryAfter !== undefined || /rate limit/i.test(message) || headers['x-ratelimit-remaining'] === '0';
  if (!limited) return null;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? null : 60;
}

export async function executeSync(port: EnvSyncPort, plan: SyncPlan, opts: ExecuteSyncOptions): Promise<SyncReport> {
  const pacer = new WritePacer(opts.pace, opts.now, opts.sleep);
  const maxRetries = opts.maxRateLimitRetries ?? 2;
  const results: SyncItemResult[] = [];
  const brokenEnvironments = new Map<string, string>();
  let writeAttempts = 0;

  const write = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      await pacer.acquire();
      writeAttempts += 1;
      try {
        return await fn();
      } catch (err) {
        const wait = rateLimitRetryAfter(err);
        if (wait === null || attempt >= maxRetries) throw err;
        await pacer.pause(Math.max(1, wait) * 1000);
      }
    }
  };

  for (const item of plan.items) {
    if (item.op === 'noop') continue;
    const base = { item, before_fingerprint: item.before_fingerprint, after_fingerprint: item.after_fingerprint };
    const skip = (detail: string): void => { results.push({ ...base, status: 'skipped', detail }); };
    if (item.op === 'escalate') { skip(`needs a human: ${item.reason}`); continue; }
    if (opts.dryRun) { skip('dry run: nothing written'); continue; }
    if (item.op === 'delete' && !opts.confirmPrune) { skip('deletion not confirmed (--confirm-prune / confirm-prune input)'); continue; }
    const env = environmentOf(item.scope);
    if (item.kind !== 'environment' && env !== null && brokenEnvironments.has(env)) {
      results.push({ ...base, status: 'failed', detail: `environment ${env} could not be created: ${brokenEnvironments.get(env)!}` });
      continue;
    }

    let secretValue: string | null = null;
    try {
      const scope = toPortScope(item.scope);
      if (item.kind === 'environment') {
        await write(() => port.putEnvironment(opts.repo, { name: item.name, ...(item.settings ?? {}) }));
        results.push({ ...base, status: 'applied', detail: item.op === 'add' ? 'environment created' : 'environment settings updated', created: item.op === 'add' });
        continue;
      }
      if (item.op === 'delete') {
        await write(() => (item.kind === 'secret' ? port.deleteSecret(opts.repo, scope, item.name) : port.deleteVariable(opts.repo, scope, item.name)));
        results.push({ ...base, status: 'applied', detail: `${item.kind} deleted`, after_fingerprint: null });
        continue;
      }
      const resolved = await opts.values(item);
      if ('error' in resolved) {
        results.push({ ...base, status: 'failed', detail: `no value: ${resolved.error}` });
        continue;
      }
      const value = resolved.value;
      if (item.kind === 'secret') secretValue = value;
      // A variable the audit found missing is created with one POST (no PATCH -> 404 -> POST).
      const { created } = await write(() =>
        item.kind === 'secret'
          ? port.setSecret(opts.repo, scope, item.name, value)
          : item.op === 'add' && port.createVariable
            ? port.createVariable(opts.repo, scope, item.name, value)
            : port.upsertVariable(opts.repo, scope, item.name, value),
      );
      results.push({ ...base, status: 'applied', detail: `${item.kind} ${created ? 'created' : 'updated'}`, created, after_fingerprint: opts.fingerprintOf(value) });
    } catch (err) {
      const permission = permissionOf(err);
      const detail = redact(errorMessage(err), secretValue ? [secretValue] : []).split('\n')[0]!;
      if (item.kind === 'environment' && env !== null) brokenEnvironments.set(env, detail);
      results.push({ ...base, status: 'failed', detail, ...(permission ? { missingPermission: permission } : {}) });
    }
  }

  const count = (s: SyncItemResult['status']): number => results.filter((r) => r.status === s).length;
  return { results, applied: count('applied'), failed: count('failed'), skipped: count('skipped'), writeAttempts, waitedMs: pacer.waitedMs, dryRun: opts.dryRun };
}

/**
 * The value resolver the pipeline passes to `executeSync`: literals as declared, `from_env` from the
 * healer's environment, `generate` from injected cryptographic randomness.
 */
export function syncValueResolver(env: Record<string, string | undefined>, randomBytes: (n: number) => Uint8Array, refusal?: (name: string) => string | null): (item: SyncPlanItem) => Resolved {
  const fromEnv = resolveFromEnv(env, refusal);
  return (item) => {
    const source = item.source;
    if (source === undefined) return { error: `no declared source for ${item.kind} ${item.name}` };
    if (typeof source === 'object' && 'source' in source) {
      if (source.source === 'generate') return { value: generateSecretValue(source.length, source.charset, randomBytes) };
      if (source.source === 'external') return { error: 'external secrets are never written by Living Bridge' };
      return fromEnv(source);
    }
    return fromEnv(source);
  };
}
